// The GPU mode weights (src/metrics/gpu-mode-weights.ts, shaders/mode_weights.wgsl) against the float64 CPU reference
// (src/metrics/cpu.ts modeWeights). The GPU takes each sample's nearest centre in float32, so it may pick
// differently from float64 only where two distances are within float32 rounding of each other. The bound: each
// float32 ||x - mu_i||^2 (inputs rounded to float32, d subtractions, squares and a sum of d terms) is within
// (2d + 8) u (||x||^2 + ||mu_i||^2) of the exact value (u = 2^-24; sum (|x_c| + |mu_c|)^2 <= 2 (||x||^2 + ||mu_i||^2)),
// so a sample is AMBIGUOUS when its CPU choice b and some other j have |d_b - d_j| below the sum of the two bounds.
// Counts must agree exactly on the unambiguous samples, differ by at most the ambiguous count overall, and
// ambiguous samples must be rare. Chunked runs, K above the workgroup size, exact ties (to the lower index)
// and the CPU's input errors are checked too.
// The nearest centres (src/metrics/gpu-nearest-centres.ts, shaders/nearest_centres.wgsl) use the same search
// (shaders/centre_search.wgsl): their labels equal the CPU's except where the GPU's pick is within the float32 bound
// of test/support/bounds.ts squaredDistanceError of the CPU's, and their counts equal the GPU mode weights' exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { modeCounts } from '../../src/metrics/gpu-mode-weights.ts';
import { nearestCentresProgram } from '../../src/metrics/gpu-nearest-centres.ts';
import { squaredDistanceError } from '../support/bounds.ts';
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

