// Philox4x32-7 and Box-Muller, docs/math.md section 7. The CPU reference
// (src/math/philox.ts) produces the same 32-bit words bit for bit.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
// Seven rounds, the fewest that pass BigCrush (Salmon et al., SC'11): chosen for speed in docs/performance.md.
const PHILOX_ROUNDS: u32 = 7u;

// The high 32 bits of the 64-bit product a * b from 16-bit pieces: WGSL has no 64-bit integers.
// (a_lo b_lo >> 16) + a_lo b_hi < 2^32 cannot overflow; adding a_hi b_lo can, once, and then wraps below it.
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let hl = a_hi * b_lo;
  let mid = ((a_lo * b_lo) >> 16u) + a_lo * b_hi + hl;
  return a_hi * b_hi + (mid >> 16u) + select(0u, 0x10000u, mid < hl);
}

fn philoxRound(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  let hi0 = mulhi32(PHILOX_M0, c.x);
  let lo0 = PHILOX_M0 * c.x;
  let hi1 = mulhi32(PHILOX_M1, c.z);
  let lo1 = PHILOX_M1 * c.z;
  return vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

// Philox4x32 with `rounds` rounds (the known-answer tests run 7 and 10; the noise PHILOX_ROUNDS).
fn philox4x32(counter: vec4<u32>, key: vec2<u32>, rounds: u32) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 1u; round < rounds; round++) {
    c = philoxRound(c, k);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return philoxRound(c, k);
}

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

// Normals 4*block .. 4*block+3 of sample n at step `step` (counter layout of docs/math.md section 7).
fn noiseBlock(key: vec2<u32>, sample: u32, block: u32, step: u32, stream: u32) -> vec4<f32> {
  return boxMuller(philox4x32(vec4<u32>(sample, block, step, stream), key, PHILOX_ROUNDS));
}

// ---- The same noise, with the work that does not depend on the coordinate block hoisted ----
// With counter (sample, block, step, stream), Philox's first rounds multiply words that depend on the
// sample (and step) only: round 1 both products, round 2 the M1 product, round 3 the M0 product.
// noiseRowState computes them once per sample; noiseBlockFromRow finishes each block. Bit-identical
// to noiseBlock (the seeded-noise tests compare the lane kernel that uses it with the probe that does not).

struct NoiseRowState {
  c1x: u32,   // round 1 output word x, before the block is xored in
  c1w: u32,
  c2y: u32,
  c2x: u32,
  a3hi: u32,  // round 3: mulhi(M0, c2.x) and its low word
  a3lo: u32,
}

fn noiseRowState(key: vec2<u32>, sample: u32, step: u32, stream: u32) -> NoiseRowState {
  let k1 = key + vec2<u32>(PHILOX_W0, PHILOX_W1);
  // Round 1 on (sample, block, step, stream): x = hi(M1 step) ^ block ^ k0, y = lo(M1 step), z = hi(M0 sample) ^ stream ^ k1, w = lo(M0 sample).
  let c1y = PHILOX_M1 * step;
  let c1z = mulhi32(PHILOX_M0, sample) ^ stream ^ key.y;
  // Round 2: y and x come from M1 * c1.z (sample only); z, w from M0 * c1.x (block).
  let c2x = mulhi32(PHILOX_M1, c1z) ^ c1y ^ k1.x;
  return NoiseRowState(mulhi32(PHILOX_M1, step) ^ key.x, PHILOX_M0 * sample, PHILOX_M1 * c1z, c2x,
                       mulhi32(PHILOX_M0, c2x), PHILOX_M0 * c2x);
}

fn noiseBlockFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<f32> {
  let k1 = key + vec2<u32>(PHILOX_W0, PHILOX_W1);
  let k2 = k1 + vec2<u32>(PHILOX_W0, PHILOX_W1);
  let c1x = s.c1x ^ block;
  let c2z = mulhi32(PHILOX_M0, c1x) ^ s.c1w ^ k1.y;
  let c2w = PHILOX_M0 * c1x;
  // Round 3: x, y from M1 * c2.z; z, w from the hoisted M0 * c2.x.
  var c = vec4<u32>(mulhi32(PHILOX_M1, c2z) ^ s.c2y ^ k2.x, PHILOX_M1 * c2z, s.a3hi ^ c2w ^ k2.y, s.a3lo);
  var k = k2 + vec2<u32>(PHILOX_W0, PHILOX_W1);
  for (var round = 4u; round < PHILOX_ROUNDS; round++) {
    c = philoxRound(c, k);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return boxMuller(philoxRound(c, k));
}
