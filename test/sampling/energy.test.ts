// The energy distance (docs/math.md section 11): scipy's 1-D definition, and the closed form for two
// shifted Gaussians.
import { describe, expect, it } from 'vitest';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { energyDistance } from '../../src/metrics/cpu.ts';
import { matrix } from '../../src/types.ts';
import { meanAndError } from './support.ts';

const EPS = Number.EPSILON;

/** scipy.stats.energy_distance: sqrt(2) times the L2 distance of the empirical CDFs, integrated exactly. */
function scipyEnergy1d(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const us = Float64Array.from(u).sort();
  const vs = Float64Array.from(v).sort();
  const all = Float64Array.from([...us, ...vs]).sort();
  let [i, j, sum] = [0, 0, 0];
  for (let k = 0; k + 1 < all.length; k++) {
    // CDFs at all[k], as searchsorted(..., side='right'): the count of values <= all[k].
    while (i < us.length && us[i]! <= all[k]!) i++;
    while (j < vs.length && vs[j]! <= all[k]!) j++;
    sum += (i / us.length - j / vs.length) ** 2 * (all[k + 1]! - all[k]!);
  }
  return Math.sqrt(2) * Math.sqrt(sum);
}

/** (1/(n m)) sum |u_i - v_j| in 1-D, for the rounding bound (its own rounding does not matter there). */
function meanAbs(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) for (let j = 0; j < v.length; j++) s += Math.abs(u[i]! - v[j]!);
  return s / (u.length * v.length);
}

