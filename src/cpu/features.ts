// The CPU backend's features (as host/features.ts for the GPU): each feature's float64 twin gives its capability's
// methods. A new capability adds its line here, in host/features.ts, and in src/backend.ts.
import type { CpuFeature } from './context.ts';
import { metricsOnCpu } from '../metrics/cpu.ts';
import { piecewiseOnCpu } from '../piecewise/moments.ts';
import { samplingOnCpu } from '../sampling/cpu-sampler.ts';
import { trainingOnCpu } from '../training/cpu.ts';
import { batchedTrainingOnCpu } from '../training/cpu-batched.ts';

export const CPU_FEATURES = [trainingOnCpu, batchedTrainingOnCpu, samplingOnCpu, metricsOnCpu, piecewiseOnCpu] as const;

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The methods the registered features give together. */
export type CpuFeatureMethods = Intersection<(typeof CPU_FEATURES)[number] extends CpuFeature<infer C> ? C : never>;
