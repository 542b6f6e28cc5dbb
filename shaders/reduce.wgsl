// The deterministic second pass: the sum of the per-workgroup partials, in the
// order of the workgroups, for every entry of the partial layout
// (docs/architecture.md, 'Deterministic reductions').

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> totals: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: ReduceParams;

@compute @workgroup_size(64)
fn reducePartials(@builtin(local_invocation_index) lid: u32,
                  @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  // Dispatches over 65,535 workgroups are folded into 2-D grids by the host.
  let entry = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (entry >= PARTIAL_STRIDE4) {
    return;
  }
  var total = vec4<f32>(0.0);
  for (var g = 0u; g < params.partialCount; g++) {
    total += partials[g * PARTIAL_STRIDE4 + entry];
  }
  totals[entry] = total;
}
