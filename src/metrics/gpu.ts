// The metrics feature's GPU side: the energy distance, the mode weights, the nearest centres and the score error, one
// at a time on the backend's queue.
import type { GpuFeature } from '../../host/core/context.ts';
import { energyDistanceOnGpu } from './gpu-energy-distance.ts';
import { modeWeightsOnGpu } from './gpu-mode-weights.ts';
import { nearestCentresOnGpu } from './gpu-nearest-centres.ts';
import { scoreErrorOnGpu } from './gpu-score-error.ts';
import type { SamplingMetrics } from './capability.ts';

export const metricsOnGpu: GpuFeature<SamplingMetrics> = (core) => ({
  // The pair kernel takes the DDPM kernel's form for this adapter: 'lanes' on software adapters, 'tiled' on GPUs.
  energyDistance: (x, y) => core.run(() => energyDistanceOnGpu({ ...core, kind: core.kernel }, x, y)),
  modeWeights: (samples, trueCentres) => core.run(() => modeWeightsOnGpu(core, samples, trueCentres)),
  nearestCentres: (samples, centres) => core.run(() => nearestCentresOnGpu(core, samples, centres)),
  scoreError: (centres, trueCentres, t, samples, seed) => core.run(() => scoreErrorOnGpu(core, centres, trueCentres, t, samples, seed)),
});
