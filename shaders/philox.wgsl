// Philox4x32-10 and Box-Muller, MATH.md section 7. The CPU reference
// (src/math/philox.ts) produces the same 32-bit words bit for bit.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// The high 32 bits of the 64-bit product a * b: WGSL has no 64-bit integers.
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let mid = ((a_lo * b_lo) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return a_hi * b_hi + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philoxRound(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  let hi0 = mulhi32(PHILOX_M0, c.x);
  let lo0 = PHILOX_M0 * c.x;
  let hi1 = mulhi32(PHILOX_M1, c.z);
  let lo1 = PHILOX_M1 * c.z;
  return vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 9u; round++) {
    c = philoxRound(c, k);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return philoxRound(c, k);
}

// A uniform in (0, 1), never 0 or 1: (w >> 9 + 0.5) / 2^23 is exact in float32
// (MATH.md's w >> 8 would need 25 bits at the top; see src/math/philox.ts).
fn uniformFromWord(w: vec4<u32>) -> vec4<f32> {
  return (vec4<f32>(w >> vec4<u32>(9u)) + 0.5) * (1.0 / 8388608.0);
}

// Two Box-Muller pairs: words (0,1) give normals 0 and 1, words (2,3) give 2 and 3.
// The angle 2*pi*u - pi stays inside [-pi, pi], where WGSL's sin and cos are accurate.
fn boxMuller(words: vec4<u32>) -> vec4<f32> {
  let u = uniformFromWord(words);
  let radius = sqrt(-2.0 * log(u.xz));
  let angle = 6.283185307179586 * u.yw - 3.141592653589793;
  return vec4<f32>(radius.x * cos(angle.x), radius.x * sin(angle.x), radius.y * cos(angle.y), radius.y * sin(angle.y));
}

// Normals 4*block .. 4*block+3 of sample n at step `step` (counter layout of MATH.md section 7).
fn noiseBlock(key: vec2<u32>, sample: u32, block: u32, step: u32, stream: u32) -> vec4<f32> {
  return boxMuller(philox4x32_10(vec4<u32>(sample, block, step, stream), key));
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
  for (var round = 3u; round < 9u; round++) {
    c = philoxRound(c, k);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return boxMuller(philoxRound(c, k));
}
