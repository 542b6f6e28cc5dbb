// The GPU side of the piecewise score model (docs/math.md section 13): the per-cell moments
// (src/piecewise/gpu-moments.ts) against the float64 cellMoments, entry by entry within the float32 bounds derived in
// test/support/piecewise-bounds.ts, on data whose every noisy point is nearest one cell by more than float32 can move
// it; and the sampler (src/piecewise/gpu-sampler.ts) against a float64 run of the same steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { cellMomentsOnGpu } from '../../src/piecewise/gpu-moments.ts';
import { samplePiecewiseOnGpu } from '../../src/piecewise/gpu-sampler.ts';
import { piecewiseGram, piecewisePoints } from '../../src/piecewise/gpu-moments.ts';
import { piecewiseSteps } from '../../src/piecewise/gpu-sampler.ts';
import type { SamplerContext } from '../../src/sampling/gpu-sampler.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { DeviceError, DivergenceError, InputError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/matrix.ts';
import { cellMoments, type CellMoments, type MomentOptions } from '../../src/piecewise/moments.ts';
import type { LevelInterpolation, PiecewiseDegree, PiecewiseModel } from '../../src/piecewise/model.ts';
import { featureCount } from '../../src/piecewise/model.ts';
import { stepsToRun } from '../../src/sampling/grid.ts';
import { sampleReference } from '../../src/sampling/cpu-sampler.ts';
import type { SamplerOptions } from '../../src/sampling/options.ts';
import { momentBounds } from '../support/piecewise-bounds.ts';
import { pieceStep, startWithBound } from '../support/piecewise-sampling-bounds.ts';

let gpu: GpuBackend;

beforeAll(async () => {
  gpu = await createGpuBackend();
});

afterAll(() => {
  gpu?.dispose();
});

/** The engine's parts as host/piecewise-*.ts take them (the Backend will build the same context). */
function withPiecewiseContext<T>(backend: GpuBackend, work: (ctx: SamplerContext) => Promise<T>, maxChunkRows = backend.maxChunkRows, runTimeLoops = false): Promise<T> {
  const unrolled = (k: number, d: number) => !runTimeLoops && backend.kernelFor(k, d) === 'lanes';
  return backend.withInternals(({ device, pipelines, read }) => work({ device, pipelines, maxChunkRows, unrolled, software: backend.isSoftware, read }));
}

/**
 * J cells on a sphere of radius 3 sqrt(J) (seeded directions) and N rows x0 = c_{n mod J} / a + 0.4 g: the noisy points
 * x_t = c_j + 0.4 a g + sigma z stay well inside their cell at the tests' t, which momentBounds checks point by point.
 */
function problem(J: number, d: number, N: number, t: number, seed: number): { data: Matrix; cells: Matrix } {
  const dirs = noiseMatrix(seed, 0, J, d, STREAM_DATA_GENERATOR);
  const cells = matrix(J, d);
  for (let j = 0; j < J; j++) {
    const row = dirs.data.subarray(j * d, (j + 1) * d);
    const norm = Math.hypot(...row);
    for (let c = 0; c < d; c++) cells.data[j * d + c] = J === 1 ? 0.5 * row[c]! : (3 * Math.sqrt(J) * row[c]!) / norm;
  }
  const a = Math.exp(-t);
  const g = noiseMatrix(seed + 1, 0, N, d, STREAM_DATA_GENERATOR);
  const data = matrix(N, d);
  for (let n = 0; n < N; n++) for (let c = 0; c < d; c++) data.data[n * d + c] = cells.data[(n % J) * d + c]! / a + 0.4 * g.data[n * d + c]!;
  return { data, cells };
}

function compare(got: CellMoments, want: CellMoments, bounds: ReturnType<typeof momentBounds>): void {
  expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
  const check = (name: string, g: Float64Array, w: Float64Array, b: Float64Array) => {
    expect(g.length, name).toBe(w.length);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < w.length; i++) {
      const ratio = Math.abs(g[i]! - w[i]!) / b[i]!;
      if (!(ratio <= worst)) [worst, at] = [ratio, i];
    }
    // Every entry within its derived bound (header of test/support/piecewise-bounds.ts).
    expect(worst, `${name}[${at}]: gpu ${g[at]}, cpu ${w[at]}, bound ${b[at]}`).toBeLessThanOrEqual(1);
  };
  check('gram', got.gram, want.gram, bounds.gram);
  check('cross', got.cross, want.cross, bounds.cross);
  check('targetSquares', got.targetSquares, want.targetSquares, bounds.targetSquares);
}

