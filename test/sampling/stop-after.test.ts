// DiffusionSampler.stopAfter (src/sampling/options.ts): a run of its first j steps is the prefix of the full
// run, since the grid depends only on (T, tMin, S, grid) and step k draws Philox counter k + 1.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import type { DiffusionSampler, SampleProgress, SamplerOptions } from '../../src/sampling/options.ts';
import { fromRows } from './support.ts';

const CENTRES = fromRows([[2, 0], [-1, 1.5], [0.5, -2]]);
const RUNS: Record<string, DiffusionSampler> = {
  'exponential, geometric grid to 0': { method: 'reverse', integrator: 'exponential', horizon: 6, tMin: 0, steps: 30, grid: 'geometric', seed: 3 },
  'euler-maruyama, uniform grid': { method: 'reverse', integrator: 'euler-maruyama', horizon: 6, tMin: 1e-3, steps: 30, grid: 'uniform', seed: 4 },
  'heun (ode)': { method: 'ode', integrator: 'heun', horizon: 6, tMin: 0, steps: 30, grid: 'geometric', seed: 5 },
};

describe('stopAfter', () => {
  for (const [name, options] of Object.entries(RUNS)) {
    it(`${name}: stopAfter = S is the full run bit for bit, and j < S is the state after j steps`, () => {
      const whole = sampleReference(CENTRES, 40, options);
      expect(sampleReference(CENTRES, 40, { ...options, stopAfter: 30 }).data).toEqual(whole.data);
      // The prefix chains: the state after 29 steps differs from the end, and each prefix reports its own total.
      const seen: SampleProgress[] = [];
      const part = sampleReference(CENTRES, 40, { ...options, stopAfter: 29 }, (p) => seen.push(p));
      expect(part.data).not.toEqual(whole.data);
      expect(seen.at(-1)).toEqual({ done: 29, total: 29 });
    });
  }

  it('rejects a stopAfter outside 1..steps with an InputError naming the range', () => {
    for (const stopAfter of [0, -1, 31, 2.5, NaN]) {
      expect(() => sampleReference(CENTRES, 5, { ...RUNS['heun (ode)']!, stopAfter } as SamplerOptions)).toThrow(InputError);
      expect(() => sampleReference(CENTRES, 5, { ...RUNS['heun (ode)']!, stopAfter } as SamplerOptions)).toThrow(/1 <= stopAfter <= steps = 30/);
    }
  });
});
