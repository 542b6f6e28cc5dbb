// The nearest-centre counts behind the mode weights (src/metrics/cpu.ts modeWeights). One invocation
// per sample finds its nearest true centre (nearestCentre in centre_search.wgsl, which also declares the
// samples and centres). Workgroup g writes K u32 counts to partials[g * K + j], each counted by one
// invocation in a fixed order (no atomics), and the host adds them exactly (src/metrics/gpu-mode-weights.ts), so the same inputs give the same counts.

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
    best = nearestCentre(row, params.k);
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
