// What the autotuner measures (host/tune/autotune.ts): seconds per GD step of one tile and workgroup size, on a
// synthetic subsample, through the engine's own step encoding, with buffers of its own so that the engine's
// are untouched. A first run compiles and warms up; the figure is the median of the timed repeats.
import { forwardCoefficients } from '../../src/math/forward.ts';
import { matrix } from '../../src/types.ts';
import type { FullTileConfig } from './autotune.ts';
import { shapeFor } from '../core/layout.ts';
import type { ReadTarget } from '../core/readback.ts';
import { GpuResources } from '../train/resources.ts';
import { encodeGdStep, type StepContext } from '../train/step-encoding.ts';

export interface TimingContext {
  readonly device: GPUDevice;
  readonly steps: StepContext;
  readonly maxChunkRows: number;
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

export interface TimingPlan {
  readonly rows: number;
  /** GD steps per submission. */
  readonly steps: number;
  readonly repeats: number;
}

/** Enough rows that every workgroup walks several tiles on a GPU; few enough that a software adapter finishes in seconds. */
export function timingPlan(hardware: boolean): TimingPlan {
  return hardware ? { rows: 2 ** 18, steps: 8, repeats: 3 } : { rows: 2 ** 11, steps: 2, repeats: 3 };
}

/** Median seconds per GD step of the tiled kernel with `config` at (K, d), fresh noise, t = 0.5. */
export async function secondsPerStep(ctx: TimingContext, k: number, d: number, config: FullTileConfig, plan: TimingPlan): Promise<number> {
  const limits = ctx.device.limits;
  const resources = new GpuResources(ctx.device, {
    maxChunkRows: ctx.maxChunkRows,
    kernelFor: () => 'tiled',
    shapeFor: (kk, dd) => shapeFor(kk, dd, limits, ctx.maxChunkRows, config),
  });
  // The values do not change the work; a cheap deterministic pattern in [-1, 1).
  const pattern = (n: number) => Float64Array.from({ length: n }, (_, i) => ((Math.imul(i, 2654435761) >>> 0) % 2048) / 1024 - 1);
  const data = matrix(plan.rows, d, pattern(plan.rows * d));
  const centres = matrix(k, d, pattern(k * d).map((v) => 2 * v));
  const { a, sigma } = forwardCoefficients(0.5);
  try {
    const res = resources.prepare(data, k, { a, sigma, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, steps: plan.steps });
    resources.writeScaledCentres(res, centres, a, false);
    resources.writeUpdate(res, { rows: plan.rows, lr: 0, apply: false, radius: 0, emMode: 0 });
    const run = async (): Promise<number> => {
      const encoder = ctx.device.createCommandEncoder();
      resources.resetStepState(encoder, res, 0);
      const pass = encoder.beginComputePass();
      for (let s = 0; s < plan.steps; s++) encodeGdStep(pass, ctx.steps, res, resources.chunks, { tied: false, project: false, noise: undefined });
      pass.end();
      const started = performance.now();
      await ctx.read(encoder, [{ buffer: res.history, bytes: 8 }]);
      resources.releaseStaging();
      return (performance.now() - started) / 1000 / plan.steps;
    };
    await run();
    const times: number[] = [];
    for (let r = 0; r < plan.repeats; r++) times.push(await run());
    times.sort((x, y) => x - y);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    resources.dispose();
  }
}
