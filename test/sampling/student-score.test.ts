// The general student's score at forward time t (docs/math.md sections 11 and 14): against central differences
// of log q_t (the noised mixture's density, from src/full-covariance/mixture.ts), against that file's exact
// score of the same mixture, the identity / equal case against the balanced mixture's score, K = 1 sampler
// recursions per coordinate, and the checks.
import { describe, expect, it } from 'vitest';
import { gaussianMixture, gaussianMixtureScore, mixtureLogDensities, type GaussianMixture } from '../../src/full-covariance/mixture.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import { mixtureScore } from '../../src/sampling/score.ts';
import { studentScore, studentScoreOf, type StudentScore } from '../../src/sampling/student-score.ts';
import { initialStudent } from '../../src/training/student.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { columnMoments } from './support.ts';

const EPS = Number.EPSILON;

/** A student away from the paper's point: variances in about [0.2, 3], unequal weights (diag: per coordinate). */
function someStudent(K: number, d: number, spherical: boolean, equal: boolean): StudentScore {
  const means = matrix(K, d, Float64Array.from({ length: K * d }, (_, i) => 2.5 * Math.sin(1.7 * i + 0.3)));
  const variances = matrix(K, d, Float64Array.from({ length: K * d }, (_, i) => Math.exp(1.2 * Math.cos(2.1 * (spherical ? Math.floor(i / d) : i) + 0.4))));
  const raw = Array.from({ length: K }, (_, i) => (equal ? 0 : 0.9 * Math.sin(1.9 * i + 0.2)));
  const lse = Math.log(raw.reduce((s, b) => s + Math.exp(b), 0));
  return { kind: 'student', means, variances, logWeights: Float64Array.from(raw, (b) => b - lse) };
}

/** The same mixture as a general one: weights pi, covariances diag(c). */
function asGaussianMixture(s: StudentScore): GaussianMixture {
  const { rows: K, cols: d } = s.means;
  const cov = new Float64Array(K * d * d);
  for (let i = 0; i < K; i++) for (let j = 0; j < d; j++) cov[i * d * d + j * d + j] = s.variances.data[i * d + j]!;
  const pi = Array.from(s.logWeights, Math.exp);
  const total = pi.reduce((p, q) => p + q, 0);
  return gaussianMixture(pi.map((p) => p / total), s.means, cov);
}

/** Points around the components and between them. */
function points(s: StudentScore, t: number, n: number, seed: number): Matrix {
  const { rows: K, cols: d } = s.means;
  const z = noiseMatrix(seed, 0, n, d, STREAM_DATA_GENERATOR);
  const a = Math.exp(-t);
  return matrix(n, d, Float64Array.from({ length: n * d }, (_, e) => a * s.means.data[((Math.floor(e / d) % K) * d) + (e % d)]! + 1.5 * z.data[e]!));
}

/**
 * A first-order bound on the float64 rounding of one evaluation of the score at y, taken for both evaluations
 * compared: each logit is a sum of at most 2d + 8 rounded operations (the residuals, squares, precisions, the log
 * determinant: the Cholesky path's solves included), so its absolute error is <= (2d + 8) eps Lambda with Lambda the
 * largest |logit| before the shift; that moves each w_i by <= 2 (2d + 8) eps Lambda w_i, the normalisation adds
 * (K + 2) eps, each e_ic = (m_ic - y_c) / v_ic carries (2d + 8) eps relative error, and the sum over i K eps.
 */
function scoreRounding(s: StudentScore, y: Float64Array, yOff: number, t: number): Float64Array {
  const { rows: K, cols: d } = s.means;
  const a = Math.exp(-t);
  const sigma2 = -Math.expm1(-2 * t);
  const logits = new Float64Array(K);
  let lambda = 0;
  for (let i = 0; i < K; i++) {
    let l = s.logWeights[i]!;
    let mag = Math.abs(l);
    for (let c = 0; c < d; c++) {
      const v = a * a * s.variances.data[i * d + c]! + sigma2;
      const q = (y[yOff + c]! - a * s.means.data[i * d + c]!) ** 2 / v;
      l -= 0.5 * (Math.log(v) + q);
      mag += 0.5 * (Math.abs(Math.log(v)) + q);
    }
    logits[i] = l;
    lambda = Math.max(lambda, mag);
  }
  const max = Math.max(...logits);
  const w = logits.map((l) => Math.exp(l - max));
  const total = w.reduce((p, q) => p + q, 0);
  const rel = (2 * (2 * d + 8) * lambda + (K + 2) + (2 * d + 8) + K) * EPS;
  const out = new Float64Array(d);
  for (let i = 0; i < K; i++) {
    for (let c = 0; c < d; c++) {
      const v = a * a * s.variances.data[i * d + c]! + sigma2;
      out[c] += 2 * (w[i]! / total) * (Math.abs(a * s.means.data[i * d + c]! - y[yOff + c]!) / v) * rel;
    }
  }
  return out;
}

