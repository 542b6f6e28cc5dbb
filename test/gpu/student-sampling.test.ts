// The general student's GPU sampler (shaders/student_sample.wgsl; docs/math.md sections 11 and 14) against the
// float64 CPU sampler: every integrator at K = 1 and 3 in d = 5 (not a multiple of 4) with n = 100 samples (not a
// multiple of the workgroup), unequal variances (diag) and weights, a geometric grid down to tMin = 0 (v = c at
// the last time), Langevin from a given start, run-time loops against unrolled ones, chunked runs equal to
// unchunked ones bit for bit, and the CPU's input errors. Tolerances are DERIVED in test/support/student-sampling-bounds.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { studentSteps } from '../../src/sampling/gpu-student-sampler.ts';
import type { SamplerOptions } from '../../src/sampling/options.ts';
import type { StudentScore } from '../../src/sampling/student-score.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { worstRatio } from '../support/compare.ts';
import { studentSamplerBound } from '../support/student-sampling-bounds.ts';

let gpu: GpuBackend;
let chunked: GpuBackend;
let loops: GpuBackend;
const cpu = new CpuBackend();
const report: string[] = [];

beforeAll(async () => {
  gpu = await createGpuBackend();
  chunked = await createGpuBackend({ maxChunkRows: 32 });
  // 'tiled' turns the sampler's #unroll blocks into run-time loops (host/engine.ts), as on a hardware GPU.
  loops = await createGpuBackend({ kernel: 'tiled' });
});

afterAll(() => {
  for (const b of [gpu, chunked, loops]) b?.dispose();
  for (const line of report) console.log(line);
});

const N = 100;
const D = 5;

/** K seeded centres of norm about 3, variances 0.25 to 2.25 per coordinate, weights 0.6 / 0.3 / 0.1 (K = 3). */
function studentOf(k: number, seed: number): StudentScore {
  const means = matrix(k, D, noiseMatrix(seed, 1, k, D, STREAM_DATA_GENERATOR).data.map((v) => (3 / Math.sqrt(D)) * v));
  const variances = matrix(k, D, Float64Array.from({ length: k * D }, (_, i) => (0.5 + Math.abs(Math.sin(1.3 * i + seed))) ** 2));
  const pi = k === 3 ? [0.6, 0.3, 0.1] : [1];
  return { kind: 'student', means, variances, logWeights: Float64Array.from(pi, Math.log) };
}

const STUDENTS: Record<number, StudentScore> = { 1: studentOf(1, 31), 3: studentOf(3, 32) };
const START = matrix(N, D, noiseMatrix(33, 0, N, D, STREAM_DATA_GENERATOR).data.map((v) => 2 * v + 1));

const SAMPLERS: Record<string, SamplerOptions> = {
  'exponential, uniform grid': { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 1e-3, steps: 40, grid: 'uniform', seed: 5 },
  'exponential, geometric grid to tMin = 0': { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 0, steps: 40, grid: 'geometric', seed: 6 },
  'euler-maruyama, uniform grid': { method: 'reverse', integrator: 'euler-maruyama', horizon: 4, tMin: 1e-3, steps: 40, grid: 'uniform', seed: 7 },
  'heun (ode), geometric grid to tMin = 0': { method: 'ode', integrator: 'heun', horizon: 4, tMin: 0, steps: 40, grid: 'geometric', seed: 8 },
  'langevin from N(0, I)': { method: 'langevin', stepSize: 0.02, steps: 40, seed: 9 },
  'langevin from a given start': { method: 'langevin', stepSize: 0.02, steps: 40, seed: 10, start: START },
};

