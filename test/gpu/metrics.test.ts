// The GPU mode weights (src/metrics/gpu-mode-weights.ts, shaders/mode_weights.wgsl) against the float64 CPU reference
// (src/metrics/cpu.ts modeWeights). The GPU takes each sample's nearest centre in float32, so it may pick
// differently from float64 only where two distances are within float32 rounding of each other. The bound: each
// float32 ||x - mu_i||^2 (inputs rounded to float32, d subtractions, squares and a sum of d terms) is within
// (2d + 8) u (||x||^2 + ||mu_i||^2) of the exact value (u = 2^-24; sum (|x_c| + |mu_c|)^2 <= 2 (||x||^2 + ||mu_i||^2)),
// so a sample is AMBIGUOUS when its CPU choice b and some other j have |d_b - d_j| below the sum of the two bounds.
// Counts must agree exactly on the unambiguous samples, differ by at most the ambiguous count overall, and
// ambiguous samples must be rare. Chunked runs, K above the workgroup size, exact ties (to the lower index)
// and the CPU's input errors are checked too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { modeCounts } from '../../src/metrics/gpu-mode-weights.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';

let gpu: GpuBackend;
let chunked: GpuBackend;
const cpu = new CpuBackend();
const U = 2 ** -24;

beforeAll(async () => {
  gpu = await createGpuBackend();
  chunked = await createGpuBackend({ maxChunkRows: 32 });
});

afterAll(() => {
  for (const b of [gpu, chunked]) b?.dispose();
});

/** K centres of norm about `scale` and n samples from the mixture around them (unit noise), seeded (Philox). */
function problem(k: number, d: number, n: number, seed: number, scale = 3): { centres: Matrix; samples: Matrix } {
  const centres = matrix(k, d, noiseMatrix(seed, 1, k, d, STREAM_DATA_GENERATOR).data.map((v) => (scale / Math.sqrt(d)) * v));
  const noise = noiseMatrix(seed + 1, 0, n, d, STREAM_DATA_GENERATOR);
  const samples = matrix(n, d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) samples.data[i * d + c] = centres.data[(i % k) * d + c]! + noise.data[i * d + c]!;
  return { centres, samples };
}

/** Which samples are within float32 rounding of a tie (see the header). */
function ambiguous(samples: Matrix, centres: Matrix): boolean[] {
  const { rows: K, cols: d } = centres;
  const norm = (m: Matrix, i: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += m.data[i * d + c]! ** 2;
    return s;
  };
  const out: boolean[] = [];
  for (let n = 0; n < samples.rows; n++) {
    const xx = norm(samples, n);
    const dist: number[] = [];
    const err: number[] = [];
    for (let i = 0; i < K; i++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += (samples.data[n * d + c]! - centres.data[i * d + c]!) ** 2;
      dist.push(sq);
      err.push((2 * d + 8) * U * (xx + norm(centres, i)));
    }
    let best = 0;
    for (let i = 1; i < K; i++) if (dist[i]! < dist[best]!) best = i;
    out.push(dist.some((v, j) => j !== best && Math.abs(v - dist[best]!) <= err[j]! + err[best]!));
  }
  return out;
}

const rowsOf = (m: Matrix, keep: boolean[]): Matrix => {
  const idx = keep.flatMap((k, i) => (k ? [i] : []));
  const out = matrix(idx.length, m.cols);
  idx.forEach((i, r) => out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols));
  return out;
};

const counts = (w: { weights: number[] }, n: number): number[] => w.weights.map((x) => Math.round(x * n));

describe('the mode-weight program names the bindings its WGSL declares', () => {
  it('for d/4 = 1 and 2', () => {
    for (const d4 of [1, 2]) {
      const spec = modeCounts.specialise({ d4 });
      checkBindings(modeCounts, spec.flags, specialiseFiles(modeCounts.files, WGSL_SOURCES, spec));
    }
  });
});

describe('mode weights: GPU counts equal the CPU counts except on float32 near-ties', () => {
  const cases: [string, number, number, number, number][] = [
    ['K = 3, d = 5, n = 2000', 3, 5, 2000, 11],
    ['K = 8, d = 8, n = 1000 (close centres)', 8, 8, 1000, 12],
    ['K = 70 (> one workgroup), d = 3, n = 500', 70, 3, 500, 13],
    ['K = 1, d = 2, n = 100', 1, 2, 100, 14],
  ];
  for (const [name, k, d, n, seed] of cases) {
    it(name, async () => {
      const { centres, samples } = problem(k, d, n, seed, k === 8 ? 1 : 3);
      const amb = ambiguous(samples, centres);
      const nAmb = amb.filter(Boolean).length;
      // Rare: under 1% of the samples (and so the exact comparison below covers almost all of them).
      expect(nAmb).toBeLessThanOrEqual(n / 100);
      const clear = amb.map((a) => !a);
      const sub = rowsOf(samples, clear);
      expect(counts(await gpu.modeWeights(sub, centres), sub.rows)).toEqual(counts(await cpu.modeWeights(sub, centres), sub.rows));
      const want = await cpu.modeWeights(samples, centres);
      const got = await gpu.modeWeights(samples, centres);
      const [cw, gw] = [counts(want, n), counts(got, n)];
      expect(gw.reduce((a, b) => a + b, 0)).toBe(n);
      for (let j = 0; j < k; j++) expect(Math.abs(gw[j]! - cw[j]!)).toBeLessThanOrEqual(nAmb);
      if (nAmb === 0) {
        expect(got.weights).toEqual(want.weights);
        expect(got.maxDeviation).toBe(want.maxDeviation);
      }
      // Chunked over samples (32 rows a chunk) gives the same counts as one chunk.
      expect(await chunked.modeWeights(samples, centres)).toEqual(got);
    });
  }

  it('exact ties go to the lower index, as on the CPU', async () => {
    // Centres 1 and 2 mirror each other in the first coordinate; samples on the mirror plane tie exactly in float32.
    const centres = matrix(3, 2, Float64Array.of(10, 10, 1, 0, -1, 0));
    const samples = matrix(4, 2, Float64Array.of(0, 0.5, 0, -0.25, 0, 1, 0.5, 0));
    const want = await cpu.modeWeights(samples, centres);
    expect(want.weights).toEqual([0, 1, 0]);
    expect(await gpu.modeWeights(samples, centres)).toEqual(want);
  });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('bad mode-weight inputs give the CPU reference errors', () => {
  const x = matrix(3, 4, new Float64Array(12).fill(1));
  const c = matrix(2, 4, Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1));
  const bad: [string, Matrix, Matrix][] = [
    ['no samples', matrix(0, 4), c],
    ['no centres', x, matrix(0, 4)],
    ['different d', x, matrix(2, 5)],
    ['a NaN sample', matrix(1, 4, Float64Array.of(0, NaN, 0, 0)), c],
    ['an infinite centre', x, matrix(2, 4, Float64Array.of(0, 0, 0, 0, Infinity, 1, 1, 1))],
  ];
  for (const [name, a, b] of bad) {
    it(name, async () => {
      const expected = await rejection(cpu.modeWeights(a, b));
      const got = await rejection(gpu.modeWeights(a, b));
      expect([got.name, got.message]).toEqual([expected.name, expected.message]);
    });
  }
});
