// What every pass over the data reads and writes, and where its noise comes
// from (docs/math.md section 7). Rows of `centres` beyond K and coordinates beyond
// D are zero. `centres` has a fixed size so that constant indices stay
// constant (no run-time bounds clamp), which software adapters reward.

@group(0) @binding(0) var<storage, read> data: array<vec4<f32>>;                // rows x D4, this chunk of X0
@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>, KP * D4>;    // m (DDPM) or mu (EM)
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>;      // PARTIAL_STRIDE4 per partial
@group(0) @binding(3) var<uniform> params: PassParams;
@group(0) @binding(4) var<storage, read> stepState: array<u32>;                 // [global step, local step]
#if ${EXPLICIT_NOISE}
@group(0) @binding(5) var<storage, read> noise: array<vec4<f32>>;              // rows x D4, an explicit Z
#endif

// Coordinates of the last block beyond D are padding: their noise must be 0.
fn maskPadding(c4: u32, v: vec4<f32>) -> vec4<f32> {
  let lane = vec4<u32>(4u * c4) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), v, lane < vec4<u32>(D));
}

// z for sample `row` of this chunk, coordinates 4*c4 .. 4*c4+3 (docs/math.md section 7).
fn sampleNoise(row: u32, c4: u32) -> vec4<f32> {
#if ${EXPLICIT_NOISE}
  return noise[row * D4 + c4];
#else
  let step = select(params.fixedStep, stepState[0], params.freshNoise != 0u);
  let key = vec2<u32>(params.seedLo, params.seedHi);
  return maskPadding(c4, noiseBlock(key, params.chunkBase + row, c4, step, 0u));
#endif
}

// The noise of one sample, split so that work shared by its coordinate blocks is done once
// (philox.wgsl noiseRowState); the same numbers as sampleNoise.
#if ${EXPLICIT_NOISE}
alias RowNoise = u32;

fn rowNoise(row: u32) -> RowNoise {
  return row;
}

fn blockNoise(r: RowNoise, c4: u32) -> vec4<f32> {
  return noise[r * D4 + c4];
}
#else
alias RowNoise = NoiseRowState;

fn rowNoise(row: u32) -> RowNoise {
  let step = select(params.fixedStep, stepState[0], params.freshNoise != 0u);
  return noiseRowState(vec2<u32>(params.seedLo, params.seedHi), params.chunkBase + row, step, 0u);
}

fn blockNoise(r: RowNoise, c4: u32) -> vec4<f32> {
  return maskPadding(c4, noiseBlockFromRow(r, vec2<u32>(params.seedLo, params.seedHi), c4));
}
#endif
