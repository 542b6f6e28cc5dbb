// The GPU samplers and the GPU energy distance (docs/math.md section 11) against the float64 CPU reference
// (CpuBackend): every integrator at K = 1 and 3 in d = 5 (not a multiple of 4) with n = 100 samples (not a
// multiple of the workgroup), a geometric grid down to tMin = 0, Langevin from a given start, run-time
// loops against unrolled ones, chunked runs equal to unchunked ones bit for bit, progress, divergence and
// the same input errors as the CPU. Tolerances are DERIVED in test/support/sampling-bounds.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../host/core/device.ts';
import { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { nodeGpuEntry } from '../../host/core/node-gpu.ts';
import { pairDistanceSums } from '../../src/metrics/gpu-energy-distance.ts';
import { sampleStart, sampleSteps } from '../../src/sampling/gpu-sampler.ts';
import type { Program } from '../../host/core/program.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DivergenceError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import type { SampleProgress, SamplerOptions } from '../../src/sampling/options.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { worstRatio } from '../support/compare.ts';
import { energyBound, pairSumDepth, samplerBound } from '../support/sampling-bounds.ts';

let gpu: GpuBackend;
let chunked: GpuBackend;
let loops: GpuBackend;
let hardwarePlan: GpuBackend;
const cpu = new CpuBackend();
const report: string[] = [];

beforeAll(async () => {
  gpu = await createGpuBackend();
  chunked = await createGpuBackend({ maxChunkRows: 32 });
  // 'tiled' turns the samplers' #unroll blocks into run-time loops (host/engine.ts), as on a hardware GPU.
  loops = await createGpuBackend({ kernel: 'tiled' });
  // The plan a hardware GPU gets (one invocation per sample, dispatches capped by work, workgroup tiles), on this adapter.
  const acquired = await acquireDevice({ gpu: (await nodeGpuEntry()) ?? undefined });
  hardwarePlan = new GpuBackend({ acquired: { ...acquired, isSoftware: false }, sources: WGSL_SOURCES });
});

afterAll(() => {
  for (const b of [gpu, chunked, loops, hardwarePlan]) b?.dispose();
  for (const line of report) console.log(line);
});

const N = 100;
const D = 5;

/** K seeded centres of norm about 3 (Philox, the data stream). */
function centresOf(k: number, d: number, seed: number): Matrix {
  return matrix(k, d, noiseMatrix(seed, 1, k, d, STREAM_DATA_GENERATOR).data.map((v) => (3 / Math.sqrt(d)) * v));
}

const CENTRES: Record<number, Matrix> = { 1: centresOf(1, D, 31), 3: centresOf(3, D, 32) };
const START = matrix(N, D, noiseMatrix(33, 0, N, D, STREAM_DATA_GENERATOR).data.map((v) => 2 * v + 1));

const SAMPLERS: Record<string, SamplerOptions> = {
  'exponential, uniform grid': { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 1e-3, steps: 40, grid: 'uniform', seed: 5 },
  'exponential, geometric grid to tMin = 0': { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 0, steps: 40, grid: 'geometric', seed: 6 },
  'euler-maruyama, uniform grid': { method: 'reverse', integrator: 'euler-maruyama', horizon: 4, tMin: 1e-3, steps: 40, grid: 'uniform', seed: 7 },
  'heun (ode), geometric grid to tMin = 0': { method: 'ode', integrator: 'heun', horizon: 4, tMin: 0, steps: 40, grid: 'geometric', seed: 8 },
  'langevin from N(0, I)': { method: 'langevin', stepSize: 0.05, steps: 40, seed: 9 },
  'langevin from a given start': { method: 'langevin', stepSize: 0.05, steps: 40, seed: 10, start: START },
};

/** GPU samples against CpuBackend within the derived bound; returns the GPU's samples. */
async function expectWithinBound(backend: GpuBackend, label: string, centres: Matrix, options: SamplerOptions): Promise<Matrix> {
  const got = await backend.sample(centres, N, options);
  const ref = await cpu.sample(centres, N, options);
  const { y, bound, maxLogitShift } = samplerBound(centres, N, options);
  // The bound's float64 trajectory is the CPU sampler's (two float64 evaluation orders of the same steps).
  expect(worstRatio(y, ref.data, ref.data.map((v) => 1e-10 * (1 + Math.abs(v)))).ratio).toBeLessThanOrEqual(1);
  // First order: the propagated error moves a logit by at most 1e-2, so the neglected (dl)^2 terms stay below 1%.
  expect(maxLogitShift).toBeLessThanOrEqual(1e-2);
  // |y_gpu - y_ref| <= b_S entrywise: b_{k+1} = |J_k| b_k + local_k, the step's Jacobian J_k = (1 + cy - cs) I + cs a^2 Cov_w(mu)
  // (Heun: the composition of its two stages) applied to the error so far, plus the step's own float32 rounding: the
  // logits, softmax and weighted mean (dmbar), the products and sums of the increment, and the Box-Muller noise's
  // normalBound (test/support/sampling-bounds.ts, derived under the rules of test/support/bounds.ts).
  const worst = worstRatio(got.data, ref.data, bound);
  expect(worst.ratio).toBeLessThanOrEqual(1);
  // Not vacuous: the bound stays far below the samples' own scale (about 1 to 5); its largest here is 1.7e-3, for a
  // Langevin sample that starts between components, where the score's Jacobian grows the carried error most.
  expect(Math.max(...bound)).toBeLessThan(1e-2);
  report.push(`${label}: max |gpu - cpu| / bound = ${worst.ratio.toExponential(2)}, max bound ${Math.max(...bound).toExponential(2)}, logit shift ${maxLogitShift.toExponential(2)}`);
  return got;
}

describe('the two programs name the bindings their WGSL declares', () => {
  const check = <B extends string, P>(program: Program<B, P>, params: P): void => {
    const spec = program.specialise(params);
    checkBindings(program, spec.flags, specialiseFiles(program.files, WGSL_SOURCES, spec));
  };
  it('under every specialisation (Heun or not, unrolled or run-time loops)', () => {
    for (const heun of [false, true]) {
      for (const unrolled of [false, true]) for (const program of [sampleSteps, sampleStart]) check(program, { k: 3, d: 5, d4: 2, heun, unrolled });
    }
    for (const tiled of [false, true]) for (const unrolled of [false, true]) check(pairDistanceSums, { d4: 2, tile: 64, rows: tiled ? 1 : 4, tiled, unrolled });
  });
});

describe('samplers: GPU against the float64 reference within the derived bound (docs/math.md section 11)', () => {
  for (const k of [1, 3]) {
    for (const [name, options] of Object.entries(SAMPLERS)) {
      it(`K = ${k}, d = ${D}, n = ${N}: ${name}`, async () => {
        await expectWithinBound(gpu, `K${k} ${name}`, CENTRES[k]!, options);
      });
    }
  }

  it('run-time loops (the hardware form of the kernel) within the same bound', async () => {
    for (const name of ['exponential, uniform grid', 'heun (ode), geometric grid to tMin = 0']) {
      await expectWithinBound(loops, `K3 loops ${name}`, CENTRES[3]!, SAMPLERS[name]!);
    }
  });

  it('a run chunked over samples (4 chunks) equals the unchunked run bit for bit', async () => {
    for (const name of ['exponential, uniform grid', 'heun (ode), geometric grid to tMin = 0', 'langevin from a given start']) {
      const whole = await gpu.sample(CENTRES[3]!, N, SAMPLERS[name]!);
      const split = await chunked.sample(CENTRES[3]!, N, SAMPLERS[name]!);
      expect(split.data).toEqual(whole.data);
    }
  });

  it("a hardware GPU's dispatch plan gives the bits of the same kernel under the software plan", async () => {
    for (const name of ['exponential, uniform grid', 'heun (ode), geometric grid to tMin = 0']) {
      expect((await hardwarePlan.sample(CENTRES[3]!, N, SAMPLERS[name]!)).data).toEqual((await loops.sample(CENTRES[3]!, N, SAMPLERS[name]!)).data);
    }
    const x = START;
    const y = matrix(60, D, START.data.slice(0, 60 * D).map((v) => v / 2));
    expect(await hardwarePlan.energyDistance(x, y)).toBe(await loops.energyDistance(x, y));
  });

  it('stopAfter = S is the full run bit for bit, and stopAfter = j (not a batch boundary) is within the bound of the CPU prefix', async () => {
    for (const name of ['exponential, geometric grid to tMin = 0', 'heun (ode), geometric grid to tMin = 0']) {
      const options = SAMPLERS[name]! as SamplerOptions & { steps: number };
      const whole = await gpu.sample(CENTRES[3]!, N, options);
      expect((await gpu.sample(CENTRES[3]!, N, { ...options, stopAfter: options.steps } as SamplerOptions)).data).toEqual(whole.data);
      // 13 steps: a part of the first batch of 8 (src/sampling/gpu-sampler.ts), so the prefix ends between submissions.
      const prefix = await expectWithinBound(gpu, `K3 stopAfter 13 ${name}`, CENTRES[3]!, { ...options, stopAfter: 13 } as SamplerOptions);
      expect(prefix.data).not.toEqual(whole.data);
    }
  });

  it('the same call twice gives the same bits', async () => {
    const options = SAMPLERS['euler-maruyama, uniform grid']!;
    expect((await gpu.sample(CENTRES[3]!, N, options)).data).toEqual((await gpu.sample(CENTRES[3]!, N, options)).data);
  });

  it('reports progress once per submitted batch of steps, ending at the total', async () => {
    for (const [steps, reports] of [[40, 5], [400, 20], [3, 1]] as const) {
      const seen: SampleProgress[] = [];
      await gpu.sample(CENTRES[3]!, 70, { ...SAMPLERS['exponential, uniform grid']!, steps } as SamplerOptions, (p) => seen.push(p));
      // About 20 reports, but at least 8 steps per submission (src/sampling/gpu-sampler.ts): 40 steps in 5 batches, 400 in 20.
      expect(seen.length).toBe(reports);
      expect(seen.every((p, i) => p.total === steps && p.done > (i > 0 ? seen[i - 1]!.done : 0))).toBe(true);
      expect(seen.at(-1)!.done).toBe(steps);
    }
  });

  it('names the first non-finite step in a DivergenceError that suggests a smaller step', async () => {
    // eps = 1e20: step 0 takes y to about 1e20, step 1 to about 1e40, past float32's 3.4e38.
    const error = await rejection(gpu.sample(CENTRES[3]!, N, { method: 'langevin', stepSize: 1e20, steps: 10, seed: 1 }));
    expect(error).toBeInstanceOf(DivergenceError);
    expect((error as DivergenceError).step).toBe(1);
    expect(error.message).toMatch(/diverged at step 1 .*step size/);
    // The backend stays usable: the flag belongs to the run.
    await expectWithinBound(gpu, 'after a divergence', CENTRES[1]!, SAMPLERS['langevin from N(0, I)']!);
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

describe('bad sampler and energy-distance inputs give the CPU reference errors', () => {
  const c3 = CENTRES[3]!;
  const rev = SAMPLERS['exponential, uniform grid'] as Extract<SamplerOptions, { method: 'reverse' | 'ode' }>;
  const bad: [string, () => [Matrix, number, SamplerOptions]][] = [
    ['no centres', () => [matrix(0, D), N, rev]],
    ['a NaN centre', () => [matrix(1, 2, Float64Array.of(0, NaN)), N, rev]],
    ['n = 0', () => [c3, 0, rev]],
    ['n = 1.5', () => [c3, 1.5, rev]],
    ['n = 2^32', () => [c3, 2 ** 32, rev]],
    ['an unknown method', () => [c3, N, { ...rev, method: 'bogus' } as unknown as SamplerOptions]],
    ['heun on the reverse SDE', () => [c3, N, { ...rev, integrator: 'heun' }]],
    ['horizon <= tMin', () => [c3, N, { ...rev, horizon: 0.5, tMin: 0.5 }]],
    ['tMin < 0', () => [c3, N, { ...rev, tMin: -1 }]],
    ['0 steps', () => [c3, N, { ...rev, steps: 0 }]],
    ['an unknown grid', () => [c3, N, { ...rev, grid: 'log' } as unknown as SamplerOptions]],
    ['a geometric grid to 0 in one step', () => [c3, N, { ...rev, grid: 'geometric', tMin: 0, steps: 1 }]],
    ['a negative seed', () => [c3, N, { ...rev, seed: -1 }]],
    ['a zero Langevin step', () => [c3, N, { method: 'langevin', stepSize: 0, steps: 5, seed: 1 }]],
    ['a start of the wrong shape', () => [c3, N, { method: 'langevin', stepSize: 0.1, steps: 5, seed: 1, start: matrix(N - 1, D) }]],
    ['a start with an infinity', () => [c3, 2, { method: 'langevin', stepSize: 0.1, steps: 5, seed: 1, start: matrix(2, D, new Float64Array(2 * D).fill(Infinity)) }]],
  ];
  for (const [name, args] of bad) {
    it(`sample: ${name}`, async () => {
      const expected = await rejection(cpu.sample(...args()));
      const got = await rejection(gpu.sample(...args()));
      expect([got.name, got.message]).toEqual([expected.name, expected.message]);
    });
  }
  const x = matrix(3, D);
  const badSets: [string, Matrix, Matrix][] = [
    ['an empty first set', matrix(0, D), x],
    ['different d', x, matrix(3, D + 1)],
    ['a NaN', x, matrix(1, D, new Float64Array(D).fill(NaN))],
  ];
  for (const [name, a, b] of badSets) {
    it(`energyDistance: ${name}`, async () => {
      const expected = await rejection(cpu.energyDistance(a, b));
      const got = await rejection(gpu.energyDistance(a, b));
      expect([got.name, got.message]).toEqual([expected.name, expected.message]);
    });
  }
});

describe('energy distance: GPU against the float64 reference within the derived bound', () => {
  const gaussian = (rows: number, d: number, seed: number, shift: number) =>
    matrix(rows, d, noiseMatrix(seed, 0, rows, d, STREAM_DATA_GENERATOR).data.map((v, i) => v + (i % d === 0 ? shift : 0)));
  const sets: [string, Matrix, Matrix][] = [
    ['shifted Gaussians, d = 5', gaussian(300, 5, 41, 1.5), gaussian(200, 5, 42, 0)],
    ['one Gaussian, d = 5 (D near 0)', gaussian(257, 5, 43, 0), gaussian(190, 5, 44, 0)],
    ['shifted Gaussians, d = 64', gaussian(130, 64, 45, 1), gaussian(70, 64, 46, 0)],
  ];
  for (const [name, x, y] of sets) {
    // The adapter's own form (software: 'lanes', rows from storage, unrolled; GPU: 'tiled'), the forced 'tiled' form
    // (workgroup tiles, run-time loops), and the adapter's form chunked.
    for (const [variant, backend] of [['adapter form', () => gpu], ['tiled form', () => loops], ['chunked (32 rows)', () => chunked]] as const) {
      it(`${name}, ${variant}`, async () => {
        const b = backend();
        const kind = b === loops || !b.isSoftware ? 'tiled' : 'lanes';
        const got = await b.energyDistance(x, y);
        const ref = await cpu.energyDistance(x, y);
        const d = x.cols;
        // |D_gpu - D_ref| <= min(E / D, sqrt(E)) with E the bound on D^2: per pair (d + 2)-ish u ||x - y|| from the upload,
        // the differences, the squares and their sum, plus sqrt's 9u; per partial 2u times its chain's depth (segment + ROWS + WG).
        const depth = { xy: pairSumDepth(b, kind, x.rows, y.rows, d), xx: pairSumDepth(b, kind, x.rows, x.rows, d), yy: pairSumDepth(b, kind, y.rows, y.rows, d) };
        const { distance, bound } = energyBound(x, y, depth);
        expect(Math.abs(distance - ref)).toBeLessThanOrEqual(1e-12 * (1 + ref));
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(bound);
        report.push(`energy ${name} ${variant}: D = ${ref.toPrecision(6)}, |gpu - cpu| = ${Math.abs(got - ref).toExponential(2)}, bound ${bound.toExponential(2)}`);
      });
    }
  }

  it('the same call twice gives the same bits', async () => {
    const [, x, y] = sets[0]!;
    const first = await gpu.energyDistance(x, y);
    expect(Object.is(await gpu.energyDistance(x, y), first)).toBe(true);
    expect(Object.is(await chunked.energyDistance(x, y), await chunked.energyDistance(x, y))).toBe(true);
  });
});
