// The score error on the GPU (src/metrics/cpu.ts scoreError; shaders/score_error.wgsl): one invocation per
// Monte Carlo draw computes e_n in float32, and the host folds the e_n into the stratified float64 estimate in
// draw order, as the CPU reference does, so the two differ only by the float32 rounding of each e_n.
import { seedKey } from '../math/philox.ts';
import { type Estimate, StratifiedMean } from '../sampling/estimate.ts';
import type { Matrix } from '../types.ts';
import { checkScoreErrorRequest } from './checks.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import type { PipelineCache } from '../../host/core/pipelines.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';
import { STREAMS } from '../math/streams.ts';

/** Per dispatch of the score error's draws (shaders/score_error.wgsl). */
export const scoreErrorParams = defineStruct('ScoreErrorParams', [
  ['draws', 'u32'],
  ['firstDraw', 'u32'],
  ['k', 'u32'],
  ['kTrue', 'u32'],
  ['a', 'f32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
] as const);

/** Invocations per workgroup of the score error's draws (one draw each). */
export const SCORE_ERROR_WG = 64;

/** The score error's per-draw e_n (src/metrics/gpu-score-error.ts): specialised on d only; K and K* are run-time values. */
export const scoreErrors: Program<'model' | 'truth' | 'errors' | 'params', { readonly d: number }> = {
  entry: 'scoreErrors',
  files: ['philox.wgsl', 'score_error.wgsl'],
  structs: [scoreErrorParams.wgsl],
  bindings: { model: slot(0, 0), truth: slot(0, 1), errors: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D: p.d, D4: Math.ceil(p.d / 4), WG: SCORE_ERROR_WG, STREAM: STREAMS.metrics }, flags: {} }),
};

/** Draws per dispatch and read-back: 4 MiB of e_n. */
const DRAWS_PER_READ = 2 ** 20;

export interface ScoreErrorContext {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

/** eps_sc^2(t) of the mixture score of `centres` against the true mixture of `trueCentres` (the Backend's `scoreError`). */
export async function scoreErrorOnGpu(
  ctx: ScoreErrorContext,
  centres: Matrix,
  trueCentres: Matrix,
  t: number,
  samples: number,
  seed: number,
): Promise<Estimate> {
  checkScoreErrorRequest(centres, trueCentres, t, samples, seed);
  const { device, pipelines } = ctx;
  const d = trueCentres.cols;
  const d4 = Math.ceil(d / 4);
  const program = pipelines.get(scoreErrors, { d });
  const [seedLo, seedHi] = seedKey(seed);
  const model = createBuffer(device, 16 * d4 * centres.rows, STORAGE_RW, padRows(centres, 0, centres.rows, d4));
  const truth = createBuffer(device, 16 * d4 * trueCentres.rows, STORAGE_RW, padRows(trueCentres, 0, trueCentres.rows, d4));
  const errors = createBuffer(device, 4 * Math.min(samples, DRAWS_PER_READ), STORAGE_RW);
  const estimate = new StratifiedMean(trueCentres.rows);
  try {
    for (let first = 0; first < samples; first += DRAWS_PER_READ) {
      const draws = Math.min(DRAWS_PER_READ, samples - first);
      const values = { draws, firstDraw: first, k: centres.rows, kTrue: trueCentres.rows, a: Math.exp(-t), seedLo, seedHi };
      const uniform = createBuffer(device, scoreErrorParams.byteSize, UNIFORM | COPY_DST, new Uint8Array(scoreErrorParams.pack(values)));
      try {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(program.pipeline);
        pipelines.bind(pass, program, { model, truth, errors, params: uniform });
        const [gx, gy] = foldWorkgroups(Math.ceil(draws / SCORE_ERROR_WG), device.limits.maxComputeWorkgroupsPerDimension);
        pass.dispatchWorkgroups(gx, gy);
        pass.end();
        const [bytes] = await ctx.read(encoder, [{ buffer: errors, bytes: 4 * draws }]);
        const e = new Float32Array(bytes, 0, draws);
        for (let i = 0; i < draws; i++) estimate.add(first + i, e[i]!);
      } finally {
        uniform.destroy();
      }
    }
  } finally {
    model.destroy();
    truth.destroy();
    errors.destroy();
  }
  return estimate.estimate();
}
