// Each schedule and baseline (MATH.md sections 8 and 9) on small seeded problems, on the CPU reference and
// on the GPU engine, through the same code. Error thresholds: the statistical error of N samples in d
// dimensions is about sqrt(d K / N); each threshold below is a few times that and far below the start's error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend } from '../host/index.ts';
import {
  centred,
  fitEm,
  fitSchedule,
  gradientEmCosine,
  kmeansPlusPlus,
  powerIteration,
  powerIterationCosine,
  randomDirection,
  sampleMean,
} from '../src/algorithms/index.ts';
import { warmStart } from '../src/cli/init.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { InputError } from '../src/errors.ts';
import { generateMixture } from '../src/generate.ts';
import { centreError } from '../src/metrics.ts';
import { matrix, type Backend } from '../src/types.ts';

let gpu: Backend;
const cpu = new CpuBackend();
beforeAll(async () => {
  gpu = await createGpuBackend();
});
afterAll(() => gpu?.dispose());

const two = generateMixture({ k: 2, d: 8, n: 3000, separation: 6, seed: 21 });
const four = generateMixture({ k: 4, d: 8, n: 3000, separation: 8, seed: 22 });

describe.each([['cpu'], ['gpu']] as const)('schedules and baselines on the %s backend', (which) => {
  const be = (): Backend => (which === 'cpu' ? cpu : gpu);

  it('two-stage (Theorem 7) reaches angle >= 0.99 in stage 1 and an error < 0.3 from a random start', async () => {
    const r = await fitSchedule(be(), two.data, 'two-stage', { k: 2, seed: 1 }, two.truth);
    const s1 = r.history.filter((h) => h.stage === 'stage 1');
    // sqrt(d/N) = 0.05: stage 1 leaves an angle error of that order, so cos >= 0.99 has room.
    expect(s1[s1.length - 1]!.angle!).toBeGreaterThan(0.99);
    // 0.3 = 6 sqrt(d/N): above the statistical floor, ten times below the start's error of ~3.
    expect(centreError(r.means, two.truth).max).toBeLessThan(0.3);
    expect(r.stages.map((s) => s.name)).toEqual(['stage 1', 'stage 2']);
  });

  it('projected (Theorem 13) keeps |m| <= a_t R and learns the direction', async () => {
    const r = await fitSchedule(be(), two.data, 'projected', { k: 2, seed: 1 }, two.truth);
    const R = Number(r.plan.settings['R']);
    // The centre m is projected onto a_t R, so |mu| = |m| / a_t <= R up to float32 rounding (1e-5 relative).
    const mu = r.centres.data;
    expect(Math.hypot(...mu)).toBeLessThanOrEqual(R * (1 + 1e-5));
    expect(r.history[r.history.length - 1]!.angle!).toBeGreaterThan(0.99);
  });

  it('warm start (Theorem 16) and single scale reduce the error from sep/3 to below 0.5', async () => {
    const init = warmStart(four.truth, 8 / 3, 4);
    for (const name of ['warm', 'single'] as const) {
      const r = await fitSchedule(be(), four.data, name, { k: 4, init }, four.truth);
      // sqrt(dK/N) = 0.1; 0.5 leaves room for the fresh-noise floor and is 5x below the start's 2.67.
      expect(centreError(r.means, four.truth).max).toBeLessThan(0.5);
    }
  });

  it('annealed from k-means++ finds all four centres', async () => {
    const r = await fitSchedule(be(), four.data, 'annealed', { k: 4, seed: 2 }, four.truth);
    expect(centreError(r.means, four.truth).max).toBeLessThan(0.5);
    expect(r.stages.length).toBe(3);
  });

  it('EM and gradient EM converge by the tolerance; EM reaches the statistical floor', async () => {
    const init = kmeansPlusPlus(four.data, 4, 3);
    const em = await fitEm(be(), 'em', four.data, init, {}, four.truth);
    expect(em.converged).toBe(true);
    expect(centreError(em.means, four.truth).max).toBeLessThan(0.3);
    // eta = 4 = K makes gradient EM's step about EM's (1/K weight per centre).
    const gem = await fitEm(be(), 'gradient-em', four.data, init, { lr: 4, maxSteps: 200 }, four.truth);
    expect(centreError(gem.means, four.truth).max).toBeLessThan(0.3);
  });

  it('the two connections: cosines near 1 (power iteration at t = 2, gradient EM near the truth at t = 0.5)', async () => {
    const xc = centred(two.data, sampleMean(two.data));
    const muStar = matrix(1, 8, two.truth.data.slice(0, 8).map((v, c) => (v - two.truth.data[8 + c]!) / 2));
    const mu = matrix(1, 8, muStar.data.map((v, c) => 0.3 * v + randomDirection(8, 1, 3).data[c]!));
    // Lemma 8's error is poly(1/d) plus sampling noise of sqrt(d/N): 0.9 is a loose floor for d = 8.
    expect(await powerIterationCosine(be(), xc, mu, muStar, 2, 0, 4)).toBeGreaterThan(0.9);
    expect(await gradientEmCosine(be(), four.data, warmStart(four.truth, 0.5, 6), 0.5)).toBeGreaterThan(0.9);
  });
});

it('power iteration finds mu* up to sign with error < 0.3', () => {
  const p = powerIteration(two.data, { seed: 1 });
  expect(p.converged).toBe(true);
  expect(centreError(p.means, two.truth).max).toBeLessThan(0.3);
});

it('bad schedule options are InputErrors', async () => {
  await expect(fitSchedule(cpu, four.data, 'two-stage', { k: 4 })).rejects.toThrow(InputError);
  await expect(fitSchedule(cpu, four.data, 'warm', { k: 4 })).rejects.toThrow(/needs initial centres/);
  await expect(fitSchedule(cpu, four.data, 'annealed', { k: 4, ladder: [0.5, 1] })).rejects.toThrow(/decreasing/);
  await expect(fitSchedule(cpu, four.data, 'single', { k: 4, tol: -1 })).rejects.toThrow(/tolerance/);
});
