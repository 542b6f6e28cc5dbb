// The score error on the GPU (src/sampling/metrics.ts scoreError; shaders/score_error.wgsl): one invocation per
// Monte Carlo draw computes e_n in float32, and the host folds the e_n into the stratified float64 estimate in
// draw order, as the CPU reference does, so the two differ only by the float32 rounding of each e_n.
import { seedKey } from '../math/philox.ts';
import { type Estimate, StratifiedMean } from '../sampling/estimate.ts';
import type { Matrix } from '../types.ts';
import { checkScoreErrorRequest } from '../validate.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import type { PipelineCache } from '../../host/core/pipelines.ts';
import { SCORE_ERROR_WG, scoreErrors } from '../../host/train/programs.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { scoreErrorParams } from '../../host/core/struct-layout.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';

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
