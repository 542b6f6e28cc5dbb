// The full backend: the capabilities that the float64 CPU reference (src/cpu/) and the GPU engine (host/) both
// implement, composed above the features. A caller that needs less names the capability it uses (for example
// `Training & BackendCore`), so that a backend with fewer features still fits it.
import type { SamplingMetrics } from './metrics/capability.ts';
import type { PiecewiseMoments } from './piecewise/moments.ts';
import type { Sampling } from './sampling/capability.ts';
import type { Training } from './training/capability.ts';
import type { BackendCore } from './types.ts';

export type { BackendCore, Dataset, DataInput, Matrix } from './types.ts';
export type { SamplingMetrics, ModeWeights } from './metrics/capability.ts';
export type { PiecewiseMoments } from './piecewise/moments.ts';
export type { Sampling } from './sampling/capability.ts';
export type { BatchedRun, DdpmOptions, EmSteps, GdBatchOptions, GdOptions, GdProgress, GdResult, HistoryEntry, LossGradient, NoiseSpec, Training } from './training/capability.ts';

/** The interface that every algorithm can use: all capabilities. Centres are always unscaled (mu). */
export interface Backend extends BackendCore, Training, Sampling, SamplingMetrics, PiecewiseMoments {}