async function checkCase(J: number, d: number, N: number, degree: PiecewiseDegree, extra: Partial<MomentOptions> = {}, maxChunkRows?: number, runTimeLoops = false): Promise<CellMoments> {
  const options: MomentOptions = { t: 0.3, degree, seed: 17, draws: 2, firstStep: 3, ...extra };
  const { data, cells } = problem(J, d, N, options.t, 100 + d);
  const bounds = momentBounds(data, cells, options);
  // The comparison is entrywise only if both sides assign every point alike: no point within float32 of a tie.
  expect(bounds.ambiguous).toBe(0);
  const want = cellMoments(data, cells, options);
  const got = await withPiecewiseContext(gpu, (ctx) => cellMomentsOnGpu(ctx, data, cells, options), maxChunkRows, runTimeLoops);
  compare(got, want, bounds);
  // Every cell got points, so each cell's sums were exercised.
  expect(Math.min(...want.counts)).toBeGreaterThan(0);
  return got;
}

describe('the piecewise programs name the bindings their WGSL declares', () => {
  it('at degree 1 and 2, unrolled and not', () => {
    for (const degree of [1, 2] as const) {
      for (const unrolled of [true, false]) {
        for (const program of [piecewisePoints, piecewiseGram, piecewiseSteps]) {
          for (const heun of [false, true]) {
            const spec = program.specialise({ d: 7, degree, unrolled, heun });
            expect(() => checkBindings(program, spec.flags, specialiseFiles(program.files, WGSL_SOURCES, spec))).not.toThrow();
          }
        }
      }
    }
  });
});

describe('cellMomentsOnGpu against the float64 cellMoments', () => {
  it('degree 1, d = 7 (not a multiple of 4), J = 5, N = 300 (not a multiple of 64), two draws', async () => {
    await checkCase(5, 7, 300, 1);
  });

  it('degree 2, d = 6, J = 3, N = 200, one draw at a large first step', async () => {
    await checkCase(3, 6, 200, 2, { draws: 1, firstStep: 2 ** 31 + 5, seed: 2 ** 40 + 3 });
  });

  it('run-time loops over d/4 (the hardware form), degree 2, d = 7', async () => {
    await checkCase(4, 7, 150, 2, {}, undefined, true);
  });

  it('J = 1 (every point in one cell), degree 2, d = 5, N = 130', async () => {
    await checkCase(1, 5, 130, 2, { t: 1.2 });
  });

  it('a cell of more than SEGMENT_ROWS rows in one chunk, cut into segments: J = 2, d = 4, N = 2300', async () => {
    await checkCase(2, 4, 2300, 1, { draws: 1 });
  });

  it('rows in chunks of 48 (each chunk its own sort and partials), and the same bits twice', async () => {
    const got = await checkCase(3, 9, 250, 2, {}, 48);
    const again = await checkCase(3, 9, 250, 2, {}, 48);
    expect(Array.from(again.gram)).toEqual(Array.from(got.gram));
    expect(Array.from(again.cross)).toEqual(Array.from(got.cross));
  });

  it('refuses, with a DeviceError naming the sizes, cells or a partial over one storage binding', async () => {
    // A device whose bindings hold 4 KiB: the checks come before any buffer is made.
    const small = { limits: { maxStorageBufferBindingSize: 4096, maxBufferSize: 2 ** 30 } } as unknown as GPUDevice;
    const tiny = (work: (ctx: SamplerContext) => Promise<unknown>) => withPiecewiseContext(gpu, (ctx) => work({ ...ctx, device: small }));
    const options: MomentOptions = { t: 0.3, degree: 1, seed: 1, draws: 1, firstStep: 0 };
    const many = problem(300, 8, 10, 0.3, 1);
    await expect(tiny((ctx) => cellMomentsOnGpu(ctx, many.data, many.cells, options))).rejects.toThrow(/300 cells in d = 8 need 9600 bytes, over one storage binding \(4096\)/);
    const wide = problem(2, 64, 10, 0.3, 1);
    await expect(tiny((ctx) => cellMomentsOnGpu(ctx, wide.data, wide.cells, options))).rejects.toThrow(DeviceError);
  });

  it('refuses cells of another dimension', async () => {
    const { data, cells } = problem(2, 4, 10, 0.3, 1);
    const bad = matrix(2, 3, cells.data.slice(0, 6));
    await expect(withPiecewiseContext(gpu, (ctx) => cellMomentsOnGpu(ctx, data, bad, { t: 0.3, degree: 1, seed: 1, draws: 1, firstStep: 0 }))).rejects.toThrow(InputError);
  });
});

