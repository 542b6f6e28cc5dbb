// The real-data experiment's pieces (src/experiments/real-data*.ts): the adjusted Rand index against
// scikit-learn's documented values, and the experiment on the generated sets alone (no real sets, no reference).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { adjustedRandIndex, denseLabels, generatedSet } from '../../src/experiments/real-data-sets.ts';
import { realData } from '../../src/experiments/real-data.ts';

describe('real-data', () => {
  it("adjustedRandIndex gives scikit-learn's documented values", () => {
    // sklearn.metrics.adjusted_rand_score docstring examples.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714285714, 14);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285714, 14);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 14);
    expect(denseLabels([7, 3, 7, 9])).toEqual({ labels: Int32Array.from([0, 1, 0, 2]), k: 3 });
  });

  it('runs the given fit variants on the generated sets, and says what it skipped', async () => {
    const logs: string[] = [];
    const r = await realData(new CpuBackend(), { quick: true, fitVariants: [{ label: 'em', options: { method: 'em' } }] }, (m) => logs.push(m));
    expect(r.rows.map((x) => x.method)).toEqual(['em', 'em']);
    for (const row of r.rows) {
      expect(row.valueName).toBe('ARI');
      expect(row.value).toBeGreaterThanOrEqual(-1);
      expect(row.value).toBeLessThanOrEqual(1);
      expect(row.note).toMatch(/centre error mean/);
    }
    expect(r.settings['skipped']).toEqual(['no real sets: this front door hands none over', 'no reference runner']);
    expect(generatedSet('unequal', 3000, 21).X.rows).toBe(3000);
  });
});
