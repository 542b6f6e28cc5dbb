// Diagnostic, not a generator: one multiply and xor per word (a Weyl-style scramble of the counter), so
// that the bench can time a Gaussian transform without a generator.
fn noiseWords(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  return (counter ^ vec4<u32>(key, key)) * vec4<u32>(0x9E3779B9u, 0xBB67AE85u, 0xD2511F53u, 0xCD9E8D57u);
}

struct NoiseRowState {
  sample: u32,
  step: u32,
  stream: u32,
}

fn noiseRowState(key: vec2<u32>, sample: u32, step: u32, stream: u32) -> NoiseRowState {
  return NoiseRowState(sample, step, stream);
}

fn noiseWordsFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<u32> {
  return noiseWords(vec4<u32>(s.sample * 0x10001u + block, block ^ s.sample, s.step, s.stream), key);
}
