// Sample quality with the true score (docs/math.md section 11): fine reverse diffusion is as close to
// the mixture as direct draws are to each other; a coarse run is not; Langevin keeps its start's modes.
import { describe, expect, it } from 'vitest';
import { noiseMatrix } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import { energyDistance, modeWeights } from '../../src/metrics/cpu.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import type { DiffusionSampler } from '../../src/sampling/options.ts';
import type { Matrix } from '../../src/types.ts';
import { directSamples, fromRows, meanAndError } from './support.ts';

/** E||X - X'|| estimated without the diagonal (a U-statistic): the null level of the energy distance. */
function meanPairDistance(x: Matrix): number {
  const d = x.cols;
  let s = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = i + 1; j < x.rows; j++) {
      let q = 0;
      for (let c = 0; c < d; c++) q += (x.data[i * d + c]! - x.data[j * d + c]!) ** 2;
      s += Math.sqrt(q);
    }
  }
  return (2 * s) / (x.rows * (x.rows - 1));
}

const TRUTH = fromRows([[3, 0], [-1.5, 2.6], [-1.5, -2.6]]);
const N = 2000;
const REPLICATES = 6;
// D^2 of two direct sets is right-skewed (a weighted sum of chi-squares), which gives the t-ratio of a few
// replicates a long lower tail: the null level is checked with more of them, as they are cheap.
const NULL_REPLICATES = 24;

describe('reverse diffusion with the true score', () => {
  // Two independent direct sets of size n have E[D_V^2] = 2 E||X - X'|| / n (the V-statistic's zero diagonal).
  const nulls: number[] = [];
  let pair = 0;
  for (let r = 0; r < NULL_REPLICATES; r++) {
    const a = directSamples(TRUTH, N, 100 + 2 * r);
    nulls.push(energyDistance(a, directSamples(TRUTH, N, 101 + 2 * r)) ** 2);
    if (r < 4) pair += meanPairDistance(a) / 4;
  }
  const nullLevel = (2 * pair) / N;
  const opts = { horizon: 8, tMin: 0, grid: 'uniform' } as const;

  /** D^2 between R sampler runs and R fresh direct sets. */
  function distances(options: Omit<DiffusionSampler, 'seed'>): number[] {
    return Array.from({ length: REPLICATES }, (_, r) =>
      energyDistance(sampleReference(TRUTH, N, { ...options, seed: 10 + r }), directSamples(TRUTH, N, 300 + r)) ** 2,
    );
  }

  it('direct-vs-direct distances sit at the derived null level', () => {
    const { mean, se } = meanAndError(nulls);
    // 4 standard errors of the mean of the replicates.
    expect(Math.abs(mean - nullLevel)).toBeLessThan(4 * se);
  });

  it.each([
    ['reverse', 'exponential', 400],
    ['reverse', 'euler-maruyama', 400],
    ['ode', 'heun', 100],
  ] as const)('%s / %s with S = %i is at the null level; S = 3 is far from it', (method, integrator, steps) => {
    const { mean, se } = meanAndError(distances({ method, integrator, steps, ...opts } as DiffusionSampler));
    // One-sided: the excess over the null level (the squared discretisation and start error) is within 4
    // standard errors of the replicates, so it is below the sampling noise of n = 2000 direct draws. (The
    // upper side of a right-skewed t-ratio is the short one: a large mean comes with a large spread.)
    expect(mean - nullLevel).toBeLessThan(4 * se);
    // h = 8/3: the score is far off over a step. Every coarse run beyond 5x the null distance (25x in D^2,
    // where the null's replicates spread by about 2x): clearly worse.
    const coarse = distances({ method, integrator, steps: 3, ...opts } as DiffusionSampler);
    expect(Math.min(...coarse)).toBeGreaterThan(25 * nullLevel);
  });
});

describe('Langevin on a well-separated mixture', () => {
  // The basins of mu_1 = (4, 0) and mu_2 = (-8, 0) meet at x = -2; 6 standard deviations from each centre,
  // Langevin at this horizon (100 time units) does not cross, so it keeps the modes of its N(0, I) start:
  // weights about (Phi(2), Phi(-2)) = (0.977, 0.023), a deviation of 0.477 from 1/2.
  const two = fromRows([[4, 0], [-8, 0]]);
  // Mode weights of a balanced sample have standard error sqrt((1/2)(1/2) / n) = 0.011 at n = 2000.
  const binomialSe = Math.sqrt(0.25 / N);

  it('stays unbalanced, as its start, while reverse diffusion is balanced', () => {
    const langevin = modeWeights(sampleReference(two, N, { method: 'langevin', stepSize: 0.05, steps: 2000, seed: 1 }), two);
    const start = modeWeights(noiseMatrix(1, 0, N, 2, STREAMS.sampler), two);
    // More than 20 standard errors from balance (a mixing chain would be within ~3), and within a few
    // percent of its start's weights (only starts near the boundary at x = -2 may change side).
    expect(langevin.maxDeviation).toBeGreaterThan(20 * binomialSe);
    expect(Math.abs(langevin.weights[0]! - start.weights[0]!)).toBeLessThan(0.03);
    const reverse = modeWeights(
      sampleReference(two, N, { method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: 200, grid: 'uniform', seed: 1 }),
      two,
    );
    // Reverse diffusion mixes through the noisy scales: within 5 binomial standard errors of 1/2.
    expect(reverse.maxDeviation).toBeLessThan(5 * binomialSe);
  });

  it('keeps a balanced start balanced: the mixture is stationary for Langevin', () => {
    const start = directSamples(two, N, 7);
    const before = Float64Array.from(start.data);
    const after = modeWeights(sampleReference(two, N, { method: 'langevin', stepSize: 0.05, steps: 400, seed: 2, start }), two);
    expect(start.data).toEqual(before);
    const initial = modeWeights(start, two);
    // No crossings between basins 12 apart: the weights stay those of the start, within a few samples.
    expect(Math.abs(after.weights[0]! - initial.weights[0]!)).toBeLessThan(5 / N);
    expect(initial.maxDeviation).toBeLessThan(5 * binomialSe);
  });
});