describe('the mode-weight and nearest-centre programs name the bindings their WGSL declares', () => {
  it('for d/4 = 1 and 2', () => {
    for (const d4 of [1, 2]) {
      for (const program of [modeCounts, nearestCentresProgram]) {
        const spec = program.specialise({ d4 });
        checkBindings(program, spec.flags, specialiseFiles(program.files, WGSL_SOURCES, spec));
      }
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

describe('nearest centres: GPU labels equal the CPU labels except on float32 near-ties', () => {
  // [name, K, d, N, seed, centre scale]; d not a multiple of 4, K = 1, K above the workgroup, N not a multiple of
  // the workgroup (64), and every N above the chunked backend's 32 rows, so its last chunk is partial.
  const cases: [string, number, number, number, number, number][] = [
    ['K = 3, d = 5, N = 2000', 3, 5, 2000, 21, 3],
    ['K = 8, d = 7, N = 1000 (close centres)', 8, 7, 1000, 22, 1],
    ['K = 1, d = 2, N = 100', 1, 2, 100, 23, 3],
    ['K = 70 (> one workgroup), d = 3, N = 333', 70, 3, 333, 24, 3],
    ['K = 4, d = 8, N = 65', 4, 8, 65, 25, 3],
  ];
  for (const [name, k, d, n, seed, scale] of cases) {
    it(name, async () => {
      const { centres, samples } = problem(k, d, n, seed, scale);
      const want = await cpu.nearestCentres(samples, centres);
      const got = await gpu.nearestCentres(samples, centres);
      expect(got).toBeInstanceOf(Int32Array);
      expect(got.length).toBe(n);
      const dist = (row: number, j: number) => {
        let sq = 0;
        for (let c = 0; c < d; c++) sq += (samples.data[row * d + c]! - centres.data[j * d + c]!) ** 2;
        return sq;
      };
      const err = (row: number, j: number) => squaredDistanceError(samples.data, row, centres.data, j, d);
      let nearTies = 0;
      let differ = 0;
      for (let row = 0; row < n; row++) {
        const b = want[row]!;
        const g = got[row]!;
        // A near-tie: some other centre's float64 squared distance is within both float32 bounds of the nearest one's.
        if (Array.from({ length: k }, (_, j) => j).some((j) => j !== b && dist(row, j) - dist(row, b) <= err(row, j) + err(row, b))) nearTies++;
        if (g !== b) {
          differ++;
          // The GPU may pick g over the CPU's b only when float32 rounding can reorder them: |D_g - D_b| <= E_g + E_b
          // (squaredDistanceError: upload, subtraction, square and sum roundings of each distance).
          expect(g).toBeGreaterThanOrEqual(0);
          expect(g).toBeLessThan(k);
          expect(dist(row, g) - dist(row, b), `row ${row}: GPU ${g}, CPU ${b}`).toBeLessThanOrEqual(err(row, g) + err(row, b));
        }
      }
      expect(differ).toBeLessThanOrEqual(nearTies);
      // Rare on random data: under 1% of the rows.
      expect(nearTies).toBeLessThanOrEqual(n / 100);
      // The same search as the mode weights (centre_search.wgsl): the labels count to the GPU's mode weights exactly.
      const fromLabels = new Array<number>(k).fill(0);
      for (const j of got) fromLabels[j]!++;
      expect(fromLabels).toEqual(counts(await gpu.modeWeights(samples, centres), n));
      // Chunked over samples (32 rows a chunk, the last one partial) gives the same labels as one chunk.
      expect(await chunked.nearestCentres(samples, centres)).toEqual(got);
    });
  }

  // Near-ties everywhere: samples within eps of the bisector of centres 0 and 1, which sit `offset` from the origin.
  // Far from the origin (offset 100) the float32 rounding of the inputs dominates: a bound relative to the squared
  // differences alone (gamma_d sum (x_c - mu_c)^2) is broken by most of the rows that differ there.
  const bisectors: [string, number, number, number, number][] = [
    ['K = 2, d = 6, N = 2000 on the bisector', 2, 6, 0, 1e-7],
    ['K = 2, d = 1, N = 2000 on the bisector, 100 from the origin', 2, 1, 100, 1e-5],
  ];
  for (const [name, k, d, offset, eps] of bisectors) {
    it(name, async () => {
      const n = 2000;
      const centres = matrix(k, d, noiseMatrix(31, 1, k, d, STREAM_DATA_GENERATOR).data.map((v) => offset + 0.3 * v));
      const noise = noiseMatrix(32, 0, n, d, STREAM_DATA_GENERATOR);
      const samples = matrix(n, d);
      for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) samples.data[i * d + c] = (centres.data[c]! + centres.data[d + c]!) / 2 + eps * noise.data[i * d + c]!;
      const want = await cpu.nearestCentres(samples, centres);
      const got = await gpu.nearestCentres(samples, centres);
      const dist = (row: number, j: number) => {
        let sq = 0;
        for (let c = 0; c < d; c++) sq += (samples.data[row * d + c]! - centres.data[j * d + c]!) ** 2;
        return sq;
      };
      let differ = 0;
      for (let row = 0; row < n; row++) {
        const [b, g] = [want[row]!, got[row]!];
        if (g === b) continue;
        differ++;
        // As above: the GPU's pick is within E_g + E_b (squaredDistanceError) of the CPU's.
        const bound = squaredDistanceError(samples.data, row, centres.data, g, d) + squaredDistanceError(samples.data, row, centres.data, b, d);
        expect(dist(row, g) - dist(row, b), `row ${row}: GPU ${g}, CPU ${b}`).toBeLessThanOrEqual(bound);
      }
      // The rule above is exercised: float32 does reorder some of these rows.
      expect(differ).toBeGreaterThan(0);
    });
  }

  it('exact ties go to the lower index, as on the CPU', async () => {
    // Centres 1 and 2 mirror each other in the first coordinate; samples on the mirror plane tie exactly in float32.
    const centres = matrix(3, 2, Float64Array.of(10, 10, 1, 0, -1, 0));
    const samples = matrix(4, 2, Float64Array.of(0, 0.5, 0, -0.25, 0, 1, 0.5, 0));
    const want = await cpu.nearestCentres(samples, centres);
    expect(Array.from(want)).toEqual([1, 1, 1, 1]);
    expect(await gpu.nearestCentres(samples, centres)).toEqual(want);
  });
});

describe('bad nearest-centre inputs give the CPU reference errors', () => {
  const x = matrix(3, 4, new Float64Array(12).fill(1));
  const c = matrix(2, 4, Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1));
  const bad: [string, Matrix, Matrix, RegExp][] = [
    ['no samples', matrix(0, 4), c, /sample matrix is 0 x 4; give at least one sample/],
    ['no centres', x, matrix(0, 4), /centre matrix is 0 x 4; give at least one centre/],
    ['no columns', matrix(3, 0), matrix(2, 0), /sample matrix is 3 x 0; .* at least one column/],
    ['different d', x, matrix(2, 5), /samples have 4 columns and the centres 5/],
    ['a NaN sample', matrix(1, 4, Float64Array.of(0, NaN, 0, 0)), c, /sample matrix has a non-finite value \(NaN\) at row 1, column 2/],
    ['an infinite centre', x, matrix(2, 4, Float64Array.of(0, 0, 0, 0, Infinity, 1, 1, 1)), /centre matrix has a non-finite value \(Infinity\) at row 2, column 1/],
  ];
  for (const [name, a, b, message] of bad) {
    it(name, async () => {
      const expected = await rejection(cpu.nearestCentres(a, b));
      expect(expected.name).toBe('InputError');
      expect(expected.message).toMatch(/^the nearest centres: /);
      expect(expected.message).toMatch(message);
      const got = await rejection(gpu.nearestCentres(a, b));
      expect([got.name, got.message]).toEqual([expected.name, expected.message]);
    });
  }
});