function erf(x: number): number {
  // Maclaurin series: alternating, |x| < 2 here, so 60 terms reach double precision.
  let [term, sum] = [x, x];
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** E||X - Y|| for X ~ N(0, I_d), Y ~ N(delta, I_d): X - Y ~ N(-delta, 2 I), so sqrt(2) E||Z + lambda e||, lambda = |delta| / sqrt 2. */
function meanCrossDistance(d: 1 | 3, delta: number): number {
  const l = delta / Math.SQRT2;
  if (d === 1) {
    // E|Z| for Z ~ N(mu, s^2): s sqrt(2/pi) e^{-mu^2 / 2 s^2} + mu (1 - 2 Phi(-mu / s)), here with s = 1, mu = l.
    return Math.SQRT2 * (Math.sqrt(2 / Math.PI) * Math.exp(-l * l / 2) + l * erf(l / Math.SQRT2));
  }
  // The mean of the noncentral chi with 3 degrees of freedom.
  return Math.SQRT2 * ((l + 1 / l) * erf(l / Math.SQRT2) + Math.sqrt(2 / Math.PI) * Math.exp(-l * l / 2));
}

/** The same mean by quadrature of the density of |Z + l e|: (r / l)(phi(r - l) - phi(r + l)) in 3-D, phi(r - l) + phi(r + l) in 1-D. */
function meanCrossDistanceQuadrature(d: 1 | 3, delta: number): number {
  const l = delta / Math.SQRT2;
  const phi = (z: number): number => Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
  // In 1-D, |Z| folded onto r >= 0 keeps the integrand smooth (Simpson would stall at the kink of |z|).
  const f = d === 1 ? (r: number) => r * (phi(r - l) + phi(r + l)) : (r: number) => ((r * r) / l) * (phi(r - l) - phi(r + l));
  const [lo, hi, steps] = [0, l + 14, 20000];
  const h = (hi - lo) / steps;
  let s = f(lo) + f(hi);
  for (let k = 1; k < steps; k++) s += (k % 2 ? 4 : 2) * f(lo + k * h);
  return (Math.SQRT2 * s * h) / 3;
}

describe('energy distance', () => {
  it('equals scipy.stats.energy_distance on a known answer', () => {
    const u = [0.3, -1.2, 2.5, 0.3, 4.1, -0.7, 1.9];
    const v = [1.1, 0.2, -2.2, 3.3, 0.9];
    // scipy 1.17.1: energy_distance(u, v) = 0.5147616845072435; a few ulp of rounding either side.
    const got = energyDistance(matrix(7, 1, Float64Array.from(u)), matrix(5, 1, Float64Array.from(v)));
    expect(Math.abs(got - 0.5147616845072435)).toBeLessThan(16 * EPS);
    expect(Math.abs(scipyEnergy1d(u, v) - 0.5147616845072435)).toBeLessThan(16 * EPS);
  });

  it('matches the empirical-CDF definition on random 1-D data to 1e-12 relative', () => {
    const [n, m] = [300, 250];
    const u = noiseMatrix(21, 0, n, 1, STREAM_DATA_GENERATOR).data;
    const v = noiseMatrix(22, 0, m, 1, STREAM_DATA_GENERATOR).data.map((z) => 0.7 + 1.5 * z);
    const got = energyDistance(matrix(n, 1, u), matrix(m, 1, v));
    const want = scipyEnergy1d(u, v);
    // Each compensated mean is within ~4 eps relative (one rounding per distance, a few for the sum);
    // D^2 = 2A - B - C cancels by (2A + B + C) / D^2, and the square root halves the relative error. The
    // CDF sum has only positive terms: (n + m) eps relative at most.
    const [A, B, C] = [meanAbs(u, v), meanAbs(u, u), meanAbs(v, v)];
    const bound = (4 * EPS * (2 * A + B + C)) / (2 * want * want) + (n + m) * EPS;
    expect(bound).toBeLessThan(1e-12);
    expect(Math.abs(got - want) / want).toBeLessThan(bound);
  });

  it('is symmetric and about 0 between a set and itself', () => {
    const x = noiseMatrix(23, 0, 200, 3, STREAM_DATA_GENERATOR);
    const y = noiseMatrix(24, 0, 150, 3, STREAM_DATA_GENERATOR);
    expect(Math.abs(energyDistance(x, y) - energyDistance(y, x))).toBeLessThan(1e-12);
    // D^2 is rounding only: 4 compensated means of E||X - X'|| (< 3 here), each within (d + 4) eps
    // relative, so D^2 < 4 x 7 eps x 3 and D below its square root.
    expect(energyDistance(x, x)).toBeLessThan(Math.sqrt(4 * 7 * EPS * 3));
  });

  it.each([
    [1, 1.2],
    [3, 1.5],
  ] as const)('reaches the closed form for N(0, I) vs N(delta, I) in d = %i, |delta| = %f', (d, delta) => {
    // The closed form first against quadrature (Simpson, 20000 panels: error far below 1e-9).
    const cross = meanCrossDistance(d, delta);
    expect(Math.abs(cross - meanCrossDistanceQuadrature(d, delta))).toBeLessThan(1e-9);
    // E||X - X'|| = sqrt(2) E chi_d: 2 / sqrt(pi) in 1-D, 4 / sqrt(pi) in 3-D.
    const within = d === 1 ? 2 / Math.sqrt(Math.PI) : 4 / Math.sqrt(Math.PI);
    const [n, replicates] = [1000, 8];
    // The V-statistic keeps the zero diagonal: E[D_V^2] = D^2 + E||X - X'|| / n + E||Y - Y'|| / m.
    const expected = 2 * cross - 2 * within + (2 * within) / n;
    const values: number[] = [];
    for (let r = 0; r < replicates; r++) {
      const x = noiseMatrix(100 + r, 0, n, d, STREAM_DATA_GENERATOR);
      const y = noiseMatrix(200 + r, 0, n, d, STREAM_DATA_GENERATOR);
      // delta along the first axis (the distance is rotation invariant).
      for (let i = 0; i < n; i++) y.data[i * d] = y.data[i * d]! + delta;
      values.push(energyDistance(x, y) ** 2);
    }
    const { mean, se } = meanAndError(values);
    // Monte Carlo: 4 standard errors of the replicate mean, measured from the replicates.
    expect(Math.abs(mean - expected)).toBeLessThan(4 * se);
    // and the test can tell: the standard error is well below the distance itself.
    expect(4 * se).toBeLessThan(0.2 * expected);
  });
});
