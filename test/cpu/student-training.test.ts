// The general student through the loop, the estimator and its model file, on the CPU backend (docs/math.md section 14).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { GAMMA_MIN, gammaMinFor, initialStudent, studentFloorNotes, variancesOf, VARIANCE_FLOOR, weightsOf } from '../../src/training/student.ts';
import { resolveFit } from '../../src/fit-run.ts';
import { studentEmStep } from '../../src/training/student-mixture.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { degenerateData, emStart, samePartition, studentLabels } from '../support/degenerate-data.ts';

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
  it('a variance at the floor stays there for 100 steps: gamma stops at GAMMA_MIN, nothing turns NaN', async () => {
    const { X, labels } = degenerateData(900);
    for (const covariance of ['spherical', 'diag'] as const) {
      // EM from the class means puts class 0's variance in column 3 (diag) at the floor; at eta = K / 4, 100 steps
      // would take an unbounded gamma from there past exp's underflow, where its inverse curvature times 0 is NaN.
      const start = emStart(X, labels, covariance, 3);
      const out = await new CpuBackend().gdSteps(X, start.centres, {
        noiseScale: 0.2, tied: false, lr: 0.75, steps: 100, logEvery: 100, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, student: start.student,
      });
      expect([...out.centres.data, ...out.student!.gamma.data, ...out.student!.beta].every(Number.isFinite)).toBe(true);
      expect(Math.min(...out.student!.gamma.data)).toBeGreaterThanOrEqual(GAMMA_MIN);
      if (covariance === 'diag') expect(out.student!.gamma.data[2]).toBe(GAMMA_MIN);
      expect(samePartition(studentLabels(X, out.centres, out.student!), labels)).toBe(true);
    }
  });

  it("a fit's variance floor holds through EM and 100 GD steps, and the note names it", async () => {
    const { X, labels } = degenerateData(900);
    const floor = 0.01;
    for (const covariance of ['spherical', 'diag'] as const) {
      const start = emStart(X, labels, covariance, 3, gammaMinFor(floor));
      const out = await new CpuBackend().gdSteps(X, start.centres, {
        noiseScale: 0.2, tied: false, lr: 0.75, steps: 100, logEvery: 100, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, student: start.student,
      });
      expect(out.student!.gammaMin).toBe(gammaMinFor(floor));
      // c = 1e-6 + exp(log(floor - 1e-6)): one exp (within 1 ulp) and one add (half an ulp) of the floor.
      const c = variancesOf(out.student!, X.cols).data;
      expect(Math.min(...c)).toBeGreaterThanOrEqual(floor * (1 - 4 * 2 ** -52));
      if (covariance === 'diag') {
        // Class 0 has no spread in column 3 (nor any class in the constant columns 1 and 2): EM and GD leave it at
        // the floor, not at 1e-6.
        expect(out.student!.gamma.data[2]).toBe(gammaMinFor(floor));
        expect(studentFloorNotes(out.student!, X.cols).join(' ')).toMatch(/variance at the floor 0\.01 .*component 1 \(3 of 6 coordinates\), component 2 \(2 of 6/);
      }
      expect(samePartition(studentLabels(X, out.centres, out.student!), labels)).toBe(true);
    }
  });
  it("the estimator's default learns diag variances and weights where the fit learns them; the paper's by name", async () => {
    expect(resolveFit('ddpm', undefined, 3, false, {})).toEqual({ schedule: 'screened', covariance: 'diag', weights: 'learned' });
    expect(resolveFit('ddpm', undefined, 2, false, {})).toEqual({ schedule: 'screened', covariance: 'diag', weights: 'learned' });
    expect(resolveFit('ddpm', undefined, 2, false, { covariance: 'identity', weights: 'equal' })).toEqual({ schedule: 'two-stage', covariance: 'identity', weights: 'equal' });
    expect(resolveFit('ddpm', 'two-stage', 2, false, {})).toEqual({ schedule: 'two-stage', covariance: 'identity', weights: 'equal' });
    expect(resolveFit('ddpm', 'warm', 3, true, { covariance: 'spherical' })).toEqual({ schedule: 'warm', covariance: 'spherical', weights: 'learned' });
    expect(resolveFit('em', undefined, 3, false, {})).toMatchObject({ covariance: 'diag', weights: 'learned' });
    expect(resolveFit('power', undefined, 2, false, {})).toMatchObject({ covariance: 'identity', weights: 'equal' });
    const model = new DdpmGmm({ nComponents: 3, backend: 'cpu' });
    await model.fit(blobs(600));
    const vw = model.variancesAndWeights!;
    expect([vw.variances.rows, vw.variances.cols, vw.weights.length]).toEqual([3, 2, 3]);
    expect(model.toJSON()).toMatchObject({ covariance: 'diag', weights: 'learned' });
    model.dispose();
  });

  it('refuses the tied student', async () => {
    const cpu = new CpuBackend();
    const X = blobs(40);
    const opts = { noiseScale: 0.3, tied: true, lr: 0.5, steps: 2, noise: { kind: 'seed', seed: 1, mode: 'fresh' } as const, student: initialStudent('spherical', 'equal', 1, 2) };
    await expect(cpu.gdSteps(X, matrix(1, 2), opts)).rejects.toThrow(/annealed, single or warm/);
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
    const e = new DdpmGmm({ nComponents: 3, backend: new CpuBackend(), covariance: 'spherical', weights: 'learned', method: 'em', seed: 1, scale: 'none' });
    await e.fit(X);
    expect(e.student?.covariance).toBe('spherical');
    const paper = new DdpmGmm({ nComponents: 3, backend: new CpuBackend(), method: 'em', seed: 1, scale: 'none', covariance: 'identity', weights: 'equal' });
    await paper.fit(X);
    // bic = -2 N score + p ln N: p = K d + K variances + (K - 1) weights for the general model, K d for the paper's
    // (no scaling here: a fitted scaling adds d to both, which test/api/scaling.test.ts checks).
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
    // The samplers run the general student's score (test/api/student-sample.test.ts checks their quality).
    const samples = await e.sample(10, { method: 'reverse', seed: 1 });
    expect([samples.rows, samples.cols]).toEqual([10, 2]);
    expect(samples.data.every(Number.isFinite)).toBe(true);
  });
  it('a constant column, a nearly constant one and a class with zero variance fit without divergence, with a note', async () => {
    const { X, labels } = degenerateData(900);
    const variants = [
      { covariance: 'spherical', weights: 'learned' },
      { covariance: 'diag', weights: 'learned' },
      { covariance: 'diag', weights: 'learned', scale: 'none' },
    ] as const;
    for (const v of variants) {
      const m = new DdpmGmm({ ...v, nComponents: 3, backend: 'cpu' });
      const got = await m.fitPredict(X);
      // Classes 8 standard deviations apart: any working fit recovers them; a degenerate one does not.
      expect(samePartition(got, labels)).toBe(true);
      expect([...m.means!.data, ...m.student!.gamma.data, ...m.student!.beta].every(Number.isFinite)).toBe(true);
      // Diag: class 0 does not vary in column 3 (nor anyone in the constant columns without scaling).
      if (v.covariance === 'diag') expect(m.notes.some((n) => n.startsWith('variance at the floor'))).toBe(true);
    }
  });

  it('refuses a schedule or method that learns only the paper\'s student', () => {
    expect(() => new DdpmGmm({ nComponents: 2, schedule: 'two-stage', covariance: 'diag' })).toThrow(/annealed/);
    expect(() => new DdpmGmm({ nComponents: 2, method: 'gradient-em', weights: 'learned' })).toThrow(InputError);
    // K = 2 without a schedule: the general student gets the untied default (screened), not the tied two-stage.
    expect(new DdpmGmm({ nComponents: 2, covariance: 'diag' }).schedule).toBe('screened');
  });
});
