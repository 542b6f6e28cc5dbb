// The piecewise feature's GPU side: the per-cell moments of the fit (gpu-moments.ts). Its sampler is the sampling
// feature's (src/sampling/gpu.ts), which runs gpu-sampler.ts here for a piecewise model.
import type { GpuFeature } from '../../host/core/context.ts';
import { cellMomentsOnGpu } from './gpu-moments.ts';
import type { PiecewiseMoments } from './moments.ts';

export const piecewiseOnGpu: GpuFeature<PiecewiseMoments> = (core) => ({
  cellMoments: (data, cells, options) => core.run(() => cellMomentsOnGpu(core, data, cells, options)),
});
