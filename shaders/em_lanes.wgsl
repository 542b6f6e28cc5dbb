// The EM pass for software adapters: one sample per invocation with the loops
// over the K centres and the d/4 coordinate blocks unrolled, as in
// ddpm_lanes.wgsl (a CPU adapter turns constant indices into plain vector
// loads). The math is that of em_pass.wgsl (docs/math.md section 9), per sample:
//   w = softmax(mu_j . x - ||mu_j||^2/2),  sums += w_j x,  colsum w_j,  log sum exp.
// Each invocation writes its own partial (the DDPM pass's layout) and
// reduce.wgsl adds them in a fixed order.

@compute @workgroup_size(WG)
fn emLanes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) local: u32) {
  let lane = gid.x;
  let lanes = nwg.x * WG;
  var halfNorm = laneHalfNorms(local);
  var sums: array<vec4<f32>, KP * D4>;   // W^T X for this invocation's samples
  var colsum: array<f32, KP>;
  var logLikelihood = 0.0;
  var x: array<vec4<f32>, D4>;
  var w: array<f32, KP>;
  for (var round = 0u; round < laneRounds(lanes); round++) {
    paceRound();
    let row = lane + round * lanes;
    if (row < params.rows) {
#unroll c D4
    x[{c}] = data[row * D4 + {c}];
#endunroll
    // Max-subtracted softmax of the logits (never overflows), as softmaxRow in tile.wgsl.
    logLikelihood += laneResponsibilities(&x, &halfNorm, &w);
#unroll j K
    colsum[{j}] += w[{j}];
#endunroll
#unroll j K
#unroll c D4
    sums[{j} * D4 + {c}] += w[{j}] * x[{c}];
#endunroll
#endunroll
    }
  }
  writeLanePartial(lane, &sums, &colsum, logLikelihood);
}
