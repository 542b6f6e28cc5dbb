// Bad input to the samplers and metrics is refused with a one-line InputError naming the fix; a run that
// blows up stops with a DivergenceError naming its step (docs/math.md section 11).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DivergenceError, InputError } from '../../src/errors.ts';
import { timeGrid } from '../../src/sampling/grid.ts';
import { energyDistance, modeWeights, scoreError } from '../../src/metrics/cpu.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import type { SampleProgress, SamplerOptions } from '../../src/sampling/options.ts';
import { matrix } from '../../src/types.ts';
import { fromRows } from './support.ts';

const CENTRES = fromRows([[1, 0], [-1, 0.5]]);
const REVERSE = { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 0, steps: 10, grid: 'uniform', seed: 1 } as const;
const LANGEVIN = { method: 'langevin', stepSize: 0.1, steps: 10, seed: 1 } as const;

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

const sample = (options: unknown, n = 5, centres = CENTRES) => () => sampleReference(centres, n, options as SamplerOptions);

describe('sampler input checks', () => {
  it('rejects a bad horizon, tMin, step count, grid and seed', () => {
    for (const horizon of [NaN, Infinity, 0, -1]) expect(messageOf(sample({ ...REVERSE, horizon }))).toMatch(/horizon T must be a finite number > tMin/);
    expect(messageOf(sample({ ...REVERSE, horizon: 0.5, tMin: 0.5 }))).toMatch(/> tMin = 0.5/);
    for (const tMin of [-0.1, NaN, Infinity]) expect(messageOf(sample({ ...REVERSE, tMin }))).toMatch(/tMin must be a finite number >= 0/);
    for (const steps of [0, -2, 2.5, NaN]) expect(messageOf(sample({ ...REVERSE, steps }))).toMatch(/steps must be a positive integer/);
    expect(messageOf(sample({ ...LANGEVIN, steps: 1.5 }))).toMatch(/positive integer/);
    expect(messageOf(sample({ ...REVERSE, grid: 'log' }))).toMatch(/'geometric' or 'uniform'/);
    expect(messageOf(sample({ ...REVERSE, grid: 'geometric', steps: 1 }))).toMatch(/at least 2 steps/);
    expect(() => sampleReference(CENTRES, 5, { ...REVERSE, grid: 'geometric', steps: 1, tMin: 0.01 })).not.toThrow();
    expect(messageOf(() => timeGrid(1, 2, 3, 'uniform'))).toMatch(/horizon/);
    for (const seed of [-1, 0.5, 2 ** 53]) expect(messageOf(sample({ ...REVERSE, seed }))).toMatch(/seed/);
  });

  it('rejects a bad n, step size, method and integrator', () => {
    for (const n of [0, -1, 2.5, NaN, 2 ** 32]) expect(messageOf(sample(REVERSE, n))).toMatch(/number of samples n must be an integer/);
    for (const stepSize of [0, -0.1, NaN, Infinity]) expect(messageOf(sample({ ...LANGEVIN, stepSize }))).toMatch(/Langevin step size must be a finite number > 0/);
    expect(messageOf(sample({ ...REVERSE, method: 'ddim' }))).toMatch(/'reverse', 'ode' or 'langevin'/);
    expect(messageOf(sample({ ...REVERSE, integrator: 'heun' }))).toMatch(/reverse sampler takes the integrator 'exponential' or 'euler-maruyama'/);
    expect(messageOf(sample({ ...REVERSE, method: 'ode' }))).toMatch(/ode sampler takes the integrator 'heun'/);
  });

  it('rejects non-finite or empty centres and a start of the wrong shape', () => {
    expect(messageOf(sample(REVERSE, 5, fromRows([[1, NaN]])))).toMatch(/centres has a non-finite value \(NaN\) at row 1, column 2/);
    expect(messageOf(sample(REVERSE, 5, matrix(0, 2)))).toMatch(/K >= 1/);
    expect(messageOf(sample({ ...LANGEVIN, start: matrix(4, 2) }))).toMatch(/start is 4 x 2 but n x d = 5 x 2/);
    expect(messageOf(sample({ ...LANGEVIN, start: matrix(5, 3) }))).toMatch(/5 x 3/);
    const bad = matrix(5, 2);
    bad.data[3] = Infinity;
    expect(messageOf(sample({ ...LANGEVIN, start: bad }))).toMatch(/Langevin start has a non-finite value/);
  });

  it('rejects bad metric inputs', () => {
    expect(messageOf(() => energyDistance(matrix(3, 2), matrix(4, 3)))).toMatch(/2 and 3 columns/);
    expect(messageOf(() => energyDistance(matrix(0, 2), matrix(4, 2)))).toMatch(/first sample set is 0 x 2/);
    expect(messageOf(() => energyDistance(matrix(3, 1), fromRows([[NaN]])))).toMatch(/second sample set has a non-finite/);
    expect(messageOf(() => modeWeights(matrix(3, 2), matrix(2, 3)))).toMatch(/columns/);
    expect(messageOf(() => scoreError(CENTRES, fromRows([[1, 2, 3]]), 0.5, 100, 1))).toMatch(/same d/);
    expect(messageOf(() => scoreError(CENTRES, CENTRES, -1, 100, 1))).toMatch(/t must be a finite number >= 0/);
    expect(messageOf(() => scoreError(CENTRES, CENTRES, 0.5, 3, 1))).toMatch(/at least 2 K\* = 4/);
  });
});