/**
 * A seeded model in d = 5 with levels t = 2, 0.5, 0.1 of 1, 3 and 4 cells: coefficients near the score of N(0, I)
 * (-u on the linear features) plus seeded perturbations, so that cells differ and the score jumps at their borders.
 */
function model(degree: PiecewiseDegree, interpolation: LevelInterpolation, scale = 1): PiecewiseModel {
  const d = 5;
  const p = featureCount(d, degree);
  const levels = [2, 0.5, 0.1].map((t, l) => {
    const J = [1, 3, 4][l]!;
    const cells = matrix(J, d, noiseMatrix(40 + l, 0, J, d, STREAM_DATA_GENERATOR).data.map((v) => 2 * v));
    const noise = noiseMatrix(50 + l, 0, J * p, d, STREAM_DATA_GENERATOR);
    const coef = matrix(J * p, d);
    for (let j = 0; j < J; j++) {
      for (let f = 0; f < p; f++) {
        for (let c = 0; c < d; c++) {
          const i = (j * p + f) * d + c;
          const diagonal = f === c ? -scale : 0;
          coef.data[i] = diagonal + (f >= d && f < p - 1 ? 0.02 : 0.2) * noise.data[i]!;
        }
      }
    }
    return { t, cells, coef };
  });
  return { kind: 'piecewise', d, degree, levels, interpolation };
}

const samplePiece = (m: PiecewiseModel, n: number, options: SamplerOptions, maxChunkRows?: number, runTimeLoops = false) =>
  withPiecewiseContext(gpu, (ctx) => samplePiecewiseOnGpu(ctx, m, n, options), maxChunkRows, runTimeLoops);

/** Each GPU step from the GPU's own previous state (exact float32 inputs) against the float64 step, within pieceStep's bound. */
async function checkSteps(m: PiecewiseModel, options: SamplerOptions, n: number, runTimeLoops = false): Promise<void> {
  const steps = stepsToRun(options);
  const heun = options.method === 'ode';
  const first = options.method === 'langevin' ? { y: options.start!.data, dy: new Float64Array(n * m.d) } : startWithBound(options.seed, n, m.d);
  let [y, dy] = [first.y, first.dy];
  let skipped = 0;
  for (let k = 0; k < steps.length; k++) {
    const upTo: SamplerOptions = options.method === 'langevin' ? { ...options, steps: k + 1 } : { ...options, stopAfter: k + 1 };
    const got = (await samplePiece(m, n, upTo, undefined, runTimeLoops)).data;
    const want = pieceStep(m, steps[k]!, k, heun, options.seed, y, dy);
    for (let r = 0; r < n; r++) {
      if (want.skipped[r]) {
        skipped++;
        continue;
      }
      for (let c = 0; c < m.d; c++) {
        const i = r * m.d + c;
        // Within the one-step bound derived in test/support/piecewise-sampling-bounds.ts.
        expect(Math.abs(got[i]! - want.y[i]!), `step ${k}, row ${r}, coordinate ${c}`).toBeLessThanOrEqual(want.bound[i]!);
      }
    }
    // The next step starts from the GPU's own state, exactly (float32 values): no input error.
    [y, dy] = [got, new Float64Array(n * m.d)];
  }
  // Rows near a cell border are left out; they must stay rare for the check to mean something.
  expect(skipped).toBeLessThanOrEqual((steps.length * n) / 20);
}

