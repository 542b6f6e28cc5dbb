// The GPU score error (src/metrics/gpu-score-error.ts, shaders/score_error.wgsl) against the float64 CPU reference
// (src/metrics/cpu.ts scoreError), docs/math.md section 11. Both fold the same per-draw e_n into the same
// stratified estimate, a weighted mean with weights c_n = 1 / (K* count of n's stratum), so |E_gpu - E_cpu| <=
// sum_n c_n |e_n,gpu - e_n,cpu|, and the test bounds each draw's error:
//   x: the GPU normals differ by dz (test/support/noise-bounds.ts noiseBound), and x = a mu* + z adds 4u (M + ||x||), where
//      M = max_j ||a mu_j|| over both centre sets and u = 2^-24; a mbar moves by at most its Jacobian, the weighted
//      covariance of the a mu_j, whose norm is <= M^2, per set: 2 M^2 ||dx||;
//   logits: each -||x - a mu_j||^2 / 2 is within g = (d + 8) u (||x|| + M)^2; logit errors <= g move each softmax weight
//      by a factor e^{+-2g}, exp's own (3 + 2|l|) ulp adds 8u (1 + |l - max|) relative, and w |l| <= 1/e, so a mbar
//      moves by M (2g + 8u + 3 K u) plus (K + 4) u M for the weighted sum, the K rescales and the division;
//   e = ||v||^2 with v = a (mbar_model - mbar_true): |e' - e| <= 2 ||v|| dv + dv^2 + (d + 2) u (||v|| + dv)^2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { scoreErrors } from '../../src/metrics/gpu-score-error.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { InputError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import { mixtureScore } from '../../src/sampling/score.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { U } from '../support/bounds.ts';
import { noiseBound } from '../support/noise-bounds.ts';

let gpu: GpuBackend;
const cpu = new CpuBackend();

beforeAll(async () => {
  gpu = await createGpuBackend();
});

afterAll(() => {
  gpu?.dispose();
});

function centresOf(k: number, d: number, seed: number, scale: number): Matrix {
  return matrix(k, d, noiseMatrix(seed, 1, k, d, STREAM_DATA_GENERATOR).data.map((v) => scale * v));
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** sum_n c_n (per-draw bound of the header), from the float64 draws. */
function scoreErrorBound(centres: Matrix, truth: Matrix, t: number, samples: number, seed: number): number {
  const d = truth.cols;
  const a = Math.exp(-t);
  const K = Math.max(centres.rows, truth.rows);
  const rowNorms = (m: Matrix) => Array.from({ length: m.rows }, (_, j) => a * norm(m.data.subarray(j * d, (j + 1) * d)));
  const M = Math.max(...rowNorms(centres), ...rowNorms(truth));
  const z = noiseMatrix(seed, 0, samples, d, STREAMS.metrics);
  const dz = matrix(samples, d, noiseBound(seed, 0, samples, d, STREAMS.metrics));
  const x = matrix(samples, d);
  for (let n = 0; n < samples; n++) for (let c = 0; c < d; c++) x.data[n * d + c] = a * truth.data[(n % truth.rows) * d + c]! + z.data[n * d + c]!;
  const sModel = mixtureScore(x, centres, t);
  const sTrue = mixtureScore(x, truth, t);
  let total = 0;
  for (let n = 0; n < samples; n++) {
    const row = (m: Matrix) => m.data.subarray(n * d, (n + 1) * d);
    const xNorm = norm(row(x));
    const dx = norm(row(dz)) + 4 * U * (M + xNorm);
    const g = (d + 8) * U * (xNorm + M) ** 2;
    const perSet = 2 * M * M * dx + M * (2 * g + 8 * U + 3 * K * U) + (K + 4) * U * M;
    const v = norm(Array.from(row(sModel), (s, c) => s - row(sTrue)[c]!));
    const dv = 2 * perSet + U * v;
    const inStratum = Math.floor((samples - 1 - (n % truth.rows)) / truth.rows) + 1;
    total += (2 * v * dv + dv * dv + (d + 2) * U * (v + dv) ** 2) / (truth.rows * inStratum);
  }
  return total;
}

describe('the score error on the GPU', () => {
  it('declares the bindings its WGSL uses', () => {
    const spec = scoreErrors.specialise({ d: 6 });
    expect(() => checkBindings(scoreErrors, spec.flags, specialiseFiles(scoreErrors.files, WGSL_SOURCES, spec))).not.toThrow();
  });

  // Awkward sizes: d not a multiple of 4, draws not a multiple of the workgroup, K != K*, far and near models.
  const cases = [
    { id: 'K3 vs K*2, d5, t0.3', k: 3, kTrue: 2, d: 5, t: 0.3, samples: 1001, scale: 1.5 },
    { id: 'K1 vs K*4, d7, t0.05', k: 1, kTrue: 4, d: 7, t: 0.05, samples: 515, scale: 1 },
    { id: 'K6 vs K*6, d16, t1', k: 6, kTrue: 6, d: 16, t: 1, samples: 4099, scale: 0.6 },
  ];
  for (const c of cases) {
    it(`agrees with the float64 reference within the derived bound: ${c.id}`, async () => {
      const truth = centresOf(c.kTrue, c.d, 7, c.scale);
      const model = matrix(c.k, c.d, centresOf(c.k, c.d, 8, c.scale).data.map((v, i) => v + 0.3 * truth.data[i % truth.data.length]!));
      const want = await cpu.scoreError(model, truth, c.t, c.samples, 21);
      const got = await gpu.scoreError(model, truth, c.t, c.samples, 21);
      const bound = scoreErrorBound(model, truth, c.t, c.samples, 21);
      expect(Math.abs(got.value - want.value)).toBeLessThanOrEqual(bound);
      // The bound must be tight enough to catch a wrong index or stream: well under the value itself.
      expect(bound).toBeLessThan(0.01 * want.value);
      // The standard error is a weighted 2-norm of the centred e_n (weights 1 / (K* sqrt(c (c - 1))) for stratum size c):
      // centring is a projection and ||.||_2 <= ||.||_1, so it moves by at most sqrt(c / (c - 1)) <= sqrt(2) times the bound.
      expect(Math.abs(got.standardError - want.standardError)).toBeLessThanOrEqual(Math.SQRT2 * bound);
    });
  }

  it('is a^2 ||mu - mu*||^2 with no spread for K = K* = 1', async () => {
    const truth = matrix(1, 3, Float64Array.from([1, -2, 0.5]));
    const model = matrix(1, 3, Float64Array.from([1.5, -2, 0.25]));
    const t = 0.4;
    const got = await gpu.scoreError(model, truth, t, 130, 3);
    const exact = Math.exp(-2 * t) * (0.25 + 0.0625);
    // Every draw's e is a^2 ||mu - mu*||^2 (the x terms cancel): float32 rounding of v (a few u) squared.
    expect(Math.abs(got.value - exact)).toBeLessThanOrEqual(16 * U * exact);
    expect(got.standardError).toBeLessThanOrEqual(16 * U * exact);
  });

  it('rejects what the CPU rejects, with the same message', async () => {
    const truth = matrix(2, 2, Float64Array.from([1, 0, -1, 0]));
    await expect(gpu.scoreError(truth, truth, -1, 100, 1)).rejects.toThrow(InputError);
    await expect(gpu.scoreError(truth, truth, 0.5, 3, 1)).rejects.toThrow(/at least 2 K\* = 4/);
    await expect(gpu.scoreError(matrix(1, 3), truth, 0.5, 100, 1)).rejects.toThrow(/same d/);
  });
});
