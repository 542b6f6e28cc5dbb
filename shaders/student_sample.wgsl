// The samplers of docs/math.md section 11 with the score of the general student (docs/math.md section 14):
// q_t = sum_j pi_j N(a mu_j, diag(v_j)), v_j = a^2 c_j + sigma_t^2, s_t(y) = sum_j w_j(y) (a mu_j - y) / v_j.
// The per-time numbers come from the host in float64, rounded once (src/sampling/gpu-student-sampler.ts): each
// step's table holds (a, aNext, cy, cs), (cxi, h/2, 0, 0), then at t_k the precisions 1/v_j (K x D4 vec4, padding
// 0) and the log-constants log pi_j - (1/2) sum_c log v_jc (K4 vec4), and with HEUN the same at t_{k+1}.
// This file gives the score as flow(y) = y + s_t(y); the samples, the step table, the uniforms, the divergence
// flag, the start (sample_run.wgsl) and the step loop (sample_loop.wgsl) are shared with the other samplers.

@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>, K * D4>;  // mu, unscaled; padding 0

// vec4 per time: the precisions, then the log-constants.
const TIME_VEC4: u32 = K * D4 + K4;
#if ${HEUN}
const STEP_VEC4: u32 = 2u + 2u * TIME_VEC4;
#else
const STEP_VEC4: u32 = 2u + TIME_VEC4;
#endif

// s(y) = sum_j w_j p_j (a mu_j - y), w = softmax_j(l_j - (1/2) sum_c p_jc (y_c - a mu_jc)^2) with the largest
// logit subtracted (docs/math.md section 14); p and l start at stepTable[base].
fn studentScore(y: array<vec4<f32>, D4>, a: f32, base: u32) -> array<vec4<f32>, D4> {
  var w: array<f32, K>;
  var mx = -0x1.fffffep+127f;  // the lowest f32
#unroll j K
  {
    var q = vec4<f32>(0.0);
#unroll c D4
    {
      let u = y[{c}] - a * centres[{j} * D4 + {c}];
      q += stepTable[base + {j} * D4 + {c}] * (u * u);
    }
#endunroll
    w[{j}] = stepTable[base + K * D4 + {j} / 4u][{j} % 4u] - 0.5 * ((q.x + q.y) + (q.z + q.w));
    mx = max(mx, w[{j}]);
  }
#endunroll
  var total = 0.0;
#unroll j K
  w[{j}] = exp(w[{j}] - mx);
  total += w[{j}];
#endunroll
  let inv = 1.0 / total;
#unroll j K
  w[{j}] *= inv;
#endunroll
  var s: array<vec4<f32>, D4>;
#unroll c D4
  {
    var acc = vec4<f32>(0.0);
#unroll j K
    acc += (w[{j}] * stepTable[base + {j} * D4 + {c}]) * (a * centres[{j} * D4 + {c}] - y[{c}]);
#endunroll
    s[{c}] = acc;
  }
#endunroll
  return s;
}

// y + s_t(y) at t_k (a and the first time's numbers), or at t_{k+1} (aNext, the second) for Heun's corrector.
fn flow(y: array<vec4<f32>, D4>, tableRow: u32, next: bool) -> array<vec4<f32>, D4> {
  let row = STEP_VEC4 * tableRow;
  let ca = stepTable[row];
  let s = studentScore(y, select(ca.x, ca.y, next), row + 2u + select(0u, TIME_VEC4, next));
  var f: array<vec4<f32>, D4>;
#unroll c D4
  f[{c}] = y[{c}] + s[{c}];
#endunroll
  return f;
}
