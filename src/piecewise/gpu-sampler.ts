// Sampling with a piecewise-polynomial score on the GPU (docs/math.md sections 11 and 13; shaders/piecewise_sample.wgsl).
// The run is the mixture sampler's (src/sampling/gpu-sampler.ts runSampler): the same start (Philox step 0 of STREAMS.sampler),
// step noise (step k + 1), batches, divergence flag and error. Only the score differs: every level's cells and
// coefficients are uploaded once, and the step table carries each step's levels and weight (levelWeights, float64 on
// the host). Langevin steps have t = 0, below the ladder, so they read the smallest level's score, as the CPU does.
import { DeviceError, InputError } from '../errors.ts';
import { type SamplerStep } from '../sampling/grid.ts';
import type { SampleProgress, SamplerOptions } from '../sampling/options.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { featureCount, levelWeights, type PiecewiseModel } from './model.ts';
import { checkPiecewiseModel } from './checks.ts';
import { checkSampleRequest } from '../sampling/checks.ts';
import { createBuffer, STORAGE_RW } from '../../host/core/buffers.ts';
import { chunkBytes, requirePrivateArray } from '../../host/core/layout.ts';
import { piecewiseBlocks, piecewiseConsts, type PiecewiseMomentSpec, piecewisePhiSlot, PIECEWISE_TH, PIECEWISE_WG } from './gpu-moments.ts';
import { SAMPLE_WG, sampleParams, sampleStart, runSampler, type SamplerContext, type SamplerKernel } from '../sampling/gpu-sampler.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { STREAMS } from '../math/streams.ts';

/** The piecewise sampler's specialisation (src/piecewise/gpu-sampler.ts): as the moments', plus Heun's second score. */
export interface PiecewiseSampleSpec extends PiecewiseMomentSpec {
  readonly heun: boolean;
}

