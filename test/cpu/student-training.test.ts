// The general student through the loop, the estimator and its model file, on the CPU backend (docs/math.md section 14).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { refuseGeneralStudentOnGpu } from '../../src/training/checks.ts';
import { initialStudent, variancesOf, VARIANCE_FLOOR, weightsOf } from '../../src/training/student.ts';
import { studentEmStep } from '../../src/training/student-mixture.ts';
import { matrix, type Matrix } from '../../src/types.ts';

/** Three blobs in d = 2 with spreads 0.5, 1, 2 and weights 0.6, 0.3, 0.1. */
function blobs(N: number): Matrix {
  const mu = [[-4, 0], [0, 3], [4, -1]];
  const sd = [0.5, 1, 2];
  const z = noiseMatrix(1, 0, N, 2, STREAM_DATA_GENERATOR);
  const X = matrix(N, 2);
  for (let n = 0; n < N; n++) {
    const u = (n + 0.5) / N;
    const i = u < 0.6 ? 0 : u < 0.9 ? 1 : 2;
    for (let j = 0; j < 2; j++) X.data[n * 2 + j] = mu[i]![j]! + sd[i]! * z.data[n * 2 + j]!;
  }
  return X;
}

describe('GD of the general student on the CPU backend', () => {
  it('a run split at a log point equals one call, bit for bit', async () => {
    const cpu = new CpuBackend();
    const X = blobs(300);
    const centres = matrix(3, 2, Float64Array.from([-3, 0, 0, 2, 3, -1]));
    const student = initialStudent('diag', 'learned', 3, 2);
    const base = { noiseScale: 0.3, tied: false, lr: 0.5, logEvery: 5, noise: { kind: 'seed', seed: 4, mode: 'fresh' } as const, student };
    const whole = await cpu.gdSteps(X, centres, { ...base, steps: 10 });
    const first = await cpu.gdSteps(X, centres, { ...base, steps: 5 });
    const second = await cpu.gdSteps(X, first.centres, { ...base, steps: 5, startStep: 5, student: first.student! });
    expect(Array.from(second.centres.data)).toEqual(Array.from(whole.centres.data));
    expect(Array.from(second.student!.gamma.data)).toEqual(Array.from(whole.student!.gamma.data));
    expect(Array.from(second.student!.beta)).toEqual(Array.from(whole.student!.beta));
    // The start is not modified in place.
    expect(Array.from(student.gamma.data)).toEqual(Array.from(initialStudent('diag', 'learned', 3, 2).gamma.data));
  });
  it('refuses the tied student', async () => {
    const cpu = new CpuBackend();
    const X = blobs(40);
    const opts = { noiseScale: 0.3, tied: true, lr: 0.5, steps: 2, noise: { kind: 'seed', seed: 1, mode: 'fresh' } as const, student: initialStudent('spherical', 'equal', 1, 2) };
    await expect(cpu.gdSteps(X, matrix(1, 2), opts)).rejects.toThrow(/annealed, single or warm/);
  });
  it('the GPU refuses a general student by name and points to the CPU backend', () => {
    expect(() => refuseGeneralStudentOnGpu(initialStudent('spherical', 'learned', 2, 2), 'training')).toThrow(InputError);
    expect(() => refuseGeneralStudentOnGpu(initialStudent('diag', 'equal', 2, 2), 'training')).toThrow(/--backend cpu/);
    expect(() => refuseGeneralStudentOnGpu(undefined, 'training')).not.toThrow();
    expect(() => refuseGeneralStudentOnGpu(initialStudent('identity', 'equal', 2, 2), 'training')).not.toThrow();
  });
});

