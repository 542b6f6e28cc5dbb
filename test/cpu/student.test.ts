// The general student of docs/math.md section 14: its float64 gradients against central finite differences, the
// paper's student unchanged, and the floors.
import { describe, expect, it } from 'vitest';
import { ddpmLossGradPerSample } from '../../src/training/cpu-reference.ts';
import { studentLossGrad } from '../../src/training/general-reference.ts';
import {
  floorWeights,
  gammaOf,
  initialStudent,
  logWeightsOf,
  variancesOf,
  weightsOf,
  WEIGHT_FLOOR,
  type Covariance,
  type StudentParams,
  type Weights,
} from '../../src/training/student.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const EPS = Number.EPSILON;

/** Unequal spreads: row n is centre (n mod K) plus spread (1 + (n mod K) / 2) times a standard normal. */
function spreadMixture(seed: number, N: number, K: number, d: number): Matrix {
  const z = noiseMatrix(seed, 0, N, d, STREAM_DATA_GENERATOR);
  const x = matrix(N, d);
  for (let n = 0; n < N; n++) {
    const i = n % K;
    for (let j = 0; j < d; j++) x.data[n * d + j] = 2 * Math.sin(1.3 * i + 0.7 * j) + (1 + i / 2) * z.data[n * d + j]!;
  }
  return x;
}

function someCentres(K: number, d: number, scale: number, salt: number): Matrix {
  const m = matrix(K, d);
  for (let i = 0; i < K * d; i++) m.data[i] = scale * Math.sin(1.7 * i + 0.9 * salt + 0.3);
  return m;
}

/** A student away from the paper's point: c_i in about [0.4, 2.5], pi_i unequal. */
function someStudent(covariance: Covariance, weights: Weights, K: number, d: number): StudentParams {
  const s = initialStudent(covariance, weights, K, d);
  for (let q = 0; q < s.gamma.data.length; q++) s.gamma.data[q] = 0.9 * Math.cos(2.1 * q + 0.4);
  if (weights === 'learned') for (let i = 0; i < K; i++) s.beta[i] = 0.8 * Math.sin(1.9 * i + 0.2);
  return s;
}

/**
 * A first-order bound on the float64 rounding error of one evaluation of L (docs/math.md section 14). Per sample,
 * with e_ij = (m_ij - x_j)/v_ij, S_j = sum_i w_i |e_ij| + |z_j|/sigma bounds |r_j| and each term of s_j; every e_ij
 * and v_ij carries relative error <= (d + 8) eps (an exp, a product, a quotient and the sums), each logit an
 * absolute error <= (d + 8) eps Lambda_n with Lambda_n = max_i (|log pi_i| + (1/2) sum_j |log v_ij| + q_i / 2),
 * which moves each w_i by <= 2 (d + 8) eps Lambda_n w_i, plus K eps from the normalisation. So
 * |delta r_j| <= (d + K + 8)(1 + 2 Lambda_n) eps S_j, |delta r_j^2| <= 2 S_j |delta r_j|, and the N d squares are
 * summed with error <= N d eps L.
 */
function lossRounding(x0: Matrix, m: Matrix, s: StudentParams, t: number, z: Matrix): number {
  const { a, sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const c = variancesOf(s, d);
  const v = c.data.map((ci) => (s.covariance === 'identity' ? 1 : a * a * ci + sigma * sigma));
  const logPi = logWeightsOf(s.beta);
  let total = 0;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const x = Array.from({ length: d }, (_, j) => a * x0.data[n * d + j]! + sigma * z.data[n * d + j]!);
    const logits = new Float64Array(K);
    let lambda = 0;
    for (let i = 0; i < K; i++) {
      let q = 0;
      let ld = 0;
      for (let j = 0; j < d; j++) {
        q += (x[j]! - m.data[i * d + j]!) ** 2 / v[i * d + j]!;
        ld += Math.abs(Math.log(v[i * d + j]!));
      }
      logits[i] = logPi[i]! - ld / 2 - q / 2;
      lambda = Math.max(lambda, Math.abs(logPi[i]!) + ld / 2 + q / 2);
    }
    const max = Math.max(...logits);
    const w = logits.map((l) => Math.exp(l - max));
    const sum = w.reduce((p, q) => p + q, 0);
    for (let j = 0; j < d; j++) {
      let S = Math.abs(z.data[n * d + j]!) / sigma;
      let r = z.data[n * d + j]! / sigma;
      for (let i = 0; i < K; i++) {
        const e = (m.data[i * d + j]! - x[j]!) / v[i * d + j]!;
        S += (w[i]! / sum) * Math.abs(e);
        r += (w[i]! / sum) * e;
      }
      total += 2 * S * S * (d + K + 8) * (1 + 2 * lambda);
      loss += r * r;
    }
  }
  return EPS * (total / N + N * d * (loss / N));
}

