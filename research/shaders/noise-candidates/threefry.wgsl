// Threefry4x32-R (Salmon et al., SC'11; Random123's threefry.h): add, rotate, xor; a key word injected
// every four rounds. Key (key.x, key.y, 0, 0); needs THREEFRY_ROUNDS = 13 or 20.

const THREEFRY_PARITY: u32 = 0x1BD11BDAu;

// Rotations by literal amounts: a shift by a run-time amount is a per-lane loop on software adapters.
// Even rounds mix (x0, x1) and (x2, x3); odd rounds (x0, x3) and (x2, x1); round r rotates by R[r mod 8].
fn tfRound0(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.y;
  let x2 = x.z + x.w;
  return vec4<u32>(x0, ((x.y << 10u) | (x.y >> 22u)) ^ x0, x2, ((x.w << 26u) | (x.w >> 6u)) ^ x2);
}

fn tfRound1(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.w;
  let x2 = x.z + x.y;
  return vec4<u32>(x0, ((x.y << 21u) | (x.y >> 11u)) ^ x2, x2, ((x.w << 11u) | (x.w >> 21u)) ^ x0);
}

fn tfRound2(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.y;
  let x2 = x.z + x.w;
  return vec4<u32>(x0, ((x.y << 13u) | (x.y >> 19u)) ^ x0, x2, ((x.w << 27u) | (x.w >> 5u)) ^ x2);
}

fn tfRound3(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.w;
  let x2 = x.z + x.y;
  return vec4<u32>(x0, ((x.y << 5u) | (x.y >> 27u)) ^ x2, x2, ((x.w << 23u) | (x.w >> 9u)) ^ x0);
}

fn tfRound4(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.y;
  let x2 = x.z + x.w;
  return vec4<u32>(x0, ((x.y << 6u) | (x.y >> 26u)) ^ x0, x2, ((x.w << 20u) | (x.w >> 12u)) ^ x2);
}

fn tfRound5(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.w;
  let x2 = x.z + x.y;
  return vec4<u32>(x0, ((x.y << 11u) | (x.y >> 21u)) ^ x2, x2, ((x.w << 17u) | (x.w >> 15u)) ^ x0);
}

fn tfRound6(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.y;
  let x2 = x.z + x.w;
  return vec4<u32>(x0, ((x.y << 25u) | (x.y >> 7u)) ^ x0, x2, ((x.w << 10u) | (x.w >> 22u)) ^ x2);
}

fn tfRound7(x: vec4<u32>) -> vec4<u32> {
  let x0 = x.x + x.w;
  let x2 = x.z + x.y;
  return vec4<u32>(x0, ((x.y << 20u) | (x.y >> 12u)) ^ x2, x2, ((x.w << 18u) | (x.w >> 14u)) ^ x0);
}

fn tfRounds1to3(x: vec4<u32>) -> vec4<u32> {
  return tfRound3(tfRound2(tfRound1(x)));
}

fn tfRounds4to7(x: vec4<u32>) -> vec4<u32> {
  return tfRound7(tfRound6(tfRound5(tfRound4(x))));
}

// Rounds 1 .. THREEFRY_ROUNDS - 1 after round 0, with key injections 1, 2, ... from the schedule
// (k0, k1, k2, k3, k4): injection s adds words s .. s+3 (mod 5) of it, and s to the last word.
fn tfAfterRound0(x0: vec4<u32>, k: vec4<u32>) -> vec4<u32> {
  let k4 = THREEFRY_PARITY ^ k.x ^ k.y ^ k.z ^ k.w;
  var x = tfRounds1to3(x0) + vec4<u32>(k.y, k.z, k.w, k4 + 1u);
  x = tfRounds4to7(x) + vec4<u32>(k.z, k.w, k4, k.x + 2u);
  x = tfRounds1to3(tfRound0(x)) + vec4<u32>(k.w, k4, k.x, k.y + 3u);
  if (THREEFRY_ROUNDS == 13u) {
    return tfRound4(x);
  }
  x = tfRounds4to7(x) + vec4<u32>(k4, k.x, k.y, k.z + 4u);
  return tfRounds1to3(tfRound0(x)) + vec4<u32>(k.x, k.y, k.z, k.w + 5u);
}

// Threefry4x32 under a 4-word key (the known-answer tests); the noise uses key (seed_lo, seed_hi, 0, 0).
fn threefry4x32(counter: vec4<u32>, key: vec4<u32>) -> vec4<u32> {
  return tfAfterRound0(tfRound0(counter + key), key);
}

fn noiseWords(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  return threefry4x32(counter, vec4<u32>(key, 0u, 0u));
}

// Counter (sample, block, step, stream): round 0's (x2, x3) mix and x0's sample part do not depend on the block.
struct NoiseRowState {
  x0: u32,   // sample + k0 + k1
  x2: u32,   // round 0 words 2 and 3
  x3: u32,
}

fn noiseRowState(key: vec2<u32>, sample: u32, step: u32, stream: u32) -> NoiseRowState {
  let x2 = step + stream;
  return NoiseRowState(sample + key.x + key.y, x2, ((stream << 26u) | (stream >> 6u)) ^ x2);
}

fn rotl10(x: u32) -> u32 {
  return (x << 10u) | (x >> 22u);
}

fn noiseWordsFromRow(s: NoiseRowState, key: vec2<u32>, block: u32) -> vec4<u32> {
  let x0 = s.x0 + block;
  return tfAfterRound0(vec4<u32>(x0, rotl10(block + key.y) ^ x0, s.x2, s.x3), vec4<u32>(key, 0u, 0u));
}
