// Box-Muller with the range-reduced cosSin of shaders/philox.wgsl (today's transform).
// A uniform in (0, 1), never 0 or 1: (w >> 9 + 0.5) / 2^23 is exact in float32
// (docs/math.md's w >> 8 would need 25 bits at the top; see src/math/philox.ts).
fn uniformFromWord(w: vec4<u32>) -> vec4<f32> {
  return (vec4<f32>(w >> vec4<u32>(9u)) + 0.5) * (1.0 / 8388608.0);
}

// (cos x, sin x) for |x| <= pi + 1 ulp to about 1 ulp, from + and * only: WGSL promises its own sin and
// cos only to 2^-11 absolute, and software adapters come close to that, which would make the GPU's
// normals differ from the CPU reference's (docs/kernels.md, 'Where the kernels depart from the first
// specification'). Range reduction by the nearest multiple q of pi/2
// with pi/2 split in three parts (Cody-Waite; q <= 2, so q * part is exact), then the minimax
// polynomials of Cephes' sinf/cosf on [-pi/4, pi/4].
fn cosSin(x: vec2<f32>) -> array<vec2<f32>, 2> {
  let q = round(x * 0.6366197723675814);
  let y = ((x - q * 1.5703125) - q * 4.837512969970703e-4) - q * 7.549789954891874e-8;
  let z = y * y;
  let s = y + y * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  // Quadrant q mod 4 (q in -2..2): (cos, sin) of y rotated by q * pi/2.
  let qi = vec2<i32>(q) & vec2<i32>(3);
  let swap = (qi & vec2<i32>(1)) == vec2<i32>(1);
  let cosValue = select(c, s, swap) * select(vec2<f32>(1.0), vec2<f32>(-1.0), (qi == vec2<i32>(1)) | (qi == vec2<i32>(2)));
  let sinValue = select(s, c, swap) * select(vec2<f32>(1.0), vec2<f32>(-1.0), qi >= vec2<i32>(2));
  return array<vec2<f32>, 2>(cosValue, sinValue);
}

// Two Box-Muller pairs: words (0,1) give normals 0 and 1, words (2,3) give 2 and 3; the angle
// is 2*pi*u - pi (docs/math.md section 7).
fn boxMuller(words: vec4<u32>) -> vec4<f32> {
  let u = uniformFromWord(words);
  let radius = sqrt(-2.0 * log(u.xz));
  let angle = 6.283185307179586 * u.yw - 3.141592653589793;
  let cs = cosSin(angle);
  return vec4<f32>(radius.x * cs[0].x, radius.x * cs[1].x, radius.y * cs[0].y, radius.y * cs[1].y);
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
