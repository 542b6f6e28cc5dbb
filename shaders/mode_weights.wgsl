// The nearest-centre counts behind the mode weights (src/metrics/cpu.ts modeWeights). One invocation
// per sample finds argmin_j ||x - mu_j||^2 over the K true centres (float32; ties to the lowest index, as
// on the CPU: a later centre wins only when strictly nearer). Workgroup g writes K u32 counts to
// partials[g * K + j], each counted by one invocation in a fixed order (no atomics), and the host adds
// them exactly (src/metrics/gpu-mode-weights.ts), so the same inputs give the same counts.

@group(0) @binding(0) var<storage, read> samples: array<vec4<f32>>;     // this chunk, rows x D4
@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>>;     // K x D4
@group(0) @binding(2) var<storage, read_write> partials: array<u32>;    // K per workgroup
@group(0) @binding(3) var<uniform> params: ModeParams;

var<workgroup> nearest: array<u32, WG>;

@compute @workgroup_size(WG)
fn modeCounts(@builtin(local_invocation_index) lid: u32,
              @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  // Dispatches over 65,535 workgroups are folded into 2-D grids by the host.
  let group = wid.x + wid.y * nwg.x;
  if (group >= params.groups) {
    return;
  }
  let row = params.firstRow + group * WG + lid;
  var best = 0xffffffffu;  // rows past the end count for no centre
  if (row < params.rows) {
    var bestSq = 0.0;
    for (var j = 0u; j < params.k; j++) {
      var squares = vec4<f32>(0.0);
      for (var c = 0u; c < D4; c++) {
        let diff = samples[row * D4 + c] - centres[j * D4 + c];
        squares += diff * diff;
      }
      let sq = (squares.x + squares.y) + (squares.z + squares.w);
      if (j == 0u || sq < bestSq) {
        bestSq = sq;
        best = j;
      }
    }
  }
  nearest[lid] = best;
  workgroupBarrier();
  for (var j = lid; j < params.k; j += WG) {
    var count = 0u;
    for (var i = 0u; i < WG; i++) {
      count += select(0u, 1u, nearest[i] == j);
    }
    partials[group * params.k + j] = count;
  }
}
