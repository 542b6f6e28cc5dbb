// The DDPM pass of the general student (docs/math.md section 14), one sample per invocation with run-time loops
// over the K components and the d/4 coordinate blocks. Per sample, with v_ij = a_t^2 c_ij + sigma_t^2 given as
// the precisions p = 1/v and logConst_i = log pi_i - (1/2) sum_j log v_ij (student_update.wgsl computes both):
//   x = a x0 + sigma z,  e_ij = (m_ij - x_j) p_ij,  logit_i = logConst_i - (1/2) sum_j (m_ij - x_j) e_ij,
//   w = softmax(logit),  r = sum_i w_i e_i + z / sigma,  g_i = r . e_i,  h_i = w_i (g_i - sum_k w_k g_k),
//   sums += (w_i r_j p_ij - h_i e_ij,  -w_i r_j e_ij p_ij + h_i (e_ij^2 - p_ij) / 2),  colsum += h,  ||r||^2.
// At p = 1 and equal weights this is ddpm_lanes.wgsl's math, but the paper's student never runs it (its bits
// stay those of the DDPM passes). Each invocation writes one partial (STUDENT_STRIDE4 vec4: the K x d sums in m,
// then in v, then K4 column sums of h, then the loss) and reduce.wgsl adds them in a fixed order.

@group(0) @binding(6) var<storage, read> precisions: array<vec4<f32>, KP * D4>;   // 1 / v_ij; 1 in padding
@group(0) @binding(7) var<storage, read> logConst: array<f32, KP>;                // log pi_i - (1/2) sum_j log v_ij

// e_i for one block of coordinates: (m_i - x) / v_i (docs/math.md section 14).
fn componentScore(i: u32, c: u32, x: vec4<f32>) -> vec4<f32> {
  return (centres[i * D4 + c] - x) * precisions[i * D4 + c];
}

@compute @workgroup_size(WG)
fn studentLanes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lane = gid.x;
  let lanes = nwg.x * WG;
  var sumsM: array<vec4<f32>, KP * D4>;
  var sumsV: array<vec4<f32>, KP * D4>;
  var colsum: array<f32, KP>;
  var squaredResiduals = 0.0;
  var x: array<vec4<f32>, D4>;
  var r: array<vec4<f32>, D4>;
  var w: array<f32, KP>;
  var g: array<f32, KP>;
  for (var row = lane; row < params.rows; row += lanes) {
    // x_t = a_t x0 + sigma_t z; r starts as z / sigma_t (docs/math.md sections 2 and 4).
    let noiseOfRow = rowNoise(row);
    for (var c = 0u; c < D4; c++) {
      let z = blockNoise(noiseOfRow, c);
      x[c] = params.a * data[row * D4 + c] + params.sigma * z;
      r[c] = params.invSigma * z;
    }
    // Logits with the component's own variances and weight, and their max-subtracted softmax.
    var mx = -3.0e38;
    for (var i = 0u; i < K; i++) {
      var q = 0.0;
      for (var c = 0u; c < D4; c++) {
        q += dot(centres[i * D4 + c] - x[c], componentScore(i, c, x[c]));
      }
      w[i] = logConst[i] - 0.5 * q;
      mx = max(mx, w[i]);
    }
    var total = 0.0;
    for (var i = 0u; i < K; i++) {
      w[i] = exp(w[i] - mx);
      total += w[i];
    }
    let inv = 1.0 / total;
    for (var i = 0u; i < K; i++) {
      w[i] *= inv;
    }
    // r = s + z / sigma_t with s = sum_i w_i e_i, and ||r||^2 for the loss (docs/math.md sections 4 and 14).
    for (var c = 0u; c < D4; c++) {
      var s = vec4<f32>(0.0);
      for (var i = 0u; i < K; i++) {
        s += w[i] * componentScore(i, c, x[c]);
      }
      let res = s + r[c];
      r[c] = res;
      squaredResiduals += dot(res, res);
    }
    // g_i = r . e_i and h_i = w_i (g_i - sum_k w_k g_k): the softmax's share of every gradient.
    var gbar = 0.0;
    for (var i = 0u; i < K; i++) {
      var gi = 0.0;
      for (var c = 0u; c < D4; c++) {
        gi += dot(r[c], componentScore(i, c, x[c]));
      }
      g[i] = gi;
      gbar += w[i] * gi;
    }
    for (var i = 0u; i < K; i++) {
      let h = w[i] * (g[i] - gbar);
      colsum[i] += h;
      for (var c = 0u; c < D4; c++) {
        let p = precisions[i * D4 + c];
        let e = (centres[i * D4 + c] - x[c]) * p;
        sumsM[i * D4 + c] += w[i] * r[c] * p - h * e;
        sumsV[i * D4 + c] += -w[i] * r[c] * e * p + 0.5 * h * (e * e - p);
      }
    }
  }
  let base = (params.partialBase + lane) * STUDENT_STRIDE4;
  for (var e = 0u; e < KP * D4; e++) {
    partials[base + e] = sumsM[e];
    partials[base + KP * D4 + e] = sumsV[e];
  }
  for (var jb = 0u; jb < K4; jb++) {
    partials[base + 2u * KP * D4 + jb] = vec4<f32>(colsum[4u * jb], colsum[4u * jb + 1u], colsum[4u * jb + 2u], colsum[4u * jb + 3u]);
  }
  partials[base + 2u * KP * D4 + K4] = vec4<f32>(squaredResiduals, 0.0, 0.0, 0.0);
}
