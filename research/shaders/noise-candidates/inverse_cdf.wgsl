// One normal per word by the inverse CDF: z = sqrt(2) erfinv(2u - 1) with Giles' single-precision
// erfinv (GPU Computing Gems, 2011): one log per normal, both polynomial branches evaluated per lane.

fn normalsFromWords(words: vec4<u32>) -> vec4<f32> {
  let u = (vec4<f32>(words >> vec4<u32>(9u)) + 0.5) * (1.0 / 8388608.0);
  let x = 2.0 * u - 1.0;
  // (1 - x)(1 + x) = 4 u (1 - u); both factors are exact in float32.
  let w = -log((1.0 - x) * (1.0 + x));
  let wc = w - 2.5;
  var p = 2.81022636e-08 + 0.0 * wc;
  p = 3.43273939e-07 + p * wc;
  p = -3.5233877e-06 + p * wc;
  p = -4.39150654e-06 + p * wc;
  p = 0.00021858087 + p * wc;
  p = -0.00125372503 + p * wc;
  p = -0.00417768164 + p * wc;
  p = 0.246640727 + p * wc;
  p = 1.50140941 + p * wc;
  let wt = sqrt(w) - 3.0;
  var q = -0.000200214257 + 0.0 * wt;
  q = 0.000100950558 + q * wt;
  q = 0.00134934322 + q * wt;
  q = -0.00367342844 + q * wt;
  q = 0.00573950773 + q * wt;
  q = -0.0076224613 + q * wt;
  q = 0.00943887047 + q * wt;
  q = 1.00167406 + q * wt;
  q = 2.83297682 + q * wt;
  return 1.4142135623730951 * select(q, p, w < vec4<f32>(5.0)) * x;
}

fn noiseBlock(key: vec2<u32>, sample: u32, block: u32, step: u32, stream: u32) -> vec4<f32> {
  return normalsFromWords(noiseWords(vec4<u32>(sample, block, step, stream), key));
}

fn noiseBlockFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<f32> {
  return normalsFromWords(noiseWordsFromRow(s, key, block));
}
