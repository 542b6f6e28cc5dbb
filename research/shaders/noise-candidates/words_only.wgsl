// Diagnostic, not a generator of normals: the words' uniforms minus 1/2, so that the bench can time a
// generator without a Gaussian transform.
fn normalsFromWords(words: vec4<u32>) -> vec4<f32> {
  return (vec4<f32>(words >> vec4<u32>(9u)) + 0.5) * (1.0 / 8388608.0) - 0.5;
}

fn noiseBlock(key: vec2<u32>, sample: u32, block: u32, step: u32, stream: u32) -> vec4<f32> {
  return normalsFromWords(noiseWords(vec4<u32>(sample, block, step, stream), key));
}

fn noiseBlockFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<f32> {
  return normalsFromWords(noiseWordsFromRow(s, key, block));
}
