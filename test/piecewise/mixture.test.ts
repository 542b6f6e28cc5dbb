// The general Gaussian mixture (docs/math.md section 13): its score at time t against finite differences of its
// log-density and against the balanced spherical score; its seeded draws; full-covariance EM on an easy mixture.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { matrix } from '../../src/matrix.ts';
import { fitEmFull } from '../../src/full-covariance/em.ts';
import { gaussianMixture, gaussianMixtureScore, generateGaussianMixture, mixtureLogDensities, sampleGaussianMixture, sphericalMixture } from '../../src/full-covariance/mixture.ts';
import { mixtureScore } from '../../src/sampling/score.ts';

const MIX = gaussianMixture([0.7, 0.3], matrix(2, 2, Float64Array.from([0, 0, 6, 2])), [2, 0.8, 0.8, 1, 0.5, -0.2, -0.2, 1.5]);

describe('a general Gaussian mixture', () => {
  it('has the gradient of its log-density at time t as its score (central differences, h = 1e-5)', () => {
    const x = matrix(3, 2, Float64Array.from([0.3, -0.4, 3, 1, 5.5, 2.5]));
    for (const t of [0, 0.1, 1]) {
      const s = gaussianMixtureScore(MIX, x, t);
      for (let n = 0; n < 3; n++) {
        for (let c = 0; c < 2; c++) {
          const h = 1e-5;
          const plus = matrix(1, 2, x.data.slice(n * 2, n * 2 + 2));
          const minus = matrix(1, 2, x.data.slice(n * 2, n * 2 + 2));
          plus.data[c] += h;
          minus.data[c] -= h;
          const fd = (mixtureLogDensities(MIX, plus, t)[0]! - mixtureLogDensities(MIX, minus, t)[0]!) / (2 * h);
          // Central differences: O(h^2) truncation and 1e-16 / h rounding, both below 1e-8 here.
          expect(Math.abs(s.data[n * 2 + c]! - fd)).toBeLessThan(1e-7);
        }
      }
    }
  });

  it('equals the balanced spherical score of docs/math.md section 11 when the covariances are I', () => {
    const centres = matrix(3, 2, Float64Array.from([0, 0, 3, 1, -2, 4]));
    const x = matrix(4, 2, Float64Array.from([0.1, 0.2, 1.5, 0.5, -1, 2, 5, 5]));
    for (const t of [0, 0.3, 2]) {
      const a = gaussianMixtureScore(sphericalMixture(centres), x, t).data;
      const b = mixtureScore(x, centres, t).data;
      // C = a^2 + sigma^2 = 1 up to rounding: the two agree to a few ulp of the score's size.
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
    }
  });

  it('draws with its weights, means and covariances (within 4 standard errors at n = 20000)', () => {
    const n = 20000;
    const { data, labels } = generateGaussianMixture(MIX, n, 4);
    const w0 = labels.filter((l) => l === 0).length / n;
    expect(Math.abs(w0 - 0.7)).toBeLessThan(4 * Math.sqrt((0.7 * 0.3) / n));
    // Component 1's mean along x: variance 2 over 0.7 n draws.
    let m = 0;
    let k = 0;
    for (let i = 0; i < n; i++) if (labels[i] === 0) [m, k] = [m + data.data[2 * i]!, k + 1];
    expect(Math.abs(m / k)).toBeLessThan(4 * Math.sqrt(2 / k));
    // Direct samples use another stream: not the generator's numbers.
    expect(sampleGaussianMixture(MIX, 10, 4).data).not.toEqual(data.data.slice(0, 20));
  });

  it('refuses weights that do not sum to 1 and a covariance that is not positive definite', () => {
    const means = matrix(1, 2);
    expect(() => gaussianMixture([0.5], means, [1, 0, 0, 1])).toThrow(/weights must sum to 1 \(got 0.5\)/);
    expect(() => gaussianMixture([1], means, [1, 2, 2, 1])).toThrow(InputError);
    expect(() => gaussianMixture([1], means, [1, 2, 2, 1])).toThrow(/covariance 1 \(1-based\) is not positive definite/);
    expect(() => gaussianMixture([1], means, [1, 0.5, 0, 1])).toThrow(/not symmetric/);
  });
});

describe('full-covariance EM', () => {
  it('recovers weights, means and covariances of an easy mixture within 4 standard errors, and beats the truth in likelihood', () => {
    const N = 4000;
    const { data } = generateGaussianMixture(MIX, N, 9);
    const fit = fitEmFull(data, 2, { seed: 1 });
    expect(fit.converged).toBe(true);
    const order = fit.mixture.means.data[0]! < fit.mixture.means.data[2]! ? [0, 1] : [1, 0];
    order.forEach((i, truthIndex) => {
      const w = MIX.weights[truthIndex]!;
      // Weight: binomial se sqrt(w (1 - w) / N), 0.0072 here.
      expect(Math.abs(fit.mixture.weights[i]! - w)).toBeLessThan(4 * Math.sqrt((w * (1 - w)) / N));
      for (let c = 0; c < 2; c++) {
        // Mean: se sqrt(Sigma_cc / (N w)), at most sqrt(2 / 1200) = 0.041.
        const se = Math.sqrt(MIX.covariances[truthIndex * 4 + c * 3]! / (N * w));
        expect(Math.abs(fit.mixture.means.data[i * 2 + c]! - MIX.means.data[truthIndex * 2 + c]!)).toBeLessThan(4 * se);
      }
      for (let e = 0; e < 4; e++) {
        // Covariance entry (a, b): se sqrt((S_aa S_bb + S_ab^2) / (N w)) for Gaussian data.
        const [r, c] = [e >> 1, e & 1];
        const S = (u: number, v: number): number => MIX.covariances[truthIndex * 4 + u * 2 + v]!;
        const se = Math.sqrt((S(r, r) * S(c, c) + S(r, c) ** 2) / (N * w));
        expect(Math.abs(fit.mixture.covariances[i * 4 + e]! - S(r, c))).toBeLessThan(4 * se);
      }
    });
    // The MLE's likelihood is at least the truth's on the same data (EM stops within tol = 1e-3 of a maximum).
    const truthLl = mixtureLogDensities(MIX, data).reduce((s, v) => s + v, 0) / N;
    expect(fit.logLikelihood).toBeGreaterThan(truthLl - 1e-3);
    expect(fit.history.length).toBe(fit.nIter);
  });

  it('refuses K > N and a bad tol in one line', () => {
    expect(() => fitEmFull(matrix(3, 2), 4)).toThrow(/1 <= K <= N = 3 \(got 4\)/);
    expect(() => fitEmFull(matrix(3, 2), 2, { tol: 0 })).toThrow(/tol must be a finite number > 0/);
  });
});