describe('samplePiecewiseOnGpu: each step against a float64 step from the same state', () => {
  const n = 70; // not a multiple of the workgroup
  const diffusion = { horizon: 2.5, tMin: 0.05, steps: 4, grid: 'geometric', seed: 9 } as const;
  const cases: [string, PiecewiseModel, SamplerOptions][] = [
    ['exponential, degree 1, linear between levels', model(1, 'linear'), { method: 'reverse', integrator: 'exponential', ...diffusion }],
    ['Euler-Maruyama, degree 2, nearest level', model(2, 'nearest'), { method: 'reverse', integrator: 'euler-maruyama', ...diffusion }],
    ['Heun, degree 2, linear between levels', model(2, 'linear'), { method: 'ode', integrator: 'heun', ...diffusion }],
    ['Langevin from a given start (the smallest level), degree 1', model(1, 'linear'), {
      method: 'langevin', stepSize: 0.05, steps: 3, seed: 4,
      start: matrix(n, 5, noiseMatrix(77, 0, n, 5, STREAM_DATA_GENERATOR).data.map((v) => Math.fround(1.5 * v))),
    }],
  ];
  for (const [name, m, options] of cases) it(name, () => checkSteps(m, options, n));
  it('Heun with run-time loops over d/4 (the hardware form)', () => checkSteps(model(2, 'linear'), cases[2]![2], n, true));

  it('the float64 step of the check is the CPU sampler\'s first step (sampleReference)', () => {
    const m = model(2, 'linear');
    const options: SamplerOptions = { method: 'reverse', integrator: 'exponential', ...diffusion, stopAfter: 1 };
    const start = startWithBound(options.seed, n, m.d);
    const mine = pieceStep(m, stepsToRun(options)[0]!, 0, false, options.seed, start.y, start.dy).y;
    const cpu = sampleReference(m, n, options).data;
    // The same float64 arithmetic up to the order of a few sums: agreement to 1e-12 of each value's size.
    cpu.forEach((v, i) => expect(Math.abs(v - mine[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v))));
  });

  it('a run chunked over samples (32 rows) equals the unchunked run bit for bit', async () => {
    const options: SamplerOptions = { method: 'reverse', integrator: 'exponential', ...diffusion, steps: 12 };
    const whole = await samplePiece(model(2, 'linear'), n, options);
    const chunked = await samplePiece(model(2, 'linear'), n, options, 32);
    expect(Array.from(chunked.data)).toEqual(Array.from(whole.data));
    expect(whole.data.every(Number.isFinite)).toBe(true);
  });

  it('names the first non-finite step in a DivergenceError', async () => {
    // A score that grows y by 1e30 per unit of y: float32 overflows within a few steps.
    const options: SamplerOptions = { method: 'reverse', integrator: 'euler-maruyama', ...diffusion, steps: 10 };
    const run = samplePiece(model(1, 'nearest', -1e30), 8, options);
    await expect(run).rejects.toThrow(DivergenceError);
    await expect(run).rejects.toThrow(/diverged at step [0-9]/);
  });

  it('refuses, with a DeviceError, coefficients over one storage binding', async () => {
    const small = { limits: { maxStorageBufferBindingSize: 4096, maxBufferSize: 2 ** 30 } } as unknown as GPUDevice;
    const run = withPiecewiseContext(gpu, (ctx) => samplePiecewiseOnGpu({ ...ctx, device: small }, model(2, 'linear'), 4, { method: 'langevin', stepSize: 0.1, steps: 2, seed: 1 }));
    await expect(run).rejects.toThrow(/the coefficients of 8 cells in d = 5 need \d+ bytes, over one storage binding \(4096\)/);
  });

  it('refuses a model with coefficients of the wrong shape', async () => {
    const m = model(1, 'linear');
    const bad: PiecewiseModel = { ...m, levels: [{ ...m.levels[0]!, coef: matrix(2, 5) }, ...m.levels.slice(1)] };
    await expect(samplePiece(bad, 4, { method: 'langevin', stepSize: 0.1, steps: 2, seed: 1 })).rejects.toThrow(InputError);
  });
});