/**
 * Central differences of L in one parameter with their tolerance: the truncation h^2 L'''/6 by Richardson,
 * |D(2h) - D(h)| = 3 (h^2 L'''/6) + O(h^4) (which also carries the rounding of both), plus the rounding 2 delta / (2h)
 * of D(h) with delta the bound on one evaluation of L.
 */
function centralDifference(lossAt: (step: number) => number, h: number, delta: number): { fd: number; tol: number } {
  const dh = (lossAt(h) - lossAt(-h)) / (2 * h);
  const d2h = (lossAt(2 * h) - lossAt(-2 * h)) / (4 * h);
  return { fd: dh, tol: Math.abs(d2h - dh) + 2 * (delta / h) };
}

function perturbed(s: StudentParams, which: 'gamma' | 'beta', q: number, step: number): StudentParams {
  const gamma = matrix(s.gamma.rows, s.gamma.cols, s.gamma.data.slice());
  const beta = s.beta.slice();
  if (which === 'gamma') gamma.data[q] += step;
  else beta[q] += step;
  return { ...s, gamma, beta };
}

describe('the general student against finite differences (docs/math.md section 14)', () => {
  const cases: { cov: Covariance; wts: Weights; K: number; d: number; t: number }[] = [
    { cov: 'spherical', wts: 'equal', K: 2, d: 3, t: 0.5 },
    { cov: 'spherical', wts: 'learned', K: 3, d: 2, t: 0.2 },
    { cov: 'diag', wts: 'equal', K: 2, d: 4, t: 1.0 },
    { cov: 'diag', wts: 'learned', K: 3, d: 3, t: 0.3 },
    { cov: 'diag', wts: 'learned', K: 1, d: 2, t: 0.7 },
    { cov: 'identity', wts: 'learned', K: 4, d: 2, t: 0.4 },
    { cov: 'spherical', wts: 'learned', K: 4, d: 5, t: 2.0 },
  ];
  for (const { cov, wts, K, d, t } of cases) {
    it(`${cov} / ${wts}, K=${K} d=${d} t=${t}: dL/dm, dL/dgamma and dL/dbeta`, () => {
      const N = 30;
      const x0 = spreadMixture(7 + K + d, N, K, d);
      const z = noiseMatrix(3, 1, N, d);
      const m = someCentres(K, d, 1.1, K + d);
      const s = someStudent(cov, wts, K, d);
      const g = studentLossGrad(x0, m, s, t, z);
      const h = 1e-4;
      const delta = lossRounding(x0, m, s, t, z);
      const scale = Math.hypot(...g.gradM.data, ...g.gradGamma.data, ...g.gradBeta) + 1;
      const check = (analytic: number, lossAt: (step: number) => number): void => {
        const { fd, tol } = centralDifference(lossAt, h, delta);
        // Tolerance: Richardson's truncation estimate plus 2 delta / (2h) rounding (centralDifference, lossRounding).
        expect(Math.abs(analytic - fd)).toBeLessThanOrEqual(tol);
        // The tolerance is far below the gradient's size, so a wrong term could not pass.
        expect(tol).toBeLessThan(1e-5 * scale);
      };
      for (let q = 0; q < K * d; q++) {
        check(g.gradM.data[q]!, (step) => {
          const mm = matrix(K, d, m.data.slice());
          mm.data[q] += step;
          return studentLossGrad(x0, mm, s, t, z).loss;
        });
      }
      for (let q = 0; q < s.gamma.data.length; q++) check(g.gradGamma.data[q]!, (step) => studentLossGrad(x0, m, perturbed(s, 'gamma', q, step), t, z).loss);
      for (let q = 0; q < K; q++) {
        // Equal weights learn no beta: its gradient is reported as zero, though L depends on beta through pi.
        if (wts === 'learned') check(g.gradBeta[q]!, (step) => studentLossGrad(x0, m, perturbed(s, 'beta', q, step), t, z).loss);
        else expect(g.gradBeta[q]).toBe(0);
      }
      if (cov === 'identity') expect(g.gradGamma.data.length).toBe(0);
    });
  }
});