const CASES = [
  { K: 3, d: 2, spherical: false, equal: false, t: 0.3 },
  { K: 2, d: 3, spherical: true, equal: false, t: 0.05 },
  { K: 4, d: 5, spherical: false, equal: true, t: 1.2 },
  { K: 1, d: 2, spherical: false, equal: false, t: 0.7 },
  { K: 3, d: 4, spherical: true, equal: false, t: 0 },
];

describe('the general student score (docs/math.md section 14) is the gradient of log q_t', () => {
  for (const { K, d, spherical, equal, t } of CASES) {
    it(`K = ${K}, d = ${d}, ${spherical ? 'spherical' : 'diag'}, ${equal ? 'equal' : 'unequal'} weights, t = ${t}`, () => {
      const s = someStudent(K, d, spherical, equal);
      const mixture = asGaussianMixture(s);
      const x = points(s, t, 12, 40 + K + d);
      const got = studentScore(s, x, t);
      const exact = gaussianMixtureScore(mixture, x, t);
      const h = 1e-4;
      let largest = 0;
      for (let n = 0; n < x.rows; n++) {
        const bound = scoreRounding(s, x.data, n * d, t);
        for (let c = 0; c < d; c++) {
          // The Cholesky form of the same mixture, within both evaluations' rounding bound (scoreRounding).
          expect(Math.abs(got.data[n * d + c]! - exact.data[n * d + c]!)).toBeLessThanOrEqual(bound[c]! + 1e-300);
          const logAt = (step: number): number => {
            const y = matrix(1, d, x.data.slice(n * d, (n + 1) * d));
            y.data[c] += step;
            return mixtureLogDensities(mixture, y, t)[0]!;
          };
          const dh = (logAt(h) - logAt(-h)) / (2 * h);
          const d2h = (logAt(2 * h) - logAt(-2 * h)) / (4 * h);
          // log q_t to within delta = (2d + 8 + K) eps (1 + |log q_t|) (a sum of that many rounded terms): Richardson's
          // estimate of the h^2 truncation, |D(2h) - D(h)|, plus the rounding 2 delta / (2h).
          const delta = (2 * d + 8 + K) * EPS * (1 + Math.abs(logAt(0)));
          const tol = Math.abs(d2h - dh) + (2 * delta) / (2 * h);
          expect(Math.abs(got.data[n * d + c]! - dh)).toBeLessThanOrEqual(tol);
          // Not vacuous: the tolerance is far below the score's size.
          expect(tol).toBeLessThan(1e-5 * (1 + Math.abs(dh)));
          largest = Math.max(largest, Math.abs(dh));
        }
      }
      expect(largest).toBeGreaterThan(0.1);
    });
  }
});

describe("the identity / equal case is the paper's mixture score (docs/math.md sections 3 and 14)", () => {
  it('c = 1 and pi = 1/K give the balanced mixture score to rounding, at every t', () => {
    const [K, d] = [3, 4];
    const base = someStudent(K, d, false, true);
    const s: StudentScore = { ...base, variances: matrix(K, d, new Float64Array(K * d).fill(1)) };
    for (const t of [0, 0.01, 0.5, 3]) {
      const x = points(s, t, 20, 9);
      const got = studentScore(s, x, t);
      const want = mixtureScore(x, s.means, t);
      for (let n = 0; n < x.rows; n++) {
        // v = a^2 + sigma^2 = 1 to rounding, the logits differ by log(1/K) for every i: scoreRounding's bound.
        const bound = scoreRounding(s, x.data, n * d, t);
        for (let c = 0; c < d; c++) expect(Math.abs(got.data[n * d + c]! - want.data[n * d + c]!)).toBeLessThanOrEqual(bound[c]! + 4 * EPS * Math.abs(x.data[n * d + c]!));
      }
    }
  });

  it('studentScoreOf reads the parameters: the initial student has c = 1 and log pi = log(1/K)', () => {
    const means = matrix(2, 3, Float64Array.of(1, 2, 3, -1, 0, 2));
    const s = studentScoreOf(means, initialStudent('diag', 'learned', 2, 3));
    expect(Array.from(s.variances.data)).toEqual(new Array(6).fill(1));
    expect(Array.from(s.logWeights)).toEqual([Math.log(0.5), Math.log(0.5)]);
  });
});

