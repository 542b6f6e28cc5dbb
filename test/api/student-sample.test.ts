// DdpmGmm.sample with the general student (docs/math.md sections 11, 14 and 15): a model file with unequal
// spreads and weights and a per-feature scaling; the reverse sampler's defaults meet the acceptance bound
// against the model's own direct draws on both backends, every method runs in the scaled coordinates and
// returns the data's units, the default horizon covers the variances, and a fitted model samples.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { createModelFile } from '../../src/model-file.ts';
import { defaultHorizon, resolveSampleOptions } from '../../src/sample-options.ts';
import { energyDistance } from '../../src/metrics/cpu.ts';
import { studentScoreOf } from '../../src/sampling/student-score.ts';
import { gammaOf, initialStudent, type StudentParams } from '../../src/training/student.ts';
import { fromScaled, toScaled } from '../../src/scaling.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import type { Backend } from '../../src/backend.ts';

// Three components in d = 2 with spreads 0.5, 1 and 2 and weights 0.6, 0.3, 0.1, in scaled coordinates; the data's
// units are z * scale + centre.
const SCALED_MEANS = matrix(3, 2, Float64Array.of(-4, 0, 3, 3, 3, -4));
const SCALING = { method: 'within' as const, centre: Float64Array.of(100, -5e4), scale: Float64Array.of(2, 1e3) };
const MEANS = matrix(3, 2, SCALED_MEANS.data.map((v, i) => v * SCALING.scale[i % 2]! + SCALING.centre[i % 2]!));

function student(): StudentParams {
  const s = initialStudent('spherical', 'learned', 3, 2);
  [0.25, 1, 4].forEach((c, i) => (s.gamma.data[i] = gammaOf(c)));
  [0.6, 0.3, 0.1].forEach((p, i) => (s.beta[i] = Math.log(p)));
  return s;
}

function modelOn(backend: Backend): DdpmGmm {
  const file = createModelFile({ means: MEANS, student: student(), method: 'ddpm', schedule: 'annealed', converged: true, nIter: 1, backendUsed: null, scaling: SCALING });
  return DdpmGmm.fromJSON(JSON.parse(JSON.stringify(file)), { backend });
}

const N = 1500;
const NULL_PAIRS = 12;
const cpu = new CpuBackend();
let gpu: GpuBackend;
let accept: { bound: number; mean: number };

beforeAll(async () => {
  gpu = await createGpuBackend();
  // The acceptance bound of test/api/sample.test.ts on this model: mean + 4 sd of D between pairs of its own direct
  // sets of size N, in the scaled coordinates (where the mixture's components are of order 1 in every feature).
  const model = modelOn(cpu);
  const d: number[] = [];
  for (let r = 0; r < NULL_PAIRS; r++) d.push(energyDistance(toScaled(model.sampleDirect(N, 100 + r), SCALING), toScaled(model.sampleDirect(N, 200 + r), SCALING)));
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1));
  accept = { bound: mean + 4 * sd, mean };
});
afterAll(() => gpu?.dispose());

describe("the general student's sample() meets the acceptance bound against its own direct draws", () => {
  for (const [name, backend] of [['the CPU reference', () => cpu], ['the GPU engine', () => gpu]] as const) {
    it(`on ${name}: sample()'s defaults (the ODE for a general student), 3 seeds, in the data's units`, async () => {
      const model = modelOn(backend());
      expect(resolveSampleOptions(studentScoreOf(matrix(3, 2), model.student!), N, {}).method).toBe('ode');
      expect(resolveSampleOptions(matrix(3, 2), N, {}).method).toBe('reverse');
      for (const seed of [1, 2, 3]) {
        const s = await model.sample(N, { seed });
        expect([s.rows, s.cols]).toEqual([N, 2]);
        const D = energyDistance(toScaled(s, SCALING), toScaled(model.sampleDirect(N, 300 + seed), SCALING));
        expect(D).toBeLessThanOrEqual(accept.bound);
      }
      expect(model.sampledOn?.kind).toBe(backend().name);
    });
  }

  it("the bound has teeth: the paper's student's score (unit variances, equal weights) on the same centres exceeds it", async () => {
    const model = modelOn(cpu);
    const plan = resolveSampleOptions(SCALED_MEANS, N, { seed: 1 });
    if (plan.method === 'direct') throw new Error('a sampler plan');
    const paper = await cpu.sample(SCALED_MEANS, N, plan);
    expect(energyDistance(paper, toScaled(model.sampleDirect(N, 301), SCALING))).toBeGreaterThan(accept.bound);
  });
});

describe('every method runs on the general student, and the estimator adds nothing to the backend', () => {
  const model = modelOn(cpu);
  const score = studentScoreOf(SCALED_MEANS, student());
  const runs: [string, Parameters<DdpmGmm['sample']>[1]][] = [
    ['reverse, euler-maruyama, uniform grid', { method: 'reverse', integrator: 'euler-maruyama', grid: 'uniform', steps: 150, horizon: 6, tMin: 1e-3 }],
    ['ode (heun)', { method: 'ode', steps: 60 }],
    ['langevin from N(0, I)', { method: 'langevin', steps: 300, stepSize: 0.02 }],
  ];
  for (const [name, options] of runs) {
    it(`${name}: the backend's bits on the scaled student, back in the data's units`, async () => {
      const s = await model.sample(200, { ...options, seed: 5 });
      const plan = resolveSampleOptions(score, 200, { ...options, seed: 5 });
      if (plan.method === 'direct') throw new Error('a sampler plan');
      const z = await cpu.sample(score, 200, plan);
      expect(s.data).toEqual(fromScaled(z, SCALING).data);
      // fromScaled is z * scale + centre, feature by feature.
      expect(s.data[1]).toBe(z.data[1]! * SCALING.scale[1]! + SCALING.centre[1]!);
    });
  }

  it('the default horizon is 8 + ln max(1, max_i |mu_i|, max_ij sqrt(c_ij)) in the scaled coordinates', () => {
    const plan = resolveSampleOptions(score, N, {});
    // A general student's default method is the probability-flow ODE (defaultSampleMethod).
    expect(plan).toMatchObject({ method: 'ode', horizon: 8 + Math.log(5) });
    expect(defaultHorizon(matrix(1, 2, Float64Array.of(0.3, 0.4)), matrix(1, 2, Float64Array.of(9, 1)))).toBe(8 + Math.log(3));
  });
});

describe('a fitted general student samples', () => {
  it('fit(spherical, learned) then sample(): finite n x d samples in the data units, on the backend fit used', async () => {
    const model = new DdpmGmm({ nComponents: 3, covariance: 'spherical', weights: 'learned', backend: cpu, seed: 2, maxSteps: 60 });
    const X: Matrix = modelOn(cpu).sampleDirect(600, 7);
    await model.fit(X);
    expect(model.student?.covariance).toBe('spherical');
    const s = await model.sample(300, { seed: 1, steps: 60 });
    expect([s.rows, s.cols]).toEqual([300, 2]);
    expect(s.data.every(Number.isFinite)).toBe(true);
    // In the data's units: the second feature is near -5e4 with a spread of thousands, not of order 1.
    const mean = s.data.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0) / 300;
    expect(Math.abs(mean + 5e4)).toBeLessThan(1e4);
  });
});
