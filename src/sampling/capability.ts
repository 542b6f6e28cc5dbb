// The sampling feature's capability: samples by reverse diffusion, the probability-flow ODE or Langevin dynamics.
import type { Matrix } from '../types.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import type { SampleProgress, SamplerOptions } from './options.ts';
import type { StudentScore } from './student-score.ts';

export interface Sampling {
  /**
   * n samples by reverse diffusion, the probability-flow ODE or Langevin dynamics with the score of the
   * mixture (1/K) sum_i N(a_t mu_i, I) given by K x d `centres` (docs/math.md section 11), of a piecewise
   * model (docs/math.md section 13), or of the general student (docs/math.md section 14).
   */
  sample(score: Matrix | PiecewiseModel | StudentScore, n: number, options: SamplerOptions, onProgress?: (p: SampleProgress) => void): Promise<Matrix>;
}
