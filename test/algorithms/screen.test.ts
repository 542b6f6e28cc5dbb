// The test mixtures (familyMixture, centresFound) and the screened schedule's start (screen.ts), on the host.
import { describe, expect, it } from 'vitest';
import { planSchedule } from '../../src/algorithms/index.ts';
import { screenStarts, screenSubsample } from '../../src/algorithms/screen.ts';
import { defaultSchedule } from '../../src/estimator.ts';
import { centresFound, familyMixture } from '../../src/mixtures.ts';
import { matrix } from '../../src/types.ts';
import { minPairwiseDistance } from '../../src/centre-error.ts';

describe('familyMixture', () => {
  it.each([['crowded', 4, 6], ['separated', 9.5, 10.5]] as const)('%s: K in 12..24, d in 4..20, N = 1000 K, minimum separation in [%d, %d]', (family, lo, hi) => {
    for (const seed of [1, 2, 3]) {
      const { truth, data, spec } = familyMixture(family, seed, 50);
      expect(spec.k).toBeGreaterThanOrEqual(12);
      expect(spec.k).toBeLessThanOrEqual(24);
      expect(spec.d).toBeGreaterThanOrEqual(4);
      expect(spec.d).toBeLessThanOrEqual(20);
      expect(data.rows).toBe(50 * spec.k);
      expect(spec.separation).toBeGreaterThanOrEqual(lo);
      expect(spec.separation).toBeLessThanOrEqual(hi);
      // The centres are scaled so that their closest pair is exactly the separation: float64 rounding of a
      // d-term sum of squares, relative 1e-12 with room.
      expect(Math.abs(minPairwiseDistance(truth) - spec.separation)).toBeLessThan(1e-12 * spec.separation);
    }
  });

  it('is a function of the seed', () => {
    expect(familyMixture('crowded', 5, 20).data.data).toEqual(familyMixture('crowded', 5, 20).data.data);
    expect(familyMixture('crowded', 5, 20).data.data).not.toEqual(familyMixture('crowded', 6, 20).data.data);
  });
});

it('centresFound: every true centre within a third of the separation of some learned centre', () => {
  const truth = matrix(2, 1, Float64Array.from([0, 6]));
  expect(centresFound(matrix(2, 1, Float64Array.from([1.9, 4.1])), truth, 6)).toBe(true);
  expect(centresFound(matrix(2, 1, Float64Array.from([2.1, 6])), truth, 6)).toBe(false);
  // Two learned centres in one cluster leave the other cluster without one.
  expect(centresFound(matrix(2, 1, Float64Array.from([0, 0.5])), truth, 6)).toBe(false);
});

describe('the screen', () => {
  const { data, truth, spec } = familyMixture('separated', 4, 100);

  it('runs its starts together: each start is the same run as alone, and the best log-likelihood is kept', () => {
    const all = screenStarts(data, spec.k, { starts: 3, rows: 40 * spec.k, iterations: 3, seed: 5 });
    const alone = screenStarts(data, spec.k, { starts: 1, rows: 40 * spec.k, iterations: 3, seed: 5 });
    // Start s draws its seeds from counter step 1 + s whatever S is, and shares only the pass over the rows.
    expect(alone.logLikelihoods[0]).toBe(all.logLikelihoods[0]);
    expect(all.logLikelihoods[all.best]).toBe(Math.max(...all.logLikelihoods));
    expect(all.rows).toBe(40 * spec.k);
  });

  it('the subsample takes distinct rows, and all rows when asked for more', () => {
    const sub = screenSubsample(data, 30, 1);
    const rows = new Set(Array.from({ length: 30 }, (_, i) => sub.data.slice(i * sub.cols, (i + 1) * sub.cols).join(',')));
    expect(rows.size).toBe(30);
    expect(screenSubsample(data, data.rows + 1, 1)).toBe(data);
  });

  it('the kept start of 10 has a centre near every true centre of this well-separated mixture', () => {
    const screen = screenStarts(data, spec.k, { starts: 10, rows: 100 * spec.k, iterations: 5, seed: 0 });
    expect(centresFound(screen.centres, truth, spec.separation)).toBe(true);
  });

  it("the screened plan records which start it kept and every start's log-likelihood", () => {
    const plan = planSchedule('screened', data, { k: spec.k, screenStarts: 4 });
    expect((plan.settings['screenLogLikelihoods'] as number[]).length).toBe(4);
    expect(plan.settings['screenBest']).toBeGreaterThanOrEqual(0);
    expect(plan.settings['lr']).toBe(spec.k / 4);
  });
});

it('the default schedule: two-stage for K = 2, warm from given centres, screened otherwise', () => {
  expect(defaultSchedule(2, false)).toBe('two-stage');
  expect(defaultSchedule(12, false)).toBe('screened');
  expect(defaultSchedule(3, true)).toBe('warm');
});
