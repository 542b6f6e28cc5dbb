// The page's settings resolve the library's defaults as the estimator does: schedule=default is the schedule
// DdpmGmm runs given only K, and the student startOf plans is the one DdpmGmm's constructor resolves.
import { describe, expect, it } from 'vitest';
import { DdpmGmm } from '../../src/estimator.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { parseSettings } from '../../src/page/settings.ts';
import { studentOptions } from '../../src/page/start.ts';

describe("the page's settings", () => {
  it("schedule=default is DdpmGmm's schedule for the same K (screened, since its default student learns for K = 2 too)", () => {
    for (const k of [1, 2, 3, 5]) {
      expect(parseSettings({ k: String(k), schedule: 'default' }).schedule).toBe(new DdpmGmm({ nComponents: k }).schedule);
    }
    expect(parseSettings({ k: '2', schedule: 'default' }).schedule).toBe('screened');
  });

  it("plans the student DdpmGmm learns for the same method and schedule", async () => {
    const cases = [
      { method: 'ddpm', schedule: 'warm', k: 4 },
      { method: 'ddpm', schedule: 'screened', k: 3 },
      { method: 'ddpm', schedule: 'annealed', k: 4 },
      { method: 'ddpm', schedule: 'two-stage', k: 2 },
      { method: 'em', schedule: 'single', k: 3 },
      { method: 'gradient-em', schedule: 'warm', k: 3 },
    ] as const;
    const seen = new Set<string>();
    // A few steps on a small generated set: enough for the fit to carry its student.
    const data = generateMixture({ k: 4, d: 2, n: 64, separation: 8, seed: 1 }).data;
    for (const c of cases) {
      const s = parseSettings({ k: String(c.k), method: c.method, schedule: c.schedule });
      const { covariance, weights } = studentOptions(s);
      // The page gives EM an init (the warm start or K seeded rows), as the reference here does.
      const init = c.method === 'ddpm' && c.schedule !== 'warm' ? undefined : { rows: c.k, cols: 2, data: new Float64Array(2 * c.k) };
      const ref = new DdpmGmm({ nComponents: c.k, method: c.method, ...(c.method === 'ddpm' ? { schedule: c.schedule } : {}), ...(init ? { init } : {}), maxSteps: 2, backend: 'cpu' });
      await ref.fit(data);
      seen.add(`${covariance}/${weights}`);
      expect({ covariance, weights }).toEqual({ covariance: ref.student?.covariance ?? 'identity', weights: ref.student?.weights ?? 'equal' });
    }
    // Both students occur: the default's and the paper's.
    expect([...seen].sort()).toEqual(['diag/learned', 'identity/equal']);
  });
});
