// The sampling feature's capability: samples by reverse diffusion, the probability-flow ODE or Langevin dynamics.
import type { Matrix } from '../types.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import type { SampleProgress, SamplerOptions } from './options.ts';

export interface Sampling {
  /**
   * n samples by reverse diffusion, the probability-flow ODE or Langevin dynamics with the score of the
   * mixture (1/K) sum_i N(a_t mu_i, I) given by K x d `centres` (docs/math.md section 11), or of a piecewise
   * model (docs/math.md section 13).
   */
  sample(score: Matrix | PiecewiseModel, n: number, options: SamplerOptions, onProgress?: (p: SampleProgress) => void): Promise<Matrix>;
}
