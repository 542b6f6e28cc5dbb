// Small entry points for tests, built from the same functions as the fused
// DDPM pass (docs/architecture.md, 'One WGSL function per piece of math'):
// the noise z, and the responsibilities at the noisy points x_t. Compiled
// together with tile.wgsl, philox.wgsl and ddpm_pass.wgsl.

@group(0) @binding(6) var<storage, read_write> probeOut: array<vec4<f32>>;

// z for every (row, coordinate block): rows x D4.
@compute @workgroup_size(64)
fn noiseProbe(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let item = gid.x + gid.y * nwg.x * 64u;
  if (item >= params.rows * D4) {
    return;
  }
  probeOut[item] = sampleNoise(item / D4, item % D4);
}

// w_j(x_t) for every row: rows x K4, one workgroup per tile (folded into 2-D grids).
@compute @workgroup_size(WG)
fn responsibilitiesProbe(@builtin(local_invocation_index) lid: u32,
                         @builtin(workgroup_id) wid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  let tiles = (params.rows + T - 1u) / T;
  if (tile >= tiles) {
    return;
  }
  let tileStart = tile * T;
  let valid = min(T, params.rows - tileStart);
  computeHalfNorms(lid);
  loadNoisyTile(lid, tileStart, valid);
  workgroupBarrier();
  tileLogits(lid);
  workgroupBarrier();
  tileSoftmax(lid, valid);
  workgroupBarrier();
  for (var item = lid; item < valid * K4; item += WG) {
    probeOut[tileStart * K4 + item] = ws[item];
  }
}
