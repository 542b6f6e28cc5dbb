// The DDPM training pass for software adapters (SwiftShader and the like):
// one sample per invocation, with the loops over the K centres and the d/4
// coordinate blocks unrolled (#unroll), so that each index into `centres` and
// into the private arrays is a constant. A CPU adapter turns those into plain
// vector loads, where a run-time index costs a per-lane gather. The noise loop
// is not unrolled, and on large shapes the loops over K are run-time loops
// (BLOCK_K = 1, the 'centre-loop' plan of host/train/kernel-plan.ts). The math is
// that of tile.wgsl + ddpm_pass.wgsl (docs/math.md sections 3 to 5), per sample:
//   x = a x0 + sigma z,  w = softmax(m_j . x - ||m_j||^2/2),  r = mbar - x + z/sigma,
//   C_j = w_j (m_j . r - sum_i w_i m_i . r),  sums += w_j r + C_j x,  colsum C, ||r||^2.
// Each invocation writes its own partial (same layout as ddpm_pass.wgsl) and
// reduce.wgsl adds them in a fixed order.

@compute @workgroup_size(WG)
fn ddpmLanes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) local: u32) {
  let lane = gid.x;
  let lanes = nwg.x * WG;
  var halfNorm = laneHalfNorms(local);
  var sums: array<vec4<f32>, KP * D4>;   // W^T R + C^T X for this invocation's samples
  var colsum: array<f32, KP>;
  var squaredResiduals = 0.0;
  var x: array<vec4<f32>, D4>;
  var r: array<vec4<f32>, D4>;
  var w: array<f32, KP>;
  var coef: array<f32, KP>;
  for (var round = 0u; round < laneRounds(lanes); round++) {
    paceRound();
    let row = lane + round * lanes;
    if (row < params.rows) {
    // x_t = a_t x0 + sigma_t z; r starts as z / sigma_t (docs/math.md sections 2 and 4). A run-time loop, not
    // unrolled: it compiles faster and ran faster on SwiftShader (docs/decisions, the noise in a run-time loop).
    let noiseOfRow = rowNoise(row);
    for (var c = 0u; c < D4; c++) {
      let z = blockNoise(noiseOfRow, c);
      x[c] = params.a * data[row * D4 + c] + params.sigma * z;
      r[c] = params.invSigma * z;
    }
    // Logits m_j . x - ||m_j||^2 / 2 and their max-subtracted softmax (docs/math.md section 3).
    laneResponsibilities(&x, &halfNorm, &w);
    // r = mbar - x + z / sigma_t, and ||r||^2 for the loss (docs/math.md section 4).
#unroll c D4
    {
      var mbar = vec4<f32>(0.0);
#unroll j K
      mbar += w[{j}] * centres[{j} * D4 + {c}];
#endunroll
      let res = mbar - x[{c}] + r[{c}];
      r[{c}] = res;
      squaredResiduals += dot(res, res);
    }
#endunroll
    // C_j = w_j (m_j - mbar) . r = w_j (m_j . r - sum_i w_i m_i . r) (docs/math.md section 5).
    var mr = 0.0;
#unroll j K
    {
      var q = 0.0;
#unroll c D4
      q += dot(centres[{j} * D4 + {c}], r[{c}]);
#endunroll
      coef[{j}] = q;
      mr += w[{j}] * q;
    }
#endunroll
#unroll j K
    coef[{j}] = w[{j}] * (coef[{j}] - mr);
    colsum[{j}] += coef[{j}];
#endunroll
    // The sample's share of W^T R + C^T X (docs/math.md section 5, matrix form).
#unroll j K
#unroll c D4
    sums[{j} * D4 + {c}] += w[{j}] * r[{c}] + coef[{j}] * x[{c}];
#endunroll
#endunroll
    }
  }
  writeLanePartial(lane, &sums, &colsum, squaredResiduals);
}
