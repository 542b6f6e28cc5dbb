// Philox4x32-7 counter-based noise shared bit for bit with the GPU (docs/math.md section 7).
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';
import { STREAMS } from './streams.ts';

// Multipliers and Weyl key increments of Philox4x32 (Salmon et al., SC'11; docs/math.md section 7).
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const M0_HI = M0 >>> 16;
const M0_LO = M0 & 0xffff;
const M1_HI = M1 >>> 16;
const M1_LO = M1 & 0xffff;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;
const INV_TWO_23 = 1 / 8388608;
const TWO_PI = 2 * Math.PI;

/** Rounds of Philox4x32 in the noise: 7, the fewest that pass BigCrush (docs/math.md section 7, docs/performance.md). */
export const PHILOX_ROUNDS = 7;

/** The Philox stream of the DDPM training noise (docs/math.md section 7); ids live in streams.ts. */
export const STREAM_TRAINING_NOISE: number = STREAMS.trainingNoise;
/** The Philox stream of the synthetic data generator. */
export const STREAM_DATA_GENERATOR: number = STREAMS.dataGenerator;

/**
 * Philox4x32 (PHILOX_ROUNDS rounds unless told) into `out` (4 words) without allocating: the hot path of the
 * CPU noise. The 32x32 -> 64 products are exact: 16-bit halves keep every partial sum below 2^53.
 */
export function philoxInto(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  rounds = PHILOX_ROUNDS,
): Uint32Array {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    // (hi0, lo0) = mulhilo(M0, c0)
    const a0h = c0 >>> 16;
    const a0l = c0 & 0xffff;
    const t0 = M0_LO * a0l;
    const mid0 = M0_HI * a0l + M0_LO * a0h + (t0 >>> 16);
    const hi0 = M0_HI * a0h + Math.floor(mid0 / 65536);
    const lo0 = Math.imul(M0, c0) >>> 0;
    // (hi1, lo1) = mulhilo(M1, c2)
    const a2h = c2 >>> 16;
    const a2l = c2 & 0xffff;
    const t1 = M1_LO * a2l;
    const mid1 = M1_HI * a2l + M1_LO * a2h + (t1 >>> 16);
    const hi1 = M1_HI * a2h + Math.floor(mid1 / 65536);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** Philox4x32 of a 4-word counter under a 2-word key, PHILOX_ROUNDS rounds unless told (docs/math.md section 7). */
export function philox4x32(
  ctr: readonly [number, number, number, number] | Uint32Array,
  key: readonly [number, number] | Uint32Array,
  rounds = PHILOX_ROUNDS,
): Uint32Array {
  return philoxInto(ctr[0]!, ctr[1]!, ctr[2]!, ctr[3]!, key[0]!, key[1]!, new Uint32Array(4), rounds);
}

/** Key = (seed mod 2^32, floor(seed / 2^32)) for an integer seed in [0, 2^53) (docs/math.md section 7). */
export function seedKey(seed: number): [number, number] {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= TWO_53) {
    throw new InputError(
      `noise seed must be an integer with 0 <= seed < 2^53 (got ${String(seed)}): pass --seed with a non-negative integer such as 42`,
    );
  }
  return [seed % TWO_32, Math.floor(seed / TWO_32)];
}

/**
 * A uniform in (0, 1) from the top 23 bits of a word, never 0 or 1 (docs/math.md section 7).
 * docs/math.md writes (w >> 8 + 0.5) / 2^24, but for w >> 8 >= 2^23 that sum needs 25 significant
 * bits, so float32 rounds it (to exactly 1 at the top word). With 23 bits, (w >> 9) + 0.5 is
 * exact in float32 and the GPU and CPU uniforms are the same number.
 */
export function uniformFromWord(w: number): number {
  return ((w >>> 9) + 0.5) * INV_TWO_23;
}

/** Four normals from four words by two Box-Muller pairs, angle in [-pi, pi) (docs/math.md section 7). */
export function normalsFromWords(words: ArrayLike<number>, out?: Float64Array, offset = 0): Float64Array {
  const dst = out ?? new Float64Array(4);
  for (let p = 0; p < 2; p++) {
    const u1 = uniformFromWord(words[2 * p]!);
    const u2 = uniformFromWord(words[2 * p + 1]!);
    const radius = Math.sqrt(-2 * Math.log(u1));
    // 2*pi*u2 - pi keeps the angle inside WGSL's exact sin/cos range, so CPU and GPU agree (docs/math.md section 7).
    const theta = TWO_PI * u2 - Math.PI;
    dst[offset + 2 * p] = radius * Math.cos(theta);
    dst[offset + 2 * p + 1] = radius * Math.sin(theta);
  }
  return dst;
}

function counterWord(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
    throw new InputError(`noise ${name} must be an integer in [0, 2^32) (got ${String(value)}): it is a Philox counter word`);
  }
  return value;
}

/** The four normals of counter (n, c4, step, stream) under seedKey(seed) (docs/math.md section 7). */
export function noiseBlock(seed: number, step: number, n: number, c4: number, stream = STREAM_TRAINING_NOISE): Float64Array {
  const [k0, k1] = seedKey(seed);
  const words = philoxInto(
    counterWord('sample index', n),
    counterWord('coordinate block', c4),
    counterWord('step', step),
    counterWord('stream', stream),
    k0,
    k1,
    new Uint32Array(4),
  );
  return normalsFromWords(words);
}

/**
 * Noise row n (cols coordinates) into out[0 .. cols), with a caller-owned 4-word scratch: no allocation.
 * `out` must hold ceil(cols / 4) * 4 entries; the padding past cols is overwritten with the dropped normals.
 */
export function noiseRowInto(
  k0: number,
  k1: number,
  step: number,
  n: number,
  cols: number,
  stream: number,
  words: Uint32Array,
  out: Float64Array,
): void {
  const blocks = (cols + 3) >>> 2;
  for (let c4 = 0; c4 < blocks; c4++) {
    philoxInto(n, c4, step, stream, k0, k1, words);
    normalsFromWords(words, out, 4 * c4);
  }
}

/** The rows x cols noise matrix: entry (n, c) is normal c % 4 of block (n, floor(c / 4), step, stream) (docs/math.md section 7). */
export function noiseMatrix(seed: number, step: number, rows: number, cols: number, stream = STREAM_TRAINING_NOISE): Matrix {
  const [k0, k1] = seedKey(seed);
  counterWord('step', step);
  counterWord('stream', stream);
  if (!Number.isInteger(rows) || rows < 0 || rows > TWO_32 || !Number.isInteger(cols) || cols < 0) {
    throw new InputError(`noise matrix size must be non-negative integers with at most 2^32 rows (got ${rows} x ${cols})`);
  }
  const result = matrix(rows, cols);
  const padded = new Float64Array(((cols + 3) >>> 2) * 4);
  const words = new Uint32Array(4);
  for (let n = 0; n < rows; n++) {
    noiseRowInto(k0, k1, step, n, cols, stream, words, padded);
    result.data.set(padded.subarray(0, cols), n * cols);
  }
  return result;
}

/** Fills `out` (length d) with standard normals for counter (seed, step, n, ., stream). */
export function philoxNormals(seed: number, step: number, n: number, stream: number, out: Float64Array): void {
  const d = out.length;
  for (let c4 = 0; c4 * 4 < d; c4++) {
    const block = noiseBlock(seed, step, n, c4, stream);
    for (let r = 0; r < 4 && c4 * 4 + r < d; r++) out[c4 * 4 + r] = block[r]!;
  }
}
