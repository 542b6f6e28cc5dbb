// K = 1: the score a mu - y is linear, so every sampler is a linear Gaussian recursion whose mean and
// variance per coordinate are known in closed form (docs/math.md section 11, "K = 1").
import { describe, expect, it } from 'vitest';
import { noiseMatrix } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import { columnMoments, fromRows } from './support.ts';

const EPS = Number.EPSILON;
const MU = [1.5, -2, 0.7];
const CENTRE = fromRows([MU]);
const N = 20000;

/** Mean and variance after the steps (y_0 ~ N(0, I)): m' = A m + b mu, v' = A^2 v + q, per coordinate. */
function recursion(steps: readonly { A: number; b: number; q: number }[]): { mean: number[]; variance: number } {
  let m = MU.map(() => 0);
  let v = 1;
  for (const { A, b, q } of steps) {
    m = m.map((mc, c) => A * mc + b * MU[c]!);
    v = A * A * v + q;
  }
  return { mean: m, variance: v };
}

/** The uniform grid of docs/math.md section 11, written out again: t_k = T - k (T - tMin) / S. */
function uniformTimes(T: number, S: number): number[] {
  return Array.from({ length: S + 1 }, (_, k) => T - (k * T) / S);
}

/**
 * The draws are exactly Gaussian (a linear map of Philox normals), so the sample mean has standard error
 * sqrt(v / N) and the sample variance v sqrt(2 / (N - 1)). 5 standard errors: 18 comparisons in this file
 * would all pass by chance with probability above 0.9999 if the recursion is right.
 */
function expectMoments(samples: ReturnType<typeof sampleReference>, want: { mean: number[]; variance: number }): void {
  const got = columnMoments(samples);
  for (let c = 0; c < MU.length; c++) {
    expect(Math.abs(got.mean[c]! - want.mean[c]!)).toBeLessThan(5 * Math.sqrt(want.variance / N));
    expect(Math.abs(got.variance[c]! - want.variance)).toBeLessThan(5 * want.variance * Math.sqrt(2 / (N - 1)));
  }
}

describe('K = 1 recursions', () => {
  it.each([5, 20, 100])('exponential integrator, uniform grid with S = %i', (S) => {
    const T = 3;
    const t = uniformTimes(T, S);
    // s = a_k mu - y: y' = e^h y + 2 (e^h - 1)(a_k mu - y) + sqrt(e^{2h} - 1) xi.
    const want = recursion(
      t.slice(0, S).map((tk, k) => {
        const e = Math.exp(tk - t[k + 1]!);
        return { A: e - 2 * (e - 1), b: 2 * (e - 1) * Math.exp(-tk), q: e * e - 1 };
      }),
    );
    const y = sampleReference(CENTRE, N, { method: 'reverse', integrator: 'exponential', horizon: T, tMin: 0, steps: S, grid: 'uniform', seed: 3 });
    expectMoments(y, want);
    if (S === 5) {
      // The recursion, not the target N(mu, I): at h = 0.6 the frozen score leaves the variance far from 1.
      expect(want.variance).toBeGreaterThan(2);
    }
  });

  it('Euler-Maruyama: y + h (y + 2 (a mu - y)) + sqrt(2h) xi', () => {
    const [T, S] = [3, 30];
    const t = uniformTimes(T, S);
    const want = recursion(
      t.slice(0, S).map((tk, k) => {
        const h = tk - t[k + 1]!;
        return { A: 1 - h, b: 2 * h * Math.exp(-tk), q: 2 * h };
      }),
    );
    expectMoments(sampleReference(CENTRE, N, { method: 'reverse', integrator: 'euler-maruyama', horizon: T, tMin: 0, steps: S, grid: 'uniform', seed: 4 }), want);
  });

  it('Langevin on the clean score: y + eps (mu - y) + sqrt(2 eps) xi', () => {
    const [eps, S] = [0.1, 25];
    const want = recursion(Array.from({ length: S }, () => ({ A: 1 - eps, b: eps, q: 2 * eps })));
    expectMoments(sampleReference(CENTRE, N, { method: 'langevin', stepSize: eps, steps: S, seed: 5 }), want);
  });

  it('Heun on the probability-flow ODE moves every start by the trapezoid rule of a_t mu', () => {
    // f(y, t) = y + (a_t mu - y) = a_t mu does not depend on y, so y_S = y_0 + mu sum_k (h/2)(a_k + a_{k+1}).
    const [T, S, n] = [6, 40, 50];
    const opts = { method: 'ode', integrator: 'heun', horizon: T, tMin: 0.01, steps: S, grid: 'geometric', seed: 6 } as const;
    const y = sampleReference(CENTRE, n, opts);
    const y0 = noiseMatrix(6, 0, n, 3, STREAMS.sampler);
    const times = Array.from({ length: S + 1 }, (_, k) => (k === S ? 0.01 : T * (0.01 / T) ** (k / S)));
    let shift = 0;
    let trapezoidError = 0;
    for (let k = 0; k < S; k++) {
      const h = times[k]! - times[k + 1]!;
      shift += (h / 2) * (Math.exp(-times[k]!) + Math.exp(-times[k + 1]!));
      // The trapezoid rule's error on one step is h^3 / 12 |f''(xi)| <= h^3 e^{-t_{k+1}} / 12.
      trapezoidError += (h ** 3 / 12) * Math.exp(-times[k + 1]!);
    }
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < 3; c++) {
        // y + (a mu - y) cancels to within an ulp of |y| (<= 6) per evaluation, two per step: 40 steps x 2 x 6 eps x 4.
        expect(Math.abs(y.data[3 * r + c]! - (y0.data[3 * r + c]! + shift * MU[c]!))).toBeLessThan(S * 2 * 6 * 4 * EPS * 4);
      }
    }
    // The exact flow moves by mu (e^{-tMin} - e^{-T}); Heun differs by the trapezoid rule's error.
    expect(Math.abs(shift - (Math.exp(-0.01) - Math.exp(-T)))).toBeLessThanOrEqual(trapezoidError);
  });
});
