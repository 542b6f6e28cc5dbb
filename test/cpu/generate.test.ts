// The synthetic mixture generator (src/mixtures.ts, docs/math.md section 1).
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { generateMixture, trueCentres } from '../../src/mixtures.ts';
import { minPairwiseDistance } from '../../src/centre-error.ts';

describe('generateMixture', () => {
  it('scales the true centres so the minimum pairwise distance is exactly the separation', () => {
    for (const [k, d, s] of [[2, 3, 4], [5, 7, 2.5], [8, 1, 10], [3, 64, 0.1]] as const) {
      const truth = trueCentres(k, d, s, 11);
      // One common scale factor times a distance: only a few ulps of rounding.
      expect(Math.abs(minPairwiseDistance(truth) - s) / s).toBeLessThan(1e-12);
    }
    const single = trueCentres(1, 5, 6, 3);
    const norm = Math.hypot(...single.data);
    expect(Math.abs(norm - 3) / 3).toBeLessThan(1e-12);
  });

  it('is exactly balanced, deterministic per seed, and its component means are close to the truth', () => {
    const k = 3;
    const d = 4;
    const n = 30000;
    const { data, truth, labels } = generateMixture({ k, d, n, separation: 5, seed: 9 });
    const counts = [0, 0, 0];
    labels.forEach((l, i) => {
      expect(l).toBe(i % k);
      counts[l]!++;
    });
    expect(counts).toEqual([10000, 10000, 10000]);
    const again = generateMixture({ k, d, n: 30, separation: 5, seed: 9 });
    expect(Array.from(again.data.data)).toEqual(Array.from(data.data.subarray(0, 30 * d)));
    const other = generateMixture({ k, d, n: 30, separation: 5, seed: 10 });
    expect(other.data.data[0]).not.toBe(data.data[0]);
    // Each coordinate of a component mean of n/k unit-variance samples has sd sqrt(k/n) = 0.01;
    // 5 sd bounds all k*d = 12 coordinates with failure probability < 1e-5.
    const tol = 5 * Math.sqrt(k / n);
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < d; c++) {
        let sum = 0;
        for (let i = j; i < n; i += k) sum += data.data[i * d + c]!;
        expect(Math.abs(sum / (n / k) - truth.data[j * d + c]!)).toBeLessThan(tol);
      }
    }
    // The within-component variance is 1 per coordinate: sd of the variance estimate is sqrt(2/n_j) ~ 0.014.
    let ss = 0;
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) ss += (data.data[i * d + c]! - truth.data[labels[i]! * d + c]!) ** 2;
    expect(Math.abs(ss / (n * d) - 1)).toBeLessThan(5 * Math.sqrt(2 / (n * d)));
  });

  it('validates k, d, n >= k, separation and seed', () => {
    const ok = { k: 2, d: 2, n: 4, separation: 1, seed: 0 };
    expect(() => generateMixture({ ...ok, k: 0 })).toThrow(InputError);
    expect(() => generateMixture({ ...ok, d: 1.5 })).toThrow(/dimension/);
    expect(() => generateMixture({ ...ok, n: 1 })).toThrow(/N = 1 samples but K = 2/);
    expect(() => generateMixture({ ...ok, separation: 0 })).toThrow(/separation/);
    expect(() => generateMixture({ ...ok, separation: Infinity })).toThrow(/separation/);
    expect(() => generateMixture({ ...ok, seed: -1 })).toThrow(/seed/);
  });
});
