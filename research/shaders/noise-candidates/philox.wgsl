// Philox4x32-R (Salmon et al., SC'11) with the row hoisting of shaders/philox.wgsl; needs
// PHILOX_ROUNDS (>= 4) and a mulhi32 (mulhi_split.wgsl or mulhi_carry.wgsl).

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W: vec2<u32> = vec2<u32>(0x9E3779B9u, 0xBB67AE85u);

fn philoxRound(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  return vec4<u32>(mulhi32(PHILOX_M1, c.z) ^ c.y ^ k.x, PHILOX_M1 * c.z, mulhi32(PHILOX_M0, c.x) ^ c.w ^ k.y, PHILOX_M0 * c.x);
}

fn noiseWords(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 1u; round < PHILOX_ROUNDS; round++) {
    c = philoxRound(c, k);
    k += PHILOX_W;
  }
  return philoxRound(c, k);
}

struct NoiseRowState {
  c1x: u32,
  c1w: u32,
  c2y: u32,
  c2x: u32,
  a3hi: u32,
  a3lo: u32,
}

fn noiseRowState(key: vec2<u32>, sample: u32, step: u32, stream: u32) -> NoiseRowState {
  let k1 = key + PHILOX_W;
  let c1y = PHILOX_M1 * step;
  let c1z = mulhi32(PHILOX_M0, sample) ^ stream ^ key.y;
  let c2x = mulhi32(PHILOX_M1, c1z) ^ c1y ^ k1.x;
  return NoiseRowState(mulhi32(PHILOX_M1, step) ^ key.x, PHILOX_M0 * sample, PHILOX_M1 * c1z, c2x,
                       mulhi32(PHILOX_M0, c2x), PHILOX_M0 * c2x);
}

fn noiseWordsFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<u32> {
  let k1 = key + PHILOX_W;
  let k2 = k1 + PHILOX_W;
  let c1x = s.c1x ^ block;
  let c2z = mulhi32(PHILOX_M0, c1x) ^ s.c1w ^ k1.y;
  let c2w = PHILOX_M0 * c1x;
  var c = vec4<u32>(mulhi32(PHILOX_M1, c2z) ^ s.c2y ^ k2.x, PHILOX_M1 * c2z, s.a3hi ^ c2w ^ k2.y, s.a3lo);
  var k = k2 + PHILOX_W;
  for (var round = 4u; round < PHILOX_ROUNDS; round++) {
    c = philoxRound(c, k);
    k += PHILOX_W;
  }
  return philoxRound(c, k);
}
