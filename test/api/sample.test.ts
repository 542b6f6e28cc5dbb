// DdpmGmm.sample (docs/math.md section 11): the defaults meet the acceptance bound against direct samples on
// the CPU reference and on the GPU engine, every method runs, the options are checked up front, and a model
// from fromJSON opens its backend lazily.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm, mixtureSamples } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { trueCentres } from '../../src/mixtures.ts';
import { createModelFile } from '../../src/model-file.ts';
import { defaultHorizon, defaultSteps, resolveSampleOptions } from '../../src/sample-options.ts';
import { energyDistance } from '../../src/metrics/cpu.ts';
import type { SampleProgress } from '../../src/sampling/options.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { type Backend } from '../../src/backend.ts';

/** A fitted-model file with the given centres, as fit --out writes it. */
function modelJson(means: Matrix): unknown {
  return createModelFile({ means, method: 'em', schedule: 'annealed', converged: true, nIter: 1, backendUsed: null });
}

// The acceptance mixture: K = 3 well-separated centres in d = 2 (separation 6), seeded.
const CENTRES = trueCentres(3, 2, 6, 21);
const N = 1500;
const NULL_PAIRS = 12;

/**
 * The bound of the acceptance test: mean + 4 sd of D between NULL_PAIRS pairs of independent direct sets of
 * size N. Every draw is seeded (Philox), so the test is deterministic; the bound says that a sampler's D is
 * at the level of sampling noise. On the measured null (docs/experiments.md, 'Sampling': 40 pairs at n = 4000)
 * no run of the defaults came within 2 sd of it.
 */
function acceptanceBound(): { bound: number; mean: number } {
  const d: number[] = [];
  for (let r = 0; r < NULL_PAIRS; r++) d.push(energyDistance(mixtureSamples(CENTRES, N, 100 + r), mixtureSamples(CENTRES, N, 200 + r)));
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1));
  return { bound: mean + 4 * sd, mean };
}

const cpu = new CpuBackend();
let gpu: GpuBackend;
let accept: { bound: number; mean: number };

beforeAll(async () => {
  gpu = await createGpuBackend();
  accept = acceptanceBound();
});
afterAll(() => gpu?.dispose());

describe('sample() defaults meet the acceptance bound', () => {
  const cases: [string, () => Backend][] = [
    ['the CPU reference', () => cpu],
    ['the GPU engine', () => gpu],
  ];
  for (const [name, backend] of cases) {
    it(`on ${name}: D(sample(n), direct) <= mean + 4 sd of direct-vs-direct D, for 3 seeds`, async () => {
      const model = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: backend() });
      for (const seed of [1, 2, 3]) {
        const s = await model.sample(N, { seed });
        expect([s.rows, s.cols]).toEqual([N, 2]);
        const D = energyDistance(s, mixtureSamples(CENTRES, N, 300 + seed));
        expect(D).toBeLessThanOrEqual(accept.bound);
      }
      expect(model.sampledOn?.kind).toBe(backend().name);
    });
  }

  it('the bound has teeth: a horizon of 1.5, where the start is far from q_T, exceeds it', async () => {
    const model = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: cpu });
    const s = await model.sample(N, { horizon: 1.5, seed: 1 });
    expect(energyDistance(s, mixtureSamples(CENTRES, N, 301))).toBeGreaterThan(accept.bound);
  });

  it('the defaults are the documented rule: exponential, geometric to tMin = 0, T = 8 + ln max(1, max |mu_i|), S = max(100, ceil(2 sqrt(n)))', () => {
    const plan = resolveSampleOptions(CENTRES, N, {});
    const norms = [0, 1, 2].map((i) => Math.hypot(CENTRES.data[2 * i]!, CENTRES.data[2 * i + 1]!));
    expect(plan).toEqual({ method: 'reverse', integrator: 'exponential', horizon: 8 + Math.log(Math.max(...norms)), tMin: 0, steps: 100, grid: 'geometric', seed: 0 });
    expect(defaultHorizon(matrix(1, 2, Float64Array.from([0.3, 0.4])))).toBe(8);
    expect([defaultSteps(1), defaultSteps(2500), defaultSteps(2501), defaultSteps(10 ** 6)]).toEqual([100, 100, 101, 2000]);
    expect(resolveSampleOptions(CENTRES, N, { method: 'ode' })).toMatchObject({ integrator: 'heun', grid: 'geometric', steps: 100 });
    expect(resolveSampleOptions(CENTRES, N, { method: 'langevin' })).toEqual({ method: 'langevin', stepSize: 0.01, steps: 1000, seed: 0 });
  });
});