describe('sampler runs', () => {
  it('stops with a DivergenceError naming the first non-finite step', () => {
    // exp(800) overflows on the first step: step 0, and the fix is more steps.
    const first = (() => {
      try {
        sampleReference(CENTRES, 3, { ...REVERSE, horizon: 800, steps: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(first).toBeInstanceOf(DivergenceError);
    expect((first as DivergenceError).step).toBe(0);
    expect((first as Error).message).toMatch(/^sampling diverged at step 0 .*more steps/);
    // eps = 50 multiplies y - mu by 1 - eps = -49 a step; the squared distance in the softmax overflows
    // once |y| passes 1.3e154, after ln(1.3e154) / ln(49) = 91 steps, give or take the start's size.
    try {
      sampleReference(fromRows([[1, 1]]), 3, { method: 'langevin', stepSize: 50, steps: 400, seed: 2 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DivergenceError);
      const { step, message } = e as DivergenceError;
      expect(step).toBeGreaterThanOrEqual(88);
      expect(step).toBeLessThanOrEqual(94);
      expect(message).toContain(`step ${step} `);
      expect(message).toMatch(/lower the Langevin step size, for example to 5$/);
    }
  });

  it('reports progress in steps, ending at the total', () => {
    const seen: SampleProgress[] = [];
    sampleReference(CENTRES, 4, { ...REVERSE, steps: 45 }, (p) => seen.push(p));
    // Every floor(45 / 20) = 2 steps, and after the last.
    expect(seen.map((p) => p.done)).toEqual([...Array.from({ length: 22 }, (_, i) => 2 * (i + 1)), 45]);
    expect(seen.every((p) => p.total === 45)).toBe(true);
  });

  it('CpuBackend.sample and energyDistance are the reference, and reject bad input asynchronously', async () => {
    const backend = new CpuBackend();
    const y = await backend.sample(CENTRES, 6, REVERSE);
    expect(y.data).toEqual(sampleReference(CENTRES, 6, REVERSE).data);
    expect(await backend.energyDistance(y, CENTRES)).toBe(energyDistance(y, CENTRES));
    await expect(backend.sample(CENTRES, 0, REVERSE)).rejects.toThrow(InputError);
    await expect(backend.energyDistance(y, matrix(2, 3))).rejects.toThrow(InputError);
  });
});