describe('K = 1 per coordinate: every sampler is a linear Gaussian recursion (docs/math.md section 11)', () => {
  const MU = [1.5, -2, 0.7];
  const C = [0.25, 1, 4];
  const S1: StudentScore = { kind: 'student', means: matrix(1, 3, Float64Array.from(MU)), variances: matrix(1, 3, Float64Array.from(C)), logWeights: Float64Array.of(0) };
  const N = 20000;

  /** m' = A m + b, v' = A^2 v + q per coordinate from N(0, 1); then 5 standard errors (the draws are exactly Gaussian). */
  function expectRecursion(samples: Matrix, step: (c: number, k: number) => { A: number; b: number; q: number }, S: number): void {
    const got = columnMoments(samples);
    for (let c = 0; c < 3; c++) {
      let [m, v] = [0, 1];
      for (let k = 0; k < S; k++) {
        const { A, b, q } = step(c, k);
        [m, v] = [A * m + b, A * A * v + q];
      }
      expect(Math.abs(got.mean[c]! - m)).toBeLessThan(5 * Math.sqrt(v / N));
      expect(Math.abs(got.variance[c]! - v)).toBeLessThan(5 * v * Math.sqrt(2 / (N - 1)));
    }
  }

  it('exponential integrator, uniform grid: s = (a mu - y) / v with v = a^2 c + sigma^2', () => {
    const [T, S] = [3, 20];
    const t = Array.from({ length: S + 1 }, (_, k) => T - (k * T) / S);
    const y = sampleReference(S1, N, { method: 'reverse', integrator: 'exponential', horizon: T, tMin: 0, steps: S, grid: 'uniform', seed: 3 });
    expectRecursion(y, (c, k) => {
      const e = Math.exp(t[k]! - t[k + 1]!);
      const a = Math.exp(-t[k]!);
      const v = a * a * C[c]! + 1 - a * a;
      return { A: e - (2 * (e - 1)) / v, b: (2 * (e - 1) * a * MU[c]!) / v, q: e * e - 1 };
    }, S);
  });

  it('Langevin on the clean score: y + eps (mu - y) / c + sqrt(2 eps) xi', () => {
    const [eps, S] = [0.05, 30];
    const y = sampleReference(S1, N, { method: 'langevin', stepSize: eps, steps: S, seed: 5 });
    expectRecursion(y, (c) => ({ A: 1 - eps / C[c]!, b: (eps * MU[c]!) / C[c]!, q: 2 * eps }), S);
  });
});

describe('bad general-student scores are InputErrors that name the fix', () => {
  const good = someStudent(2, 3, false, false);
  const bad: [string, StudentScore, RegExp][] = [
    ['variances of the wrong shape', { ...good, variances: matrix(2, 2) }, /variances are 2 x 2 but the centres 2 x 3/],
    ['a zero variance', { ...good, variances: matrix(2, 3, Float64Array.of(1, 1, 0, 1, 1, 1)) }, /finite number > 0 \(got 0\)/],
    ['a NaN log weight', { ...good, logWeights: Float64Array.of(0, NaN) }, /K = 2 finite log weights/],
    ['no centres', { ...good, means: matrix(0, 3) }, /K >= 1 centres/],
  ];
  for (const [name, s, message] of bad) {
    it(name, () => {
      expect(() => sampleReference(s, 10, { method: 'langevin', stepSize: 0.1, steps: 3, seed: 1 })).toThrow(message);
    });
  }
});
