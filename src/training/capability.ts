// The training feature's types: the DDPM evaluation at one noise scale, the GD steps of Algorithm 1, the EM steps,
// and the Training capability that both backends implement (docs/math.md sections 4-9).
import type { BackendCore, DataInput, Matrix } from '../types.ts';
import type { StudentParams } from './student.ts';

/**
 * Where the noise z of docs/math.md section 4 comes from (docs/math.md section 7).
 * - seed, fresh: Philox counter step = the GD step number (startStep + i), so every step draws new noise;
 * - seed, fixed: Philox counter step = `step` (default 0) on every step;
 * - matrix: an explicit N x d noise matrix (one evaluation, or the same on every step).
 */
export type NoiseSpec =
  | { readonly kind: 'seed'; readonly seed: number; readonly mode: 'fresh' | 'fixed'; readonly step?: number }
  | { readonly kind: 'matrix'; readonly z: Matrix };

/** Options shared by every DDPM evaluation at one noise scale. */
export interface DdpmOptions {
  /** t > 0 (docs/math.md section 2). */
  readonly noiseScale: number;
  /** Tied K = 2 student, m_2 = -m_1 (docs/math.md section 3): centres are then 1 x d. */
  readonly tied: boolean;
  readonly noise: NoiseSpec;
  /**
   * The general student's variances and weights (docs/math.md section 14), learned beside the centres; absent, or
   * identity with equal weights: the paper's student, on today's code path.
   */
  readonly student?: StudentParams;
  /** The global number of the data's first row, which seeded noise is indexed by (docs/math.md section 7): a chunk of a larger data set gives its rows' noise, and may then hold fewer rows than K. Default 0. */
  readonly firstRow?: number;
}

export interface LossGradient {
  /** L of docs/math.md section 4. */
  readonly loss: number;
  /** dL/dm, K x d (1 x d tied), docs/math.md section 5. */
  readonly gradScaled: Matrix;
  /** dL/dmu = a_t dL/dm. */
  readonly gradCentres: Matrix;
  /** With a general student: dL/dgamma (the shape of its gamma) and dL/dbeta (K), docs/math.md section 14. */
  readonly gradStudent?: { readonly gamma: Matrix; readonly beta: Float64Array };
}

export interface HistoryEntry {
  /** The GD step's number, counting from GdOptions.startStep (the noise counter of fresh noise); the loss is the one evaluated before that step's update. */
  readonly step: number;
  readonly loss: number;
  /** Frobenius norm of dL/dm at that step. */
  readonly gradNorm: number;
}

export interface GdOptions extends DdpmOptions {
  /** H, the number of GD steps (docs/math.md section 6). */
  readonly steps: number;
  /** eta > 0. */
  readonly lr: number;
  /** The general student's step size in beta (docs/math.md section 14, 'The step'); default lr. */
  readonly betaLr?: number;
  /** Project each m_i onto the ball of radius a_t * R after every step (docs/math.md section 6); R in unscaled units. */
  readonly projectRadius?: number;
  /** Report loss and centres every this many steps (and at the end). Default: steps / 20, at least 1. */
  readonly logEvery?: number;
  /** The step number of the first step: fresh noise uses startStep + i. Default 0. */
  readonly startStep?: number;
  /** Called at each log point with the history so far and the current (unscaled) centres. */
  readonly onProgress?: (p: GdProgress) => void;
}

export interface GdProgress {
  /** Steps completed so far. */
  readonly done: number;
  readonly total: number;
  readonly centres: Matrix;
  readonly last: HistoryEntry;
  /** The general student's parameters at this log point (absent for the paper's student). */
  readonly student?: StudentParams;
}

/** What Training.emSteps returns. */
export interface EmSteps {
  readonly centres: Matrix;
  readonly previous: Matrix;
  /** With a general student: its variances and weights after the last M-step (docs/math.md section 14). */
  readonly student?: StudentParams;
}

export interface GdResult {
  /** Unscaled centres mu = m / a_t, K x d (1 x d tied). */
  readonly centres: Matrix;
  /** One entry per logged step (every logEvery steps and the last). */
  readonly history: HistoryEntry[];
  readonly nIter: number;
  /** The general student's parameters at the end (absent for the paper's student). */
  readonly student?: StudentParams;
}

/**
 * One run of gdStepsBatched: its own centres, its own training-noise seed and first step (so run r's noise is the
 * noise it draws alone), and its own number of steps: a run that has done its steps is masked, the others go on.
 */
export interface BatchedRun {
  readonly centres: Matrix;
  readonly noiseSeed: number;
  readonly startStep: number;
  readonly steps: number;
  readonly onProgress?: (p: GdProgress) => void;
}

/** What the runs of gdStepsBatched share: every GdOptions field but those of BatchedRun, with seeded noise only. */
export interface GdBatchOptions extends Omit<GdOptions, 'steps' | 'startStep' | 'onProgress' | 'noise' | 'student' | 'logEvery'> {
  readonly logEvery: number;
  readonly noise: { readonly mode: 'fresh' | 'fixed'; readonly step?: number };
}

/** Training: the DDPM loss and gradient, GD steps, EM and gradient-EM steps. Centres are always unscaled (mu). */
export interface Training {
  /** Loss and gradient at scale t (docs/math.md sections 4 and 5). */
  lossAndGradient(data: DataInput, centres: Matrix, options: DdpmOptions): Promise<LossGradient>;
  /** H GD steps at scale t: the paper's Algorithm 1 (docs/math.md sections 6 and 8.1). */
  gdSteps(data: DataInput, centres: Matrix, options: GdOptions): Promise<GdResult>;
  /**
   * The GD steps of several runs of the paper's student together, at most runsPerPass of them: each result has the
   * bits of gdSteps on that run alone (its centres, its noise seed, its startStep and steps), in the runs' order.
   */
  gdStepsBatched(data: DataInput, runs: readonly BatchedRun[], options: GdBatchOptions): Promise<GdResult[]>;
  /** How many runs of K x d centres one pass of gdStepsBatched holds (K = 2 when tied); at least 1. */
  runsPerPass(k: number, d: number): number;
  /** One EM step on the clean data (docs/math.md section 9). */
  emStep(data: DataInput, centres: Matrix): Promise<Matrix>;
  /**
   * `steps` EM steps in one call, the same numbers as `steps` calls of emStep: the centres after the last step,
   * and after the one before it (the given centres when steps = 1), for the loop's stopping rule. With a general
   * student the M-step also updates its variances and weights (docs/math.md section 14).
   */
  emSteps(data: DataInput, centres: Matrix, steps: number, student?: StudentParams): Promise<EmSteps>;
  /** One gradient-EM step with step size eta (docs/math.md section 9). */
  gradientEmStep(data: DataInput, centres: Matrix, lr: number): Promise<Matrix>;
}

/** What the schedules, the loop and the baselines need of a backend: its data handles and the training capability. */
export type Trainer = BackendCore & Training;
