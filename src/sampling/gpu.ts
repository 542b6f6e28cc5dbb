// The sampling feature's GPU side: the mixture's sampler (gpu-sampler.ts), the general student's
// (gpu-student-sampler.ts) or the piecewise model's (src/piecewise/gpu-sampler.ts), one run at a time on the
// backend's queue.
import type { GpuFeature } from '../../host/core/context.ts';
import { samplePiecewiseOnGpu } from '../piecewise/gpu-sampler.ts';
import { sampleOnGpu } from './gpu-sampler.ts';
import { sampleStudentOnGpu } from './gpu-student-sampler.ts';
import { isPiecewise } from './score-source.ts';
import { isStudentScore } from './student-score.ts';
import type { Sampling } from './capability.ts';

export const samplingOnGpu: GpuFeature<Sampling> = (core) => ({
  sample: (score, n, options, onProgress) =>
    core.run(() =>
      isPiecewise(score)
        ? samplePiecewiseOnGpu(core, score, n, options, onProgress)
        : isStudentScore(score)
          ? sampleStudentOnGpu(core, score, n, options, onProgress)
          : sampleOnGpu(core, score, n, options, onProgress),
    ),
});
