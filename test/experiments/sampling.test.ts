// The sampling experiments (src/experiments/sampling.ts) at their quick settings with every n and N capped
// small, on the CPU reference: each runs, is registered in the suite, and returns rows and curves of the
// documented shape; the clear-cut effects show even at this size.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { fitLine, SAMPLING_EXPERIMENTS } from '../../src/experiments/sampling.ts';
import { EXPERIMENTS, type ExperimentResult } from '../../src/experiments/suite.ts';
import { svgFigure, table } from '../../src/experiments/report.ts';

const cpu = new CpuBackend();
const MAX_N = 600;

async function runQuick(name: string): Promise<ExperimentResult> {
  const r = await SAMPLING_EXPERIMENTS[name]!(cpu, { quick: true, maxN: MAX_N }, () => {});
  expect(r.rows.length).toBeGreaterThan(0);
  for (const row of r.rows) expect(row.experiment).toBe(name);
  // The table and the figure take the new value names and the log x axis.
  expect(table(r.rows).length).toBe(r.rows.length + 2);
  expect(svgFigure(r.curves)).toMatch(/^<svg/);
  return r;
}

describe('the sampling experiments', () => {
  it('are registered in the suite, after the reproduction experiments', () => {
    const names = Object.keys(EXPERIMENTS);
    for (const name of ['sampler', 'learned-vs-true', 'langevin-vs-diffusion', 'sample-complexity']) expect(names).toContain(name);
    expect(names.indexOf('sampler')).toBeGreaterThan(names.indexOf('two-stage'));
  });

  it('fitLine: the slope and a 95% interval that holds the slope of noiseless points', () => {
    const f = fitLine([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(1, 12);
    expect(f.lo).toBeCloseTo(2, 12);
    // Slope 0.96, intercept 0.06, residuals 0.04, -0.12, 0.12, -0.04 (rss 0.032, sxx 5): the half-width is
    // t(2 df) = 4.303 times the slope's se sqrt(rss / 2 / sxx) = 0.0566, i.e. 0.243.
    const g = fitLine([0, 1, 2, 3], [0.1, 0.9, 2.1, 2.9]);
    expect(g.slope).toBeCloseTo(0.96, 12);
    expect(g.hi - g.slope).toBeCloseTo(4.303 * Math.sqrt(0.032 / 2 / 5), 12);
    expect(Number.isNaN(fitLine([1, 2], [1, 2]).lo)).toBe(true);
  });

  it('sampler: the null level, the defaults against it, and a slope per integrator and regime', async () => {
    const r = await runQuick('sampler');
    const nullRow = r.rows.find((x) => x.method === 'direct vs direct (null)')!;
    const defaults = r.rows.find((x) => x.method === 'sample() defaults')!;
    expect(nullRow.value).toBeGreaterThan(0);
    // The defaults' D is at the null level: mean + 4 sd of the null's D is in the row's note.
    const bound = Number(/mean \+ 4 sd = ([\d.]+)/.exec(defaults.note!)![1]);
    expect(defaults.value).toBeLessThanOrEqual(bound);
    const slopes = r.rows.filter((x) => x.valueName === 'slope');
    expect(slopes.map((x) => x.method)).toEqual([
      'exponential: d ln D_excess / dT',
      'exponential: d ln D_excess / d ln h',
      'euler-maruyama: d ln D_excess / dT',
      'euler-maruyama: d ln D_excess / d ln h',
      'heun (ode): d ln D_excess / dT',
      'heun (ode): d ln D_excess / d ln h',
    ]);
    // Each integrator has one curve per panel, plus the null line in each.
    expect(r.curves.filter((c) => c.experiment === 'sampler, T')).toHaveLength(4);
    expect(r.curves.filter((c) => c.experiment === 'sampler, h').every((c) => c.xScale === 'log')).toBe(true);
    // At T = 1.5 the start is far from q_T: every integrator is well above the null there.
    for (const c of r.curves.filter((x) => x.experiment === 'sampler, T' && !x.label.includes('null'))) {
      expect(c.points[0]![1]).toBeGreaterThan(3 * nullRow.value);
    }
  });

  it('learned-vs-true: four rows per training size, D of samples from the truth at the null level', async () => {
    const r = await runQuick('learned-vs-true');
    expect(r.rows.map((x) => x.method).slice(0, 4)).toEqual(['reverse, ddpm two-stage centres', 'reverse, em centres', 'reverse, true centres', 'direct, true centres (null)']);
    // N = 400 and 4000 capped at 600: two training sizes.
    expect(r.rows).toHaveLength(8);
    for (const row of r.rows) expect(row.valueName).toBe('distance');
    const nullD = r.rows[3]!.value;
    // Two runs each: a reverse-diffusion D more than twice the null's would be a broken sampler, not noise.
    expect(r.rows[2]!.value).toBeLessThan(2 * nullD);
  });

  it('langevin-vs-diffusion: Langevin from N(0, I) loses the far mode; reverse diffusion and Langevin from the data keep 1/2', async () => {
    const r = await runQuick('langevin-vs-diffusion');
    expect(r.rows).toHaveLength(16);
    const at = (sep: number, method: string): number => r.rows.find((x) => x.setting.includes(`sep=${sep} `) && x.method === method)!.value;
    // n = 600: a weight's sd is sqrt(1/4 / 600) = 0.020, so 0.1 is 5 sd; at separation 8 the barrier keeps
    // nearly every N(0, I) start in the basin at the origin (weight error near 1/2).
    expect(at(8, 'langevin from N(0, I)')).toBeGreaterThan(0.3);
    expect(at(8, 'reverse diffusion')).toBeLessThan(0.1);
    expect(at(8, 'langevin from the data')).toBeLessThan(0.1);
    expect(r.curves.map((c) => c.experiment)).toContain('langevin-vs-diffusion, weights');
  });

  it('sample-complexity: a slope against N and against d for each of the four methods', async () => {
    const r = await runQuick('sample-complexity');
    expect(r.rows.map((x) => x.method)).toEqual([
      'ddpm two-stage: d ln error / d ln N',
      'ddpm projected: d ln error / d ln N',
      'ddpm warm: d ln error / d ln N',
      'em (k-means++): d ln error / d ln N',
      'ddpm two-stage: d ln error / d ln d',
      'ddpm projected: d ln error / d ln d',
      'ddpm warm: d ln error / d ln d',
      'em (k-means++): d ln error / d ln d',
    ]);
    for (const row of r.rows) expect(Number.isFinite(row.value)).toBe(true);
    expect(r.curves).toHaveLength(8);
  });
});