async function expectWithinBound(backend: GpuBackend, label: string, score: StudentScore, options: SamplerOptions): Promise<Matrix> {
  const got = await backend.sample(score, N, options);
  const ref = await cpu.sample(score, N, options);
  const { y, bound, maxLogitShift } = studentSamplerBound(score, N, options);
  // The bound's float64 trajectory is the CPU sampler's (two float64 evaluation orders of the same steps).
  expect(worstRatio(y, ref.data, ref.data.map((v) => 1e-10 * (1 + Math.abs(v)))).ratio).toBeLessThanOrEqual(1);
  // First order: the propagated error moves a logit by at most 1e-2, so the neglected (dl)^2 terms stay below 1%.
  expect(maxLogitShift).toBeLessThanOrEqual(1e-2);
  // |y_gpu - y_ref| <= b_S entrywise: the step's Jacobian (with J_s = Cov_w(e) - sum_j w_j diag(p_j)) applied to the
  // error so far, plus the step's own float32 rounding (test/support/student-sampling-bounds.ts).
  const worst = worstRatio(got.data, ref.data, bound);
  expect(worst.ratio).toBeLessThanOrEqual(1);
  // Not vacuous: the bound stays far below the samples' own scale (about 1 to 5).
  expect(Math.max(...bound)).toBeLessThan(1e-2);
  report.push(`${label}: max |gpu - cpu| ${Math.max(...got.data.map((v, i) => Math.abs(v - ref.data[i]!))).toExponential(2)}, / bound = ${worst.ratio.toExponential(2)}, max bound ${Math.max(...bound).toExponential(2)}, logit shift ${maxLogitShift.toExponential(2)}`);
  return got;
}

describe('the student sampler names the bindings its WGSL declares', () => {
  it('under every specialisation (Heun or not, unrolled or run-time loops)', () => {
    for (const heun of [false, true]) {
      for (const unrolled of [false, true]) {
        const spec = studentSteps.specialise({ k: 3, d: 5, d4: 2, heun, unrolled });
        checkBindings(studentSteps, spec.flags, specialiseFiles(studentSteps.files, WGSL_SOURCES, spec));
      }
    }
  });
});

describe('the student sampler: GPU against the float64 reference within the derived bound (docs/math.md section 14)', () => {
  for (const k of [1, 3]) {
    for (const [name, options] of Object.entries(SAMPLERS)) {
      it(`K = ${k}, d = ${D}, n = ${N}: ${name}`, async () => {
        await expectWithinBound(gpu, `student K${k} ${name}`, STUDENTS[k]!, options);
      });
    }
  }

  it('run-time loops (the hardware form of the kernel) within the same bound', async () => {
    for (const name of ['exponential, uniform grid', 'heun (ode), geometric grid to tMin = 0']) {
      await expectWithinBound(loops, `student K3 loops ${name}`, STUDENTS[3]!, SAMPLERS[name]!);
    }
  });

  it('a run chunked over samples (4 chunks) equals the unchunked run bit for bit', async () => {
    for (const name of ['exponential, uniform grid', 'heun (ode), geometric grid to tMin = 0', 'langevin from a given start']) {
      const whole = await gpu.sample(STUDENTS[3]!, N, SAMPLERS[name]!);
      expect((await chunked.sample(STUDENTS[3]!, N, SAMPLERS[name]!)).data).toEqual(whole.data);
    }
  });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('bad student scores and requests give the CPU reference errors', () => {
  const s = STUDENTS[3]!;
  const rev = SAMPLERS['exponential, uniform grid']!;
  const bad: [string, () => [StudentScore, number, SamplerOptions]][] = [
    ['a zero variance', () => [{ ...s, variances: matrix(3, D) }, N, rev]],
    ['variances of the wrong shape', () => [{ ...s, variances: matrix(3, D - 1, new Float64Array(3 * (D - 1)).fill(1)) }, N, rev]],
    ['a NaN log weight', () => [{ ...s, logWeights: Float64Array.of(0, NaN, 0) }, N, rev]],
    ['n = 0', () => [s, 0, rev]],
    ['a start of the wrong shape', () => [s, N, { method: 'langevin', stepSize: 0.1, steps: 5, seed: 1, start: matrix(N - 1, D) }]],
  ];
  for (const [name, args] of bad) {
    it(name, async () => {
      const expected = await rejection(cpu.sample(...args()));
      const got = await rejection(gpu.sample(...args()));
      expect([got.name, got.message]).toEqual([expected.name, expected.message]);
    });
  }
});