describe('every method runs', () => {
  const model = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: cpu });
  const n = 200;

  it("'direct' keeps the bits of sampleDirect and reports one progress call", async () => {
    const seen: SampleProgress[] = [];
    const s = await model.sample(n, { method: 'direct', seed: 4, onProgress: (p) => seen.push(p) });
    expect(s.data).toEqual(model.sampleDirect(n, 4).data);
    expect(s.data).toEqual(mixtureSamples(CENTRES, n, 4).data);
    expect(seen).toEqual([{ done: 1, total: 1 }]);
    expect(model.sampledOn).toBeUndefined();
  });

  const runs: [string, Parameters<DdpmGmm['sample']>[1]][] = [
    ['reverse, exponential (default)', {}],
    ['reverse, euler-maruyama, uniform grid', { integrator: 'euler-maruyama', grid: 'uniform', steps: 150, horizon: 6, tMin: 1e-3 }],
    ['ode (heun)', { method: 'ode', steps: 60 }],
    ['langevin from N(0, I)', { method: 'langevin', steps: 300, stepSize: 0.02 }],
    ['langevin from a start', { method: 'langevin', steps: 300, start: mixtureSamples(CENTRES, n, 9) }],
  ];
  for (const [name, options] of runs) {
    it(`${name}: n x d finite samples, progress up to the last step, and the backend's own bits`, async () => {
      const seen: SampleProgress[] = [];
      const s = await model.sample(n, { ...options, seed: 5, onProgress: (p) => seen.push(p) });
      expect([s.rows, s.cols]).toEqual([n, 2]);
      expect(s.data.every(Number.isFinite)).toBe(true);
      const plan = resolveSampleOptions(CENTRES, n, { ...options, seed: 5 });
      expect(plan.method).not.toBe('direct');
      const total = plan.method === 'direct' ? 1 : plan.steps;
      expect(seen[seen.length - 1]).toEqual({ done: total, total });
      // The estimator adds nothing to the backend's sampler: the same call gives the same bits.
      if (plan.method !== 'direct') expect(s.data).toEqual((await cpu.sample(CENTRES, n, plan)).data);
    });
  }
});

describe('sample() checks its input and finds its backend', () => {
  const model = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: cpu });
  const bad: [string, () => Promise<unknown>, RegExp][] = [
    ['the old sync signature sample(n, seed)', () => model.sample(10, 3 as never), /options object.*sampleDirect\(n, seed\)/],
    ['n = 0', () => model.sample(0), /1 <= n < 2\^32/],
    ['n = 2.5', () => model.sample(2.5), /1 <= n < 2\^32/],
    ['an unknown method', () => model.sample(10, { method: 'ddim' as never }), /sample method must be one of/],
    ['a step size for reverse diffusion', () => model.sample(10, { stepSize: 0.1 }), /reverse sampler has no stepSize option/],
    ['a horizon for Langevin', () => model.sample(10, { method: 'langevin', horizon: 3 }), /langevin sampler has no horizon option/],
    ['steps for direct', () => model.sample(10, { method: 'direct', steps: 3 }), /direct sampler has no steps option/],
    ['T <= tMin', () => model.sample(10, { horizon: 1, tMin: 1 }), /horizon T must be a finite number > tMin/],
    ['T not finite', () => model.sample(10, { horizon: Infinity }), /horizon T/],
    ['steps = 0', () => model.sample(10, { steps: 0 }), /positive integer/],
    ['the ode with euler-maruyama', () => model.sample(10, { method: 'ode', integrator: 'euler-maruyama' }), /takes the integrator 'heun'/],
    ['eps <= 0', () => model.sample(10, { method: 'langevin', stepSize: -1 }), /step size must be a finite number > 0/],
    ['a start of the wrong shape', () => model.sample(10, { method: 'langevin', start: matrix(10, 3) }), /Langevin start is 10 x 3/],
    ['a negative seed', () => model.sample(10, { seed: -1 }), /seed/],
  ];
  for (const [name, call, message] of bad) {
    it(`rejects ${name} with an InputError`, async () => {
      const e = await call().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toContain('\n');
    });
  }

  it('an unfitted model says to fit first', async () => {
    await expect(new DdpmGmm({ nComponents: 2, backend: cpu }).sample(5)).rejects.toThrow(/not fitted yet/);
  });

  it("a model from fromJSON opens its backend option lazily (here 'cpu') and releases it on dispose", async () => {
    const model2 = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: 'cpu' });
    expect(model2.sampledOn).toBeUndefined();
    const s = await model2.sample(50, { steps: 20, seed: 1 });
    expect(model2.sampledOn).toEqual({ kind: 'cpu', adapter: 'CPU float64 reference', software: false });
    expect(s.data).toEqual((await cpu.sample(CENTRES, 50, resolveSampleOptions(CENTRES, 50, { steps: 20, seed: 1 }) as never)).data);
    model2.dispose();
  });

  it('a Backend object passed in is the one that samples', async () => {
    let calls = 0;
    const spy: Backend = Object.assign(Object.create(cpu) as Backend, {
      sample: (...args: Parameters<Backend['sample']>) => {
        calls++;
        return cpu.sample(...args);
      },
    });
    const m = DdpmGmm.fromJSON(modelJson(CENTRES), { backend: spy });
    await m.sample(20, { steps: 10 });
    expect(calls).toBe(1);
  });
});
