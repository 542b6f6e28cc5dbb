// The samplers of docs/math.md section 11 with a piecewise-polynomial score (docs/math.md section 13; host/piecewise-
// sampler.ts): the same integrators as sample_step.wgsl, with s_t(y) = (1 - w) s_lo(y) + w s_hi(y) and
// s_l(y) = sum_f phi_f(y - c_j) coef_l[j p + f, :], j the nearest cell of level l (piecewise_cells.wgsl).
// The step table has 3 vec4 per step: (a, aNext, cy, cs), (cxi, h/2, w, wNext), and the bits of the u32s
// (lo, hi, loNext, hiNext); the levels and weights come from levelWeights on the host. This file gives the score as
// flow(y) = y + s_t(y); the bindings and the start (sample_run.wgsl) and the step loop (sample_loop.wgsl) are shared.

@group(0) @binding(5) var<storage, read> coef: array<vec4<f32>>;     // per cell 4 PF4 rows of D4: phi's padded slots
@group(0) @binding(6) var<storage, read> levels: array<vec4<u32>>;   // per level (first cell, cells, 0, 0)

// s_l(y): phi(u) in vec4 blocks (u, u * u at QUADRATIC, (1, 0, 0, 0)), each lane times its coefficient row.
fn levelScore(y: array<vec4<f32>, D4>, level: u32) -> array<vec4<f32>, D4> {
  let info = levels[level];
  let j = info.x + nearestCell(y, info.x, info.y);
  let rows = j * 4u * PF4;
  var s: array<vec4<f32>, D4>;
#unroll b D4
  {
    let u = y[{b}] - cells[j * D4 + {b}];
    let r = (rows + 4u * {b}) * D4;
#unroll c D4
    s[{c}] += u.x * coef[r + {c}] + u.y * coef[r + D4 + {c}] + u.z * coef[r + 2u * D4 + {c}] + u.w * coef[r + 3u * D4 + {c}];
#endunroll
#if ${QUADRATIC}
    let uu = u * u;
    let rq = (rows + 4u * (D4 + {b})) * D4;
#unroll c D4
    s[{c}] += uu.x * coef[rq + {c}] + uu.y * coef[rq + D4 + {c}] + uu.z * coef[rq + 2u * D4 + {c}] + uu.w * coef[rq + 3u * D4 + {c}];
#endunroll
#endif
  }
#endunroll
  let r1 = (rows + 4u * (PF4 - 1u)) * D4;
#unroll c D4
  s[{c}] += coef[r1 + {c}];
#endunroll
  return s;
}

// (1 - w) s_lo + w s_hi, written s_lo + w (s_hi - s_lo); one level when w = 0 (the same for every invocation).
fn pieceScore(y: array<vec4<f32>, D4>, lo: u32, hi: u32, w: f32) -> array<vec4<f32>, D4> {
  var s = levelScore(y, lo);
  if (w != 0.0) {
    let sh = levelScore(y, hi);
#unroll c D4
    s[{c}] += w * (sh[{c}] - s[{c}]);
#endunroll
  }
  return s;
}

// The step loop (sample_loop.wgsl) reads 3 vec4 per step (see the header).
const STEP_VEC4: u32 = 3u;

// y + s_t(y) at t_k, or at t_{k+1} for Heun's corrector: the levels and weight of that time from the step table.
fn flow(y: array<vec4<f32>, D4>, tableRow: u32, next: bool) -> array<vec4<f32>, D4> {
  let cb = stepTable[STEP_VEC4 * tableRow + 1u];
  let cl = bitcast<vec4<u32>>(stepTable[STEP_VEC4 * tableRow + 2u]);
  let s = pieceScore(y, select(cl.x, cl.z, next), select(cl.y, cl.w, next), select(cb.z, cb.w, next));
  var f: array<vec4<f32>, D4>;
#unroll c D4
  f[{c}] = y[{c}] + s[{c}];
#endunroll
  return f;
}
