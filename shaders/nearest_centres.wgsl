// The hard assignment of each sample (src/metrics/cpu.ts nearestCentres): the index of its nearest centre, one
// invocation per row of the chunk, written as a u32 per row. The search is nearestCentre (centre_search.wgsl, which
// also declares the samples and centres), the one the mode weights count, so both give the same centre.

@group(0) @binding(2) var<storage, read_write> labels: array<u32>;      // one per row of this chunk
@group(0) @binding(3) var<uniform> params: NearestParams;

@compute @workgroup_size(WG)
fn nearestCentres(@builtin(local_invocation_index) lid: u32,
                  @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  // Dispatches over 65,535 workgroups are folded into 2-D grids by the host; the groups past the rows write nothing.
  let row = (wid.x + wid.y * nwg.x) * WG + lid;
  if (row < params.rows) {
    labels[row] = nearestCentre(row, params.k);
  }
}