describe("EM's M-step for the general student", () => {
  it('with K = 1 it gives the sample mean and the (floored) sample variances exactly as defined', () => {
    const X = blobs(200);
    const N = X.rows;
    for (const cov of ['spherical', 'diag'] as const) {
      const { centres, student } = studentEmStep(X, matrix(1, 2, Float64Array.from([0.3, -0.2])), initialStudent(cov, 'learned', 1, 2));
      const mean = [0, 1].map((j) => Array.from({ length: N }, (_, n) => X.data[n * 2 + j]!).reduce((p, q) => p + q, 0) / N);
      const variance = [0, 1].map((j) => Array.from({ length: N }, (_, n) => (X.data[n * 2 + j]! - centres.data[j]!) ** 2).reduce((p, q) => p + q, 0) / N);
      const c = variancesOf(student, 2).data;
      const expected = cov === 'diag' ? variance : [0, 1].map(() => (variance[0]! + variance[1]!) / 2);
      for (let j = 0; j < 2; j++) {
        // Sums of N terms in another order: N eps relative.
        expect(Math.abs(centres.data[j]! - mean[j]!)).toBeLessThanOrEqual(N * Number.EPSILON * 10);
        expect(Math.abs(c[j]! - (expected[j]! + VARIANCE_FLOOR))).toBeLessThanOrEqual(N * Number.EPSILON * expected[j]! * 4);
      }
      expect(weightsOf(student.beta)[0]).toBe(1);
    }
  });
  it('a constant feature gives a variance at the floor, not NaN', () => {
    const X = blobs(50);
    for (let n = 0; n < 50; n++) X.data[n * 2 + 1] = 7;
    const { student } = studentEmStep(X, matrix(2, 2, Float64Array.from([-1, 7, 1, 7])), initialStudent('diag', 'learned', 2, 2));
    const c = variancesOf(student, 2).data;
    expect(c.every(Number.isFinite)).toBe(true);
    expect(Math.abs(c[1]! - VARIANCE_FLOOR)).toBeLessThanOrEqual(VARIANCE_FLOOR * 1e-9);
  });
});

describe('the estimator with a general student (CPU)', () => {
  it('fits, counts its parameters in bic, saves version 3 and loads it back to the same predictions', async () => {
    const X = blobs(600);
    const e = new DdpmGmm({ nComponents: 3, backend: new CpuBackend(), covariance: 'spherical', weights: 'learned', method: 'em', seed: 1 });
    await e.fit(X);
    expect(e.student?.covariance).toBe('spherical');
    const paper = new DdpmGmm({ nComponents: 3, backend: new CpuBackend(), method: 'em', seed: 1 });
    await paper.fit(X);
    // bic = -2 N score + p ln N: p = K d + K variances + (K - 1) weights for the general model, K d for the paper's.
    expect(e.bic(X) + 2 * X.rows * e.score(X)).toBeCloseTo((6 + 3 + 2) * Math.log(X.rows), 9);
    expect(paper.bic(X) + 2 * X.rows * paper.score(X)).toBeCloseTo(6 * Math.log(X.rows), 9);
    const file = JSON.parse(JSON.stringify(e));
    expect(file.version).toBe(3);
    expect(JSON.parse(JSON.stringify(paper)).version).toBe(1);
    const back = DdpmGmm.fromJSON(file);
    expect(Array.from(back.predict(X))).toEqual(Array.from(e.predict(X)));
    // c round-trips through log(c - floor): a few eps relative per variance, so the score agrees to about 1e-12.
    expect(Math.abs(back.score(X) - e.score(X))).toBeLessThan(1e-12 * Math.abs(e.score(X)));
    expect(() => e.sampleDirect(10, 1)).not.toThrow();
    await expect(e.sample(10, { method: 'reverse' })).rejects.toThrow(/direct/);
  });
  it('refuses a schedule or method that learns only the paper\'s student', () => {
    expect(() => new DdpmGmm({ nComponents: 2, schedule: 'two-stage', covariance: 'diag' })).toThrow(/annealed/);
    expect(() => new DdpmGmm({ nComponents: 2, method: 'gradient-em', weights: 'learned' })).toThrow(InputError);
    // K = 2 without a schedule: the general student gets screened, not the tied two-stage.
    expect(new DdpmGmm({ nComponents: 2, covariance: 'diag' }).schedule).toBe('screened');
  });
});
