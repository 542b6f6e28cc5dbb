// The soft assignment of the piecewise model (docs/math.md section 13): the gated score by hand, the sampler
// path, one cell equal to the hard fit, and on a separated isotropic mixture with J = K the exact model class,
// whose score error falls with N where the hard cells' does not.
import { describe, expect, it } from 'vitest';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix } from '../../src/matrix.ts';
import { fitPiecewise } from '../../src/piecewise/fit.ts';
import { gaussianMixture, generateGaussianMixture } from '../../src/full-covariance/mixture.ts';
import { piecewiseScore } from '../../src/piecewise/score.ts';
import { SOFT_CUTOFF } from '../../src/piecewise/soft.ts';
import type { PiecewiseModel } from '../../src/piecewise/model.ts';
import { scoreError } from '../../src/metrics/cpu.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import type { SamplerOptions } from '../../src/sampling/options.ts';

/** d = 1, cells at -1 and 2, experts s = 3 u + 1 and s = -u (u = x - c), gate width tau. */
function twoCells(tau: number): PiecewiseModel {
  const level = { t: 1, cells: matrix(2, 1, Float64Array.from([-1, 2])), coef: matrix(4, 1, Float64Array.from([3, 1, -1, 0])), tau };
  return { kind: 'piecewise', d: 1, degree: 1, interpolation: 'linear', levels: [level] };
}

describe('the soft piecewise score', () => {
  it('blends the cells by softmax(-||x - c_j||^2 / (2 tau)) and drops gates below the cutoff', () => {
    const x = 0.3;
    const l = [-((x + 1) ** 2) / 2, -((x - 2) ** 2) / 2];
    const r0 = 1 / (1 + Math.exp(l[1]! - l[0]!));
    const want = r0 * (3 * (x + 1) + 1) + (1 - r0) * -(x - 2);
    expect(piecewiseScore(twoCells(1), matrix(1, 1, Float64Array.from([x])), 1).data[0]).toBeCloseTo(want, 13);
    // At x = 8 the first cell's gate is e^{-(81 - 36) / 2} = 1.7e-10 of the second's, below the cutoff: exactly -u.
    expect(Math.exp(-(81 - 36) / 2)).toBeLessThan(SOFT_CUTOFF);
    expect(piecewiseScore(twoCells(1), matrix(1, 1, Float64Array.from([8])), 1).data[0]).toBe(-6);
    expect(() => piecewiseScore(twoCells(0), matrix(1, 1), 1)).toThrow(/tau must be a finite number > 0/);
  });

  it('samples through the score source: identical experts -x give the samples of the centre 0 to rounding', () => {
    const minus = matrix(6, 2, Float64Array.from([-1, 0, 0, -1, 0, 0, -1, 0, 0, -1, -1, 2]));
    // Cell 2's expert is -x = -(x - c) - c with c = (1, -2): its constant row is -c.
    const level = (t: number) => ({ t, cells: matrix(2, 2, Float64Array.from([0, 0, 1, -2])), coef: minus, tau: 0.7 });
    const model: PiecewiseModel = { kind: 'piecewise', d: 2, degree: 1, interpolation: 'linear', levels: [level(2), level(0.1)] };
    const options: SamplerOptions = { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 0, steps: 40, grid: 'geometric', seed: 5 };
    const want = sampleReference(matrix(1, 2), 50, options).data;
    // The gates sum to 1 to rounding, so each step differs from -x by ulps: 1e-12 over 40 steps.
    sampleReference(model, 50, options).data.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(want[i]!))));
  });
});

describe('the soft fit', () => {
  it('with one cell is the hard fit (every gate is 1), so it keeps the exactness for one Gaussian', async () => {
    const g = gaussianMixture([1], matrix(1, 2, Float64Array.from([1, -2])), [4, 1.2, 1.2, 0.5]);
    const data = generateGaussianMixture(g, 2000, 3).data;
    const o = { cells: 1, levels: 4, horizon: 2, tMin: 0.05, draws: 2, seed: 1 } as const;
    const hard = await fitPiecewise(data, o);
    const soft = await fitPiecewise(data, { ...o, assignment: 'soft' });
    soft.model.levels.forEach((level, l) => {
      expect(level.tau).toBeGreaterThan(0);
      expect(hard.model.levels[l]!.tau).toBeUndefined();
      // The same sums and the same Cholesky solve; only the loss formulas round differently (ties of the ridge).
      level.coef.data.forEach((v, i) => expect(v).toBeCloseTo(hard.model.levels[l]!.coef.data[i]!, 9));
    });
    await expect(fitPiecewise(data, { ...o, assignment: 'fuzzy' as 'soft' })).rejects.toThrow(/'hard' or 'soft'/);
    await expect(fitPiecewise(data, { ...o, assignment: 'soft', tau: -1 })).rejects.toThrow(/s0\^2 >= 0/);
  });

  it('with J = K on a separated isotropic mixture is the exact class: its error falls with N, the hard cells keep a floor', async () => {
    // Levels t = 1.14, 0.61, 0.33 of the ladder 4 .. 0.05 in 8 levels, where the posterior switches between the two
    // components over the width of the overlap. Measured (docs/experiments.md): hard 0.017-0.068 at both N; soft
    // 1.2e-3-6.3e-3 at N = 1000 and 2.6e-5-5.1e-4 at N = 16000.
    const err: Record<string, number[][]> = { hard: [], soft: [] };
    for (const N of [1000, 16000]) {
      const { data, truth } = generateMixture({ k: 2, d: 2, n: N, separation: 6, seed: 7 });
      for (const assignment of ['hard', 'soft'] as const) {
        const fit = await fitPiecewise(data, { cells: 2, levels: 8, horizon: 4, tMin: 0.05, seed: 1, assignment });
        err[assignment]!.push([2, 3, 4].map((l) => scoreError(fit.model, truth, fit.model.levels[l]!.t, 4000, 1).value));
      }
    }
    for (let i = 0; i < 3; i++) {
      // Pure variance falls 16-fold with 16 times the data; a fit that stopped improving would fail 1/4.
      expect(err.soft![1]![i]!).toBeLessThan(err.soft![0]![i]! / 4);
      // The hard cells' switch is misspecified: more data leave most of the error (measured ratio 0.9-1).
      expect(err.hard![1]![i]!).toBeGreaterThan(err.hard![0]![i]! / 4);
      expect(err.soft![1]![i]!).toBeLessThan(err.hard![1]![i]! / 10);
    }
  });
});