/** piecewise_sample.wgsl with sample_run.wgsl's bindings: the cells of every level, their coefficients, the level table. */
export const piecewiseSteps: Program<'samples' | 'cells' | 'stepTable' | 'params' | 'status' | 'coef' | 'levels', PiecewiseSampleSpec> = {
  entry: 'sampleSteps',
  files: ['philox.wgsl', 'sample_run.wgsl', 'piecewise_cells.wgsl', 'piecewise_sample.wgsl', 'sample_loop.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: { samples: slot(0, 0), cells: slot(0, 1), stepTable: slot(0, 2), params: slot(0, 3), status: slot(0, 4), coef: slot(0, 5), levels: slot(0, 6) },
  specialise: (p) => ({
    consts: { ...piecewiseConsts(p), WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 },
    flags: { HEUN: p.heun, QUADRATIC: p.degree === 2 },
  }),
};

/** n samples n x d with the score of `model` (the Backend's `sample` for a piecewise model). */
export async function samplePiecewiseOnGpu(
  ctx: SamplerContext,
  model: PiecewiseModel,
  n: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Promise<Matrix> {
  checkPiecewiseModel(model);
  if (model.levels.some((l) => l.tau !== undefined)) {
    throw new InputError("this piecewise model has soft cells (a level's tau), which the GPU sampler does not evaluate: sample it on backend 'cpu'");
  }
  // n, the options and a Langevin start are checked against a stand-in 1 x d, as the CPU sampler does.
  checkSampleRequest(matrix(1, model.d), n, options);
  const { device } = ctx;
  const { d, degree } = model;
  const { d4, pf4 } = piecewiseBlocks(d, degree);
  // piecewise_sample.wgsl keeps d/4 vec4 per invocation.
  requirePrivateArray(16 * d4, `the GPU sampler at d = ${d}`, "use --backend cpu (the float64 sampler), or fewer dimensions d");
  const packed = packModel(model);
  const binding = chunkBytes(device.limits);
  if (packed.coef.byteLength > binding) {
    throw new DeviceError(`the piecewise sampler: the coefficients of ${packed.cellCount} cells in d = ${d} need ${packed.coef.byteLength} bytes, over one storage binding (${binding}); use fewer cells or --backend cpu`);
  }
  const heun = options.method === 'ode';
  // The unrolled score is 4 PF4 x d/4 coefficient blocks: the lane kernel's rule with K = 4 PF4 (host/train/kernel-plan.ts).
  const unrolled = ctx.unrolled(4 * pf4, d);
  const buffers = {
    cells: createBuffer(device, packed.cells.byteLength, STORAGE_RW, packed.cells),
    coef: createBuffer(device, packed.coef.byteLength, STORAGE_RW, packed.coef),
    levels: createBuffer(device, packed.levels.byteLength, STORAGE_RW, packed.levels),
  };
  const maxCells = Math.max(...model.levels.map((l) => l.cells.rows));
  try {
    const kernel: SamplerKernel = {
      start: ctx.pipelines.get(sampleStart, { k: 0, d, d4, heun: false, unrolled }),
      steps: ctx.pipelines.get(piecewiseSteps, { d, degree, unrolled, heun }),
      scoreBuffers: buffers,
      stepBytes: 48,
      stepTable: (steps, first, count) => stepTable(model, steps, first, count),
      // Per score and level: the nearest cell (3 J d) and the polynomial (2 p d), two levels at most.
      flopsPerStep: 2 * (3 * maxCells * d + 2 * featureCount(d, degree) * d) * (heun ? 2 : 1),
    };
    return await runSampler(ctx, kernel, n, d, Math.min(ctx.maxChunkRows, Math.floor(binding / (16 * d4))), options, onProgress);
  } finally {
    for (const b of Object.values(buffers)) b.destroy();
  }
}

/** Every level's cells (rows of D4), coefficients (per cell 4 PF4 rows of D4, at phi's padded slots) and (first cell, cells). */
function packModel(model: PiecewiseModel): { cells: Float32Array; coef: Float32Array; levels: Uint32Array; cellCount: number } {
  const { d, degree } = model;
  const { d4, pf4 } = piecewiseBlocks(d, degree);
  const p = featureCount(d, degree);
  const cellCount = model.levels.reduce((s, l) => s + l.cells.rows, 0);
  const cells = new Float32Array(cellCount * 4 * d4);
  const coef = new Float32Array(cellCount * 4 * pf4 * 4 * d4);
  const levels = new Uint32Array(4 * model.levels.length);
  let first = 0;
  model.levels.forEach((level, l) => {
    const J = level.cells.rows;
    levels.set([first, J], 4 * l);
    for (let j = 0; j < J; j++) {
      const g = first + j;
      for (let c = 0; c < d; c++) cells[g * 4 * d4 + c] = level.cells.data[j * d + c]!;
      for (let f = 0; f < p; f++) {
        const row = g * 4 * pf4 + piecewisePhiSlot(f, d, degree);
        for (let c = 0; c < d; c++) coef[row * 4 * d4 + c] = level.coef.data[(j * p + f) * d + c]!;
      }
    }
    first += J;
  });
  return { cells, coef, levels, cellCount };
}

/** Steps first .. first + count: (a, aNext, cy, cs), (cxi, h/2, w, wNext), (lo, hi, loNext, hiNext) as u32 bits. */
function stepTable(model: PiecewiseModel, steps: readonly SamplerStep[], first: number, count: number): Float32Array {
  const out = new Float32Array(12 * count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) {
    const s = steps[first + i]!;
    const now = levelWeights(model.levels, s.t, model.interpolation);
    const next = levelWeights(model.levels, s.tNext, model.interpolation);
    out.set([s.a, s.aNext, s.cy, s.cs, s.cxi, s.h / 2, now.w, next.w], 12 * i);
    bits.set([now.lo, now.hi, next.lo, next.hi], 12 * i + 8);
  }
  return out;
}