describe("the paper's student is the special case (docs/math.md sections 5 and 14)", () => {
  it('identity covariance with equal weights returns the reference of section 5, bit for bit', () => {
    const N = 40;
    const x0 = spreadMixture(2, N, 3, 4);
    const z = noiseMatrix(4, 0, N, 4);
    const m = someCentres(3, 4, 1, 5);
    const general = studentLossGrad(x0, m, initialStudent('identity', 'equal', 3, 4), 0.6, z);
    const paper = ddpmLossGradPerSample(x0, m, 0.6, z);
    expect(Object.is(general.loss, paper.loss)).toBe(true);
    expect(Array.from(general.gradM.data)).toEqual(Array.from(paper.grad.data));
  });
  it('the general formulas at c = 1 (so v = a^2 + sigma^2 = 1) and equal weights give the gradient of section 5', () => {
    const N = 40;
    const d = 3;
    const K = 3;
    const t = 0.6;
    const x0 = spreadMixture(5, N, K, d);
    const z = noiseMatrix(6, 0, N, d);
    const m = someCentres(K, d, 1, 6);
    for (const cov of ['spherical', 'diag'] as const) {
      const s = initialStudent(cov, 'equal', K, d);
      expect(variancesOf(s, d).data.every((c) => Math.abs(c - 1) <= 2 * EPS)).toBe(true);
      const general = studentLossGrad(x0, m, s, t, z);
      const paper = ddpmLossGradPerSample(x0, m, t, z);
      // Both are float64 evaluations of the same number (v = 1 up to a few eps): each within lossRounding of L.
      const delta = lossRounding(x0, m, s, t, z);
      expect(Math.abs(general.loss - paper.loss)).toBeLessThanOrEqual(2 * delta);
      // The gradient sums N terms of size <= 2 S^2 (1 + 2 Lambda) like L's, so 2 delta bounds each entry's difference too.
      for (let q = 0; q < K * d; q++) expect(Math.abs(general.gradM.data[q]! - paper.grad.data[q]!)).toBeLessThanOrEqual(2 * delta);
    }
  });
});

describe('the floors (docs/math.md section 14)', () => {
  it('a constant feature keeps v finite through the variance floor: no NaN at small t', () => {
    const N = 20;
    const x0 = spreadMixture(8, N, 2, 3);
    for (let n = 0; n < N; n++) x0.data[n * 3 + 1] = 5;
    const s = initialStudent('diag', 'learned', 2, 3);
    // gamma far below the floor: c = floor + exp(gamma) is the floor itself.
    s.gamma.data.fill(-800);
    const g = studentLossGrad(x0, someCentres(2, 3, 1, 1), s, 1e-6, noiseMatrix(1, 0, N, 3));
    expect(Number.isFinite(g.loss)).toBe(true);
    for (const v of [...g.gradM.data, ...g.gradGamma.data, ...g.gradBeta]) expect(Number.isFinite(v)).toBe(true);
  });
  it('a collapsing weight is held at the floor and stays finite', () => {
    const beta = Float64Array.from([0, 1, -900]);
    floorWeights(beta);
    const pi = weightsOf(beta);
    expect(pi[2]).toBeGreaterThanOrEqual((WEIGHT_FLOOR / 3) * (1 - 1e-12));
    expect(pi.every(Number.isFinite)).toBe(true);
    expect(Math.abs(pi.reduce((p, q) => p + q, 0) - 1)).toBeLessThanOrEqual(4 * EPS);
  });
  it('gammaOf refuses a variance at or below the floor', () => {
    expect(() => gammaOf(0)).toThrow(/above the floor/);
  });
});
