// What every sampler kernel shares (sample_step.wgsl: the mixture score; piecewise_sample.wgsl: the piecewise
// score): the samples of this chunk, the step table, the uniforms, the divergence flag, the rows an invocation
// walks, and the N(0, I) start. The host's side is src/sampling/gpu-sampler.ts runSampler.

@group(0) @binding(0) var<storage, read_write> samples: array<vec4<f32>>;    // rows x D4, this chunk
@group(0) @binding(2) var<storage, read> stepTable: array<vec4<f32>>;       // a few vec4 per step (the kernel's own layout)
@group(0) @binding(3) var<uniform> params: SampleParams;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;  // [first non-finite step]

const NO_STEP: u32 = 0xffffffffu;

// Coordinates of the last block beyond D are padding: their noise must stay 0, so y's padding does.
fn samplePadding(c4: u32, v: vec4<f32>) -> vec4<f32> {
  let lane = vec4<u32>(4u * c4) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), v, lane < vec4<u32>(D));
}

// Inf or NaN, read from the exponent bits: a compiler may assume float values are finite.
fn nonFinite(v: vec4<f32>) -> bool {
  return any((bitcast<vec4<u32>>(v) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u));
}

// Rows lane, lane + lanes, ...: one per invocation on GPUs; on software adapters a few invocations walk all the
// rows, since each invocation there costs a fixed set-up (src/sampling/gpu-sampler.ts). Folded 2-D grids count as one.
fn laneOf(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  return vec2<u32>((wid.x + wid.y * nwg.x) * WG + lid, nwg.x * nwg.y * WG);
}

// The start y_0 ~ N(0, I): Philox counter step 0 of the sampler stream (docs/math.md section 11), once per run.
@compute @workgroup_size(WG)
fn sampleStart(@builtin(local_invocation_index) lid: u32,
               @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let lanes = laneOf(lid, wid, nwg);
  let key = vec2<u32>(params.seedLo, params.seedHi);
  for (var row = lanes.x; row < params.rows; row += lanes.y) {
    let start = noiseRowState(key, params.chunkBase + row, 0u, STREAM);
    for (var c = 0u; c < D4; c++) {  // not unrolled: see the noise loop of sample_loop.wgsl
      samples[row * D4 + c] = samplePadding(c, noiseBlockFromRow(start, key, c));
    }
  }
}
