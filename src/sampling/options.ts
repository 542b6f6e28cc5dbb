// Sampling with a learned score (docs/math.md section 11): the options both backends take. The score at
// forward time t is that of the balanced mixture (1/K) sum_i N(a_t mu_i, I): the learned K-component
// student, the tied student (centres m and -m) and the true mixture all have this form, so a sampler
// takes a K x d matrix of unscaled centres mu.
import type { Matrix } from '../matrix.ts';

// The names below are the only spelling of the samplers, integrators and grids: the checks, the CLI, the
// estimator and the option registry (src/options/) take their lists from here.

/** Reverse diffusion (an SDE), the probability-flow ODE, or Langevin dynamics on the clean score. */
export const SAMPLER_METHODS = ['reverse', 'ode', 'langevin'] as const;
export type SamplerMethod = (typeof SAMPLER_METHODS)[number];
/** The diffusion samplers, which run on a time grid from the horizon T down to tMin. */
export type DiffusionMethod = Exclude<SamplerMethod, 'langevin'>;
/** Each diffusion sampler's integrators, its default first: reverse: 'exponential' (exact with the score frozen over a step) or 'euler-maruyama'; ode: 'heun'. */
export const INTEGRATORS = { reverse: ['exponential', 'euler-maruyama'], ode: ['heun'] } as const satisfies Record<DiffusionMethod, readonly string[]>;
export type Integrator = (typeof INTEGRATORS)[DiffusionMethod][number];
/** Forward times from the horizon T down to tMin: a geometric grid finer near 0 (the default), or equal steps. */
export const TIME_GRIDS = ['geometric', 'uniform'] as const;
export type TimeGrid = (typeof TIME_GRIDS)[number];

export interface DiffusionSampler {
  readonly method: DiffusionMethod;
  readonly integrator: Integrator;
  /** T > tMin: the forward time where the run starts from N(0, I). */
  readonly horizon: number;
  /** tMin >= 0: the forward time where it stops. */
  readonly tMin: number;
  /** The number of steps, a positive integer. */
  readonly steps: number;
  readonly grid: TimeGrid;
  /** Philox seed of the start and the step noise (stream STREAMS.sampler). */
  readonly seed: number;
  /**
   * Optional, an integer 1..steps: run only the first stopAfter steps of the S-step grid and return y at
   * t_{stopAfter}. The grid depends only on (T, tMin, S, grid) and step k draws counter k + 1, so the result
   * is exactly the state of the full run after that many steps (the page's animation frames).
   */
  readonly stopAfter?: number;
}

export interface LangevinSampler {
  readonly method: 'langevin';
  /** eps > 0 in y <- y + eps s_0(y) + sqrt(2 eps) xi. */
  readonly stepSize: number;
  readonly steps: number;
  readonly seed: number;
  /** n x d starting points; default N(0, I) draws (Philox, as the diffusion start). */
  readonly start?: Matrix;
}

export type SamplerOptions = DiffusionSampler | LangevinSampler;

/** Steps done out of the run's S (Langevin: its steps), reported about 20 times a run and after the last step. */
export interface SampleProgress {
  readonly done: number;
  readonly total: number;
}
