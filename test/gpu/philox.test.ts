// Philox4x32-7 and the Box-Muller noise on the GPU (shaders/philox.wgsl) against the float64 CPU reference
// (src/math/philox.ts), docs/math.md section 7: the 32-bit words agree bit for bit; the normals differ only by the
// float32 rounding of log, sqrt (WGSL's accuracy table) and of the engine's own cosSin (test/support/noise-bounds.ts, normalBound).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { noiseMatrix, philox4x32, PHILOX_ROUNDS } from '../../src/math/philox.ts';
import { matrix } from '../../src/types.ts';
import { noiseBound } from '../support/noise-bounds.ts';
import { PHILOX_KAT } from '../support/kat-vectors.ts';
import { noiseProbe, philoxWords } from './probes.ts';

let gpu: GpuBackend;

beforeAll(async () => {
  gpu = await createGpuBackend();
});

afterAll(() => {
  gpu?.dispose();
});

const hex = (w: ArrayLike<number>): string[] => Array.from(w, (v) => (v >>> 0).toString(16).padStart(8, '0'));

describe('Philox4x32 on the GPU', () => {
  it('matches the Random123 known-answer vectors at 7 and 10 rounds bit for bit (test/support/kat-vectors.ts)', async () => {
    for (const rounds of [7, 10]) {
      const kat = PHILOX_KAT.filter((v) => v.rounds === rounds);
      const words = await philoxWords(gpu, Uint32Array.from(kat.flatMap((v) => v.counter)), Uint32Array.from(kat.flatMap((v) => v.key)), rounds);
      kat.forEach((v, i) => expect(hex(words.subarray(4 * i, 4 * i + 4))).toEqual(v.expected));
    }
  });

  it('equals the CPU philox4x32 at the noise rounds (PHILOX_ROUNDS) on 10,000 pseudo-random counters and keys, bit for bit', async () => {
    const n = 10_000;
    let state = 0x9e3779b9;
    const next = (): number => {
      // xorshift32: every bit of every word varies, so the 16-bit split of mulhi32 is exercised.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const counters = new Uint32Array(4 * n);
    const keys = new Uint32Array(2 * n);
    for (let i = 0; i < 4 * n; i++) counters[i] = next();
    for (let i = 0; i < 2 * n; i++) keys[i] = next();
    const words = await philoxWords(gpu, counters, keys, PHILOX_ROUNDS);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const cpu = philox4x32(counters.subarray(4 * i, 4 * i + 4), keys.subarray(2 * i, 2 * i + 2));
      for (let w = 0; w < 4; w++) if (words[4 * i + w] !== cpu[w]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('GPU noise (noiseProbe) against the CPU noiseMatrix', () => {
  const observed: { label: string; maxAbs: number; maxRatio: number; maxBound: number }[] = [];

  afterAll(() => {
    // Reported so that the margin of the derived bound is visible.
    for (const o of observed) {
      console.log(`noise ${o.label}: max |dz| = ${o.maxAbs.toExponential(3)}, max |dz| / bound = ${o.maxRatio.toExponential(3)}, max bound = ${o.maxBound.toExponential(3)}`);
    }
  });

  // (rows, d, seed, step): d = 1, 3, 5 are not multiples of 4 (the padding lanes are dropped by the probe, and
  // must not shift the real ones); the seed has a non-zero high word; later steps use other counter words.
  const PROBES: { rows: number; d: number; seed: number; step: number }[] = [
    { rows: 1000, d: 5, seed: 42, step: 0 },
    { rows: 1000, d: 3, seed: 2 ** 40 + 123, step: 7 },
    { rows: 257, d: 1, seed: 9, step: 2 ** 31 + 5 },
    { rows: 500, d: 16, seed: 1234567, step: 49 },
  ];

  for (const p of PROBES) {
    it(`rows ${p.rows}, d ${p.d}, seed ${p.seed}, step ${p.step}: every entry within the derived accuracy bound`, async () => {
      const data = matrix(p.rows, p.d); // only its shape matters to the probe
      const gpuZ = await noiseProbe(gpu, data, p.seed, p.step);
      const cpuZ = noiseMatrix(p.seed, p.step, p.rows, p.d);
      // Per entry |dz| <= (r + dr) 16u + |cos or sin| dr + (r + dr) dtheta + 1 ULP, with
      // dr = min(dv / r, sqrt(dv)) + 9u r, dv = 2 * (2^-21 if u1 >= 1/2 else 3 ULP(log u1)):
      // the engine's cosSin within 16u, WGSL log 2^-21 on [0.5, 2] / 3 ULP, sqrt = 1/inverseSqrt 4.5 ULP
      // (derivation in test/support/noise-bounds.ts normalBound; the Philox words are identical, as the tests above show).
      const bound = noiseBound(p.seed, p.step, p.rows, p.d);
      let maxAbs = 0;
      let maxRatio = 0;
      let maxBound = 0;
      let failures = 0;
      for (let i = 0; i < cpuZ.data.length; i++) {
        const dz = Math.abs(gpuZ.data[i]! - cpuZ.data[i]!);
        if (!(dz <= bound[i]!)) failures++;
        maxAbs = Math.max(maxAbs, dz);
        maxRatio = Math.max(maxRatio, dz / bound[i]!);
        maxBound = Math.max(maxBound, bound[i]!);
      }
      observed.push({ label: `${p.rows}x${p.d} seed ${p.seed} step ${p.step}`, maxAbs, maxRatio, maxBound });
      expect(failures).toBe(0);
      // The check has teeth: a wrong coordinate layout or counter gives O(1) differences, far above every bound.
      expect(maxBound).toBeLessThan(0.01);
    });
  }

  it('a later step gives different noise (the step is in the counter)', async () => {
    const data = matrix(64, 5);
    const z0 = await noiseProbe(gpu, data, 42, 0);
    const z1 = await noiseProbe(gpu, data, 42, 1);
    let differ = 0;
    for (let i = 0; i < z0.data.length; i++) differ = Math.max(differ, Math.abs(z0.data[i]! - z1.data[i]!));
    // Independent normals differ by O(1); the bound above is below 0.01.
    expect(differ).toBeGreaterThan(0.5);
  });
});
