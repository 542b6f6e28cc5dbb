// The samplers of docs/math.md section 11 with the score of the mixture (1/K) sum_i N(a mu_i, I):
// reverse diffusion (exponential, Euler-Maruyama), Langevin, and Heun on the probability-flow ODE.
// The host records many dispatches per submission (src/sampling/gpu-sampler.ts). The loops over K and
// d/4 are #unroll blocks: unrolled on software adapters, run-time loops elsewhere (UNROLL).
// s_t(y) = a mbar(y) - y with mbar the responsibility-weighted mean of mu.
// This file gives the score as flow(y) = y + s_t(y); the samples, the step table, the uniforms, the divergence
// flag, the start (sample_run.wgsl) and the step loop (sample_loop.wgsl) are shared with the piecewise sampler.

@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>, K * D4>;  // mu, unscaled; padding 0
@group(0) @binding(5) var<storage, read> centreNorms: array<f32, K>;        // ||mu_j||^2, from the host in float64

// mbar(y) = sum_j w_j mu_j, w = softmax_j(a mu_j . y - (a^2 / 2) ||mu_j||^2) with the largest logit
// subtracted: -||y - a mu_j||^2 / 2 without its -||y||^2 / 2, which every logit shares (docs/math.md section 3).
fn meanCentre(y: array<vec4<f32>, D4>, a: f32) -> array<vec4<f32>, D4> {
  let halfA2 = 0.5 * a * a;
  var w: array<f32, K>;
  var mx = -0x1.fffffep+127f;  // the lowest f32
#unroll j K
  {
    var dotY = 0.0;
#unroll c D4
    dotY += dot(centres[{j} * D4 + {c}], y[{c}]);
#endunroll
    w[{j}] = a * dotY - halfA2 * centreNorms[{j}];
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
  var mbar: array<vec4<f32>, D4>;
#unroll c D4
  {
    var acc = vec4<f32>(0.0);
#unroll j K
    acc += w[{j}] * centres[{j} * D4 + {c}];
#endunroll
    mbar[{c}] = acc;
  }
#endunroll
  return mbar;
}

// The step loop (sample_loop.wgsl) reads 2 vec4 per step: (a, aNext, cy, cs), (cxi, h/2).
const STEP_VEC4: u32 = 2u;

// y + s_t(y) = a mbar(y) at t_k (a), or at t_{k+1} (aNext) for Heun's corrector.
fn flow(y: array<vec4<f32>, D4>, tableRow: u32, next: bool) -> array<vec4<f32>, D4> {
  let ca = stepTable[STEP_VEC4 * tableRow];
  let a = select(ca.x, ca.y, next);
  let m = meanCentre(y, a);
  var f: array<vec4<f32>, D4>;
#unroll c D4
  f[{c}] = a * m[{c}];
#endunroll
  return f;
}
