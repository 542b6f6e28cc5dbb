// The time grids, the per-step coefficients, the Philox layout of the sampler noise and the mixture
// score (docs/math.md section 11).
import { describe, expect, it } from 'vitest';
import { noiseMatrix } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import { packSteps, samplerSteps, STEP_FIELDS, STEP_STRIDE, timeGrid } from '../../src/sampling/grid.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import { mixtureScore } from '../../src/sampling/score.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { fromRows } from './support.ts';

const EPS = Number.EPSILON;

/** log q(y) + const for the mixture (1/K) sum_i N(a mu_i, I), by log-sum-exp: the score's potential. */
function logDensity(y: number[], centres: Matrix, a: number): number {
  const d = centres.cols;
  const logits = Array.from({ length: centres.rows }, (_, i) =>
    -y.reduce((s, v, c) => s + (v - a * centres.data[i * d + c]!) ** 2, 0) / 2,
  );
  const max = Math.max(...logits);
  return max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
}

describe('time grids', () => {
  it('uniform: t_k = T - k (T - tMin) / S, ending exactly at tMin', () => {
    const t = timeGrid(3, 0.1, 4, 'uniform');
    // Each t_k is one subtraction and one division from the formula: within 2 ulp of T.
    for (let k = 0; k <= 4; k++) expect(Math.abs(t[k]! - (3 - (k * 2.9) / 4))).toBeLessThanOrEqual(4 * EPS * 3);
    expect(t[0]).toBe(3);
    expect(t[4]).toBe(0.1);
  });

  it('geometric: equal ratios down to tMin > 0; down to 0 through 1e-3 T with a last step to 0', () => {
    const t = timeGrid(8, 0.01, 5, 'geometric');
    // pow is correctly rounded to within 1 ulp in practice; the ratio of two then agrees to a few ulp.
    for (let k = 0; k < 5; k++) expect(t[k + 1]! / t[k]!).toBeCloseTo((0.01 / 8) ** (1 / 5), 14);
    expect([t[0], t[5]]).toEqual([8, 0.01]);
    const z = timeGrid(8, 0, 5, 'geometric');
    for (let k = 0; k < 4; k++) expect(z[k]!).toBeCloseTo(8 * 1e-3 ** (k / 4), 13);
    expect(z[4]!).toBeCloseTo(8e-3, 15);
    expect(z[5]).toBe(0);
  });
});

describe('step coefficients', () => {
  const grid = { horizon: 2, tMin: 0.5, steps: 3, grid: 'uniform', seed: 1 } as const;

  it('exponential, Euler-Maruyama and Heun follow the formulas of docs/math.md section 11', () => {
    const h = 0.5;
    // The increments are the formulas' coefficients minus 1 on y, exact to a few ulp.
    const exp = samplerSteps({ method: 'reverse', integrator: 'exponential', ...grid });
    expect(exp).toHaveLength(3);
    for (const [k, s] of exp.entries()) {
      expect(s.t).toBeCloseTo(2 - k * h, 15);
      expect(s.h).toBeCloseTo(h, 15);
      expect(s.a).toBeCloseTo(Math.exp(-(2 - k * h)), 15);
      expect(s.aNext).toBeCloseTo(Math.exp(-(2 - (k + 1) * h)), 15);
      expect(1 + s.cy).toBeCloseTo(Math.exp(h), 14);
      expect(s.cs).toBeCloseTo(2 * (Math.exp(h) - 1), 14);
      expect(s.cxi).toBeCloseTo(Math.sqrt(Math.exp(2 * h) - 1), 14);
    }
    const em = samplerSteps({ method: 'reverse', integrator: 'euler-maruyama', ...grid })[1]!;
    expect([em.cy, em.cs, em.cxi]).toEqual([em.h, 2 * em.h, Math.sqrt(2 * em.h)]);
    const heun = samplerSteps({ method: 'ode', integrator: 'heun', ...grid })[2]!;
    expect([heun.cy, heun.cs, heun.cxi, heun.tNext]).toEqual([heun.h, heun.h, 0, 0.5]);
    const lang = samplerSteps({ method: 'langevin', stepSize: 0.02, steps: 4, seed: 1 });
    expect(lang).toHaveLength(4);
    expect(lang[3]).toEqual({ t: 0, a: 1, tNext: 0, aNext: 1, h: 0.02, cy: 0, cs: 0.02, cxi: Math.sqrt(0.04) });
  });

  it('keeps a tiny step exact: expm1, not exp(h) - 1', () => {
    const [s] = samplerSteps({ method: 'reverse', integrator: 'exponential', horizon: 1e-9, tMin: 0, steps: 1, grid: 'uniform', seed: 0 });
    // expm1(h) = h (1 + h/2 + ...) to within 1 ulp; exp(h) - 1 would be off by ~1e-7 relative here.
    expect(Math.abs(s!.cy / 1e-9 - 1)).toBeLessThan(1e-9 + 2 * EPS);
    expect(Math.abs(s!.cxi / Math.sqrt(2e-9) - 1)).toBeLessThan(1e-9 + 2 * EPS);
  });

  it('packs STEP_STRIDE numbers per step in the order of STEP_FIELDS', () => {
    const steps = samplerSteps({ method: 'reverse', integrator: 'exponential', ...grid });
    const table = packSteps(steps);
    expect(table).toHaveLength(3 * STEP_STRIDE);
    STEP_FIELDS.forEach((f, j) => expect(table[STEP_STRIDE + j]).toBe(steps[1]![f]));
  });
});

