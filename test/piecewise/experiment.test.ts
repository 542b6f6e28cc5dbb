// The piecewise experiment (src/experiments/piecewise.ts) at its quick settings with N and n capped small, on
// the CPU reference: registered in the suite, rows of the documented shape, and the student's misfit on the
// anisotropic mixture, which shows even at this size.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { PIECEWISE_EXPERIMENTS } from '../../src/experiments/piecewise.ts';
import { svgFigure, table } from '../../src/experiments/report.ts';
import { EXPERIMENTS } from '../../src/experiments/suite.ts';

describe('the piecewise experiment', () => {
  it('is registered, runs quick, and puts the anisotropic student far behind the piecewise model', async () => {
    expect(Object.keys(EXPERIMENTS)).toContain('piecewise');
    const r = await PIECEWISE_EXPERIMENTS['piecewise']!(new CpuBackend(), { quick: true, maxN: 800 }, () => {});
    expect(table(r.rows).length).toBe(r.rows.length + 2);
    expect(svgFigure(r.curves)).toMatch(/^<svg/);
    const d = (setting: RegExp, method: RegExp): number => r.rows.find((x) => setting.test(x.setting) && method.test(x.method) && x.valueName === 'distance')!.value;
    // Unit-covariance centres against covariances with eigenvalues 0.13-2.4: the student's samples are off by
    // far more than the n = 800 null level (about 0.1), the piecewise model's are not.
    const student = d(/^anisotropic K=3 d=2 N=800/, /^student/);
    const piecewise = d(/^anisotropic K=3 d=2 N=800/, /^piecewise degree 1/);
    expect(student).toBeGreaterThan(3 * piecewise);
    expect(r.curves.some((c) => c.experiment.startsWith('piecewise, score error'))).toBe(true);
    // The floor of any model that learns the weights: the true components with the training set's own weights,
    // one row per mixture and N, whose note gives the weights (fractions of N = 800, so they sum to 1).
    const oracles = r.rows.filter((x) => x.method.startsWith("truth's components"));
    const studentRows = r.rows.filter((x) => /^student \(/.test(x.method) && x.valueName === 'distance');
    expect(oracles.map((x) => x.setting)).toEqual(studentRows.map((x) => x.setting));
    for (const o of oracles) {
      expect(Number.isFinite(o.value)).toBe(true);
      const w = /weights ([\d. /]+)/.exec(o.note!)![1]!.split(' / ').map(Number);
      expect(Math.abs(w.reduce((x, y) => x + y, 0) - 1)).toBeLessThan(1e-3); // 4 decimals each, K <= 3 of them
    }
  });
});
