// How deep the engine's float32 sums are for N rows at (K, d): what the derived
// tolerances of test/support/bounds.ts need (summation error grows with the number of terms
// one chain adds). Computed from the engine's own pure plan (host/train/kernel-plan.ts).
import type { GpuBackend } from '../../host/engine.ts';
import { chunkRows } from '../../host/core/layout.ts';
import { LANES_WG, partialPlan } from '../../host/train/kernel-plan.ts';

export interface SummationDepth {
  /** Samples per tile of the tiled kernel and of the probes (host/core/layout.ts). */
  readonly tile: number;
  /** The most samples one accumulator adds up in one chain (tiled: tile x tiles walked; lanes: rows per invocation). */
  readonly samplesPerAccumulator: number;
  /** The most squared residual coordinates one thread adds up for the loss. */
  readonly lossTermsPerThread: number;
  /** Values added by the workgroup sum of the loss (0 for the lane kernel). */
  readonly workgroupSumTerms: number;
  /** Partials that the reduction pass adds up (over all chunks). */
  readonly partials: number;
}

/** The depth of the sums of `gpu`'s DDPM pass (or EM pass) over N rows at (K, d), as the engine plans them. */
export function summationDepth(gpu: GpuBackend, k: number, d: number, n: number, pass: 'ddpm' | 'em' = 'ddpm'): SummationDepth {
  // The backend's own shape: a fixed or tuned tile, workgroup and group count change the partition of the sums.
  const shape = gpu.shapeOf(k, d);
  const chunks = chunkRows(n, shape.rowsPerChunk);
  const kernel = gpu.kernelFor(k, d);
  const plan = partialPlan(chunks, shape, kernel);
  const groups = pass === 'em' ? plan.chunkEmGroups : plan.chunkGroups;
  let samplesPerAccumulator = 0;
  let lossTermsPerThread = 0;
  chunks.forEach((c, i) => {
    if (kernel === 'lanes') {
      const perLane = Math.ceil(c.rows / (groups[i]! * LANES_WG));
      samplesPerAccumulator = Math.max(samplesPerAccumulator, perLane);
      lossTermsPerThread = Math.max(lossTermsPerThread, perLane * d);
    } else {
      const walked = Math.ceil(Math.ceil(c.rows / shape.tile) / groups[i]!);
      samplesPerAccumulator = Math.max(samplesPerAccumulator, Math.min(c.rows, walked * shape.tile));
      lossTermsPerThread = Math.max(lossTermsPerThread, Math.ceil(shape.tile / shape.wg) * walked * d);
    }
  });
  return {
    tile: shape.tile,
    samplesPerAccumulator,
    lossTermsPerThread,
    workgroupSumTerms: kernel === 'lanes' ? 0 : shape.wg,
    partials: pass === 'em' ? plan.emPartialCount : plan.partialCount,
  };
}