describe('sampler noise and score', () => {
  it('starts at Philox step 0 and draws xi_k at step k + 1 of STREAMS.sampler, coordinates as the training noise', () => {
    const centres = fromRows([[1, -2, 0.5, 3, 1], [-1, 0.5, 2, 0, -1]]);
    const [n, d, seed] = [7, 5, 11];
    const opts = { method: 'reverse', integrator: 'exponential', horizon: 1.5, tMin: 0.3, steps: 2, grid: 'uniform', seed } as const;
    const y0 = noiseMatrix(seed, 0, n, d, STREAMS.sampler);
    let y = y0;
    for (let k = 0; k < 2; k++) {
      const t = 1.5 - k * 0.6;
      const h = 0.6;
      const s = mixtureScore(y, centres, t);
      const xi = noiseMatrix(seed, k + 1, n, d, STREAMS.sampler);
      const next = matrix(n, d);
      for (let i = 0; i < n * d; i++) {
        next.data[i] = Math.exp(h) * y.data[i]! + 2 * (Math.exp(h) - 1) * s.data[i]! + Math.sqrt(Math.exp(2 * h) - 1) * xi.data[i]!;
      }
      y = next;
    }
    const got = sampleReference(centres, n, opts);
    // The same two steps in another rounding order: a few ulp per term (terms up to ~10 |y|), amplified by
    // at most e^h + 2 (e^h - 1)(1 + a^2 max ||mu_i - mu_j||^2 / 4) < 8 per step: far below 1e-12 (1 + |y|).
    // A wrong counter or stream would differ by O(1).
    for (let i = 0; i < n * d; i++) expect(Math.abs(got.data[i]! - y.data[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(y.data[i]!)));
  });

  it('is the gradient of log q_t: central differences agree', () => {
    const centres = fromRows([[1.5, -0.5, 2], [-1, 1, 0], [0.3, 2.2, -1.4]]);
    const t = 0.7;
    const a = Math.exp(-t);
    const x = fromRows([[0.2, 0.1, -0.3], [2.5, -1, 1.5], [-3, 4, 0.5]]);
    const s = mixtureScore(x, centres, t);
    const step = 1e-5;
    for (let r = 0; r < x.rows; r++) {
      const y = Array.from(x.data.subarray(3 * r, 3 * r + 3));
      for (let c = 0; c < 3; c++) {
        const up = [...y];
        const down = [...y];
        up[c] += step;
        down[c] -= step;
        const fd = (logDensity(up, centres, a) - logDensity(down, centres, a)) / (2 * step);
        // Truncation h^2 |f'''| / 6 (|f'''| <= ~10 here) plus rounding ~eps |log q| / h: about 1e-9.
        expect(Math.abs(s.data[3 * r + c]! - fd)).toBeLessThan(1e-8);
      }
    }
  });
});
