// The estimator API (src/estimator.ts): fit / predictProba / score / sample for each method, and the
// up-front input checks, on the CPU reference (the GPU path is the same Backend calls: test/algorithms).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/cpu/backend.ts';
import { DdpmGmm, METHODS } from '../src/estimator.ts';
import { InputError } from '../src/errors.ts';
import { generateMixture } from '../src/generate.ts';
import { centreError } from '../src/metrics.ts';
import { matrix } from '../src/types.ts';

const backend = new CpuBackend();
const { data, truth, labels } = generateMixture({ k: 2, d: 5, n: 2000, separation: 6, seed: 41 });

describe('DdpmGmm', () => {
  for (const method of METHODS) {
    it(`${method}: fit learns the centres (error < 0.3) and reports history, converged, nIter`, async () => {
      const model = new DdpmGmm({ nComponents: 2, method, backend, seed: 1, lr: method === 'gradient-em' ? 2 : undefined, truth });
      const out = await model.fit(data);
      // sqrt(d/N) = 0.05: 0.3 is six times the statistical error and a tenth of |mu*| = 3.
      expect(centreError(out.means, truth).max).toBeLessThan(0.3);
      expect(out.nIter).toBeGreaterThan(0);
      expect(out.history.length).toBeGreaterThan(0);
      expect(model.means).toBe(out.means);
    });
  }

  it('predictProba rows sum to 1 and label > 97% of samples right; score is the mixture log-likelihood', async () => {
    const model = new DdpmGmm({ nComponents: 2, method: 'em', backend, seed: 1 });
    await model.fit(data);
    const p = model.predictProba(data);
    const match = centreError(model.means!, truth).match;
    let right = 0;
    for (let i = 0; i < data.rows; i++) {
      expect(p.data[2 * i]! + p.data[2 * i + 1]!).toBeCloseTo(1, 12);
      const pick = p.data[2 * i]! > p.data[2 * i + 1]! ? 0 : 1;
      if (match[pick] === labels[i]) right++;
    }
    // Bayes error at separation 6 is Phi(-3) = 0.13%; 97% leaves room for estimation error.
    expect(right / data.rows).toBeGreaterThan(0.97);
    // Well separated: each point is explained by one component of weight 1/2, so the average is about
    // -d/2 (1 + ln 2 pi) - ln 2 = -7.79, with a sampling sd of sqrt(d/2 / N) = 0.035.
    expect(model.score(data)).toBeGreaterThan(-7.95);
    expect(model.score(data)).toBeLessThan(-7.65);
  });

  it('sample(n) draws from the learned mixture: the sample mean is near the mixture mean', async () => {
    const model = new DdpmGmm({ nComponents: 2, method: 'em', backend, seed: 1 });
    await model.fit(data);
    const s = model.sample(4000, 3);
    expect(s.rows).toBe(4000);
    const m = model.means!;
    for (let c = 0; c < 5; c++) {
      let mean = 0;
      for (let i = 0; i < s.rows; i++) mean += s.data[i * 5 + c]! / s.rows;
      // Sd of a coordinate's sample mean: sqrt((1 + spread^2) / n) < 0.05 here; 0.2 is 4 sd.
      expect(Math.abs(mean - (m.data[c]! + m.data[5 + c]!) / 2)).toBeLessThan(0.2);
    }
  });

  it('rejects bad inputs up front with InputErrors', async () => {
    expect(() => new DdpmGmm({ nComponents: 0, backend })).toThrow(InputError);
    expect(() => new DdpmGmm({ nComponents: 3, method: 'power', backend })).toThrow(/nComponents = 2/);
    expect(() => new DdpmGmm({ nComponents: 3, schedule: 'two-stage', backend })).toThrow(/nComponents = 2/);
    expect(() => new DdpmGmm({ nComponents: 2, method: 'bogus' as 'em', backend })).toThrow(/method must be/);
    const model = new DdpmGmm({ nComponents: 2, backend });
    expect(() => model.predictProba(data)).toThrow(/fit\(X\) first/);
    const bad = matrix(3, 5, new Float64Array(15).fill(NaN));
    await expect(model.fit(bad)).rejects.toThrow(/non-finite/);
    await expect(new DdpmGmm({ nComponents: 2, backend, init: matrix(3, 5) }).fit(data)).rejects.toThrow(/rows/);
  });
});
