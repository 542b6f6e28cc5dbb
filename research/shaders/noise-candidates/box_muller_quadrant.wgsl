// Box-Muller with the angle's quadrant taken from the top two bits of its word and the angle within the
// quadrant from the next 23: no range reduction, the same minimax polynomials as shaders/philox.wgsl.

fn uniformFromWord(w: vec4<u32>) -> vec4<f32> {
  return (vec4<f32>(w >> vec4<u32>(9u)) + 0.5) * (1.0 / 8388608.0);
}

fn boxMuller(words: vec4<u32>) -> vec4<f32> {
  let u = uniformFromWord(words);
  let radius = sqrt(-2.0 * log(u.xz));
  let a = words.yw;
  // y = ((f + 0.5) / 2^23 - 1/2) pi/2 in (-pi/4, pi/4); f - (2^22 - 0.5) is exact in float32.
  let y = (vec2<f32>((a >> vec2<u32>(7u)) & vec2<u32>(0x7fffffu)) - 4194303.5) * (1.5707963267948966 / 8388608.0);
  let z = y * y;
  let s = y + y * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let qi = a >> vec2<u32>(30u);
  let swap = (qi & vec2<u32>(1u)) == vec2<u32>(1u);
  let cosValue = select(c, s, swap) * select(vec2<f32>(1.0), vec2<f32>(-1.0), (qi == vec2<u32>(1u)) | (qi == vec2<u32>(2u)));
  let sinValue = select(s, c, swap) * select(vec2<f32>(1.0), vec2<f32>(-1.0), qi >= vec2<u32>(2u));
  return vec4<f32>(radius.x * cosValue.x, radius.x * sinValue.x, radius.y * cosValue.y, radius.y * sinValue.y);
}

fn normalsFromWords(words: vec4<u32>) -> vec4<f32> {
  return boxMuller(words);
}

fn noiseBlock(key: vec2<u32>, sample: u32, block: u32, step: u32, stream: u32) -> vec4<f32> {
  return normalsFromWords(noiseWords(vec4<u32>(sample, block, step, stream), key));
}

fn noiseBlockFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<f32> {
  return normalsFromWords(noiseWordsFromRow(s, key, block));
}
