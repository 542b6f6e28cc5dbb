// The metrics feature's capability: how close samples and a learned score are to the truth (docs/math.md section 11).
import type { Matrix } from '../types.ts';
import type { Estimate } from '../sampling/estimate.ts';

/** The fraction of samples nearest (Euclidean) to each true centre, and the largest |fraction - 1/K|. */
export interface ModeWeights {
  readonly weights: number[];
  readonly maxDeviation: number;
}

export interface SamplingMetrics {
  /** The energy distance between two sample sets of the same d (docs/math.md section 11). */
  energyDistance(x: Matrix, y: Matrix): Promise<number>;
  /**
   * The fraction of `samples` nearest (Euclidean) each row of `trueCentres`, ties to the lower index, and the
   * largest |fraction - 1/K| (docs/math.md section 11). Same d; both non-empty and finite.
   */
  modeWeights(samples: Matrix, trueCentres: Matrix): Promise<ModeWeights>;
  /**
   * For each row of `samples`, the index of its nearest row of `centres` (Euclidean), ties to the lower index as
   * `modeWeights` counts them: the hard assignment of a mixture with identity covariances and equal weights, whose
   * largest responsibility is the nearest centre. Same d; both non-empty and finite. The GPU searches in float32,
   * so it may pick the other centre where the two nearest squared distances are within float32 rounding of each other.
   */
  nearestCentres(samples: Matrix, centres: Matrix): Promise<Int32Array>;
  /**
   * eps_sc^2(t) = E_{q_t} ||s_theta - grad log q_t||^2 of the mixture score of `centres` against the true mixture of
   * `trueCentres`, by `samples` stratified Monte Carlo draws from Philox `seed` (docs/math.md section 11).
   */
  scoreError(centres: Matrix, trueCentres: Matrix, t: number, samples: number, seed: number): Promise<Estimate>;
}
