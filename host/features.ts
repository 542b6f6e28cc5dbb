// The GPU backend's features beside training (as tfjs registers a KernelConfig per op and backend): each feature's
// gpu.ts gives its capability's methods on the core. A new capability adds its line here, in src/cpu/features.ts,
// and in src/backend.ts; a new kernel within a feature touches none of them.
import type { GpuFeature } from './core/context.ts';
import { metricsOnGpu } from '../src/metrics/gpu.ts';
import { piecewiseOnGpu } from '../src/piecewise/gpu.ts';
import { samplingOnGpu } from '../src/sampling/gpu.ts';

export const GPU_FEATURES = [samplingOnGpu, metricsOnGpu, piecewiseOnGpu] as const;

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The methods the registered features give together. */
export type GpuFeatureMethods = Intersection<(typeof GPU_FEATURES)[number] extends GpuFeature<infer C> ? C : never>;
