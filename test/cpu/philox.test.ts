// Philox4x32 (7 rounds in the noise, 10 checked too) and the Box-Muller noise of docs/math.md section 7.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  noiseBlock,
  noiseMatrix,
  normalsFromWords,
  philox4x32,
  PHILOX_ROUNDS,
  seedKey,
  uniformFromWord,
} from '../../src/math/philox.ts';
import { PHILOX_KAT } from '../support/kat-vectors.ts';

const hex = (w: Uint32Array): string[] => Array.from(w, (v) => v.toString(16).padStart(8, '0'));

/** A slow but obviously exact BigInt Philox4x32, to check the 16-bit-split mulhilo on arbitrary words. */
function philoxBigInt(ctr: number[], key: number[], rounds: number): number[] {
  const mask = 0xffffffffn;
  let [c0, c1, c2, c3] = ctr.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9n) & mask;
      k1 = (k1 + 0xbb67ae85n) & mask;
    }
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & mask, (p0 >> 32n) ^ c3 ^ k1, p0 & mask];
  }
  return [c0, c1, c2, c3].map(Number);
}

describe('philox4x32', () => {
  for (const v of PHILOX_KAT) {
    it(`matches the Random123 known-answer vector for ${v.rounds} rounds, counter ${hex(Uint32Array.from(v.counter)).join(' ')}`, () => {
      expect(hex(philox4x32(Uint32Array.from(v.counter), Uint32Array.from(v.key), v.rounds))).toEqual(v.expected);
    });
  }
  it('runs PHILOX_ROUNDS = 7 rounds unless told', () => {
    expect(PHILOX_ROUNDS).toBe(7);
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(PHILOX_KAT[0]!.expected);
  });
  it('equals an exact BigInt implementation on pseudo-random counters and keys, at 7 and 10 rounds', () => {
    let state = 0x12345678;
    const next = (): number => {
      // xorshift32: deterministic words that exercise every bit of the 16-bit split.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    for (let i = 0; i < 300; i++) {
      const ctr = [next(), next(), next(), next()];
      const key = [next(), next()];
      const rounds = i % 2 === 0 ? 7 : 10;
      expect(Array.from(philox4x32(ctr as [number, number, number, number], key as [number, number], rounds))).toEqual(
        philoxBigInt(ctr, key, rounds),
      );
    }
  });
});

describe('seedKey', () => {
  it('splits a seed into low and high 32-bit words', () => {
    expect(seedKey(0)).toEqual([0, 0]);
    expect(seedKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(seedKey(2 ** 53 - 1)).toEqual([0xffffffff, 2 ** 21 - 1]);
  });
  it('rejects negative, fractional, too large and non-finite seeds with an InputError', () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => seedKey(bad)).toThrow(InputError);
    }
  });
});

describe('uniformFromWord and normals', () => {
  it('never returns 0 or 1, even at the extreme words', () => {
    // The extremes are (0 + 0.5) / 2^23 and (2^23 - 0.5) / 2^23, exactly (23 bits: see uniformFromWord).
    expect(uniformFromWord(0)).toBe(0.5 / 2 ** 23);
    expect(uniformFromWord(0xffffffff)).toBe(1 - 0.5 / 2 ** 23);
    expect(uniformFromWord(0)).toBeGreaterThan(0);
    expect(uniformFromWord(0xffffffff)).toBeLessThan(1);
    // Both extremes, and every uniform, are float32 values: the GPU computes the same numbers.
    expect(Math.fround(uniformFromWord(0))).toBe(uniformFromWord(0));
    expect(Math.fround(uniformFromWord(0xffffffff))).toBe(uniformFromWord(0xffffffff));
    for (let i = 0; i < 1000; i++) {
      const w = (Math.imul(i, 0x9e3779b9) ^ 0xdeadbeef) >>> 0;
      expect(Math.fround(uniformFromWord(w))).toBe(uniformFromWord(w));
    }
  });
  it('gives finite normals at the extreme words', () => {
    const z = normalsFromWords([0, 0xffffffff, 0xffffffff, 0]);
    for (const v of z) expect(Number.isFinite(v)).toBe(true);
    // u1 = 2^-24 gives the largest radius sqrt(2 * 24 ln 2) ~ 5.77; no normal can exceed it.
    for (const v of z) expect(Math.abs(v)).toBeLessThanOrEqual(Math.sqrt(48 * Math.LN2) * (1 + 1e-15));
  });
  it('follows Box-Muller with the angle 2 pi u2 - pi', () => {
    const words = [0x80000000, 0x40000000, 0x12345678, 0x9abcdef0];
    const z = normalsFromWords(words, new Float64Array(6), 2);
    const u1 = uniformFromWord(words[0]!);
    const u2 = uniformFromWord(words[1]!);
    const r = Math.sqrt(-2 * Math.log(u1));
    // Same float64 operations in the same order: bit-identical.
    expect(z[2]).toBe(r * Math.cos(2 * Math.PI * u2 - Math.PI));
    expect(z[3]).toBe(r * Math.sin(2 * Math.PI * u2 - Math.PI));
    expect(z[0]).toBe(0);
  });
  it('draws normals with mean 0 and variance 1 over a large block', () => {
    const rows = 4096;
    const cols = 64;
    const z = noiseMatrix(7, 3, rows, cols);
    const n = z.data.length;
    let sum = 0;
    let sumSq = 0;
    for (const v of z.data) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // Standard error of the mean is 1/sqrt(n); 5 standard errors fail by chance with probability < 1e-6.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    // Standard error of the sample variance of N(0,1) is sqrt(2/n); again 5 standard errors.
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
});

describe('noise layout', () => {
  it('puts coordinate c of row n at normal c % 4 of block (n, floor(c/4), step, stream)', () => {
    const seed = 2 ** 40 + 123;
    const cols = 6; // not a multiple of 4: the last block's two extra normals are dropped
    const z = noiseMatrix(seed, 5, 3, cols, 0);
    for (let n = 0; n < 3; n++) {
      for (let c = 0; c < cols; c++) {
        // Same words, same float64 operations: bit-identical.
        expect(z.data[n * cols + c]).toBe(noiseBlock(seed, 5, n, Math.floor(c / 4), 0)[c % 4]);
      }
    }
  });
  it('uses the counter words (n, c4, step, stream) under key (seed_lo, seed_hi)', () => {
    const seed = 3 * 2 ** 32 + 17;
    const words = philox4x32([9, 2, 11, 1], [17, 3]);
    expect(Array.from(noiseBlock(seed, 11, 9, 2, 1))).toEqual(Array.from(normalsFromWords(words)));
  });
  it('gives different noise for different steps, streams and seeds', () => {
    const base = noiseMatrix(1, 0, 2, 4);
    expect(noiseMatrix(1, 1, 2, 4).data).not.toEqual(base.data);
    expect(noiseMatrix(1, 0, 2, 4, 1).data).not.toEqual(base.data);
    expect(noiseMatrix(2, 0, 2, 4).data).not.toEqual(base.data);
    expect(noiseMatrix(1, 0, 2, 4).data).toEqual(base.data);
  });
  it('rejects a step outside the 32-bit counter word', () => {
    expect(() => noiseMatrix(1, -1, 2, 4)).toThrow(InputError);
    expect(() => noiseBlock(1, 2 ** 32, 0, 0)).toThrow(InputError);
  });
});
