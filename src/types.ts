// Shared types: the one Backend interface that the GPU engine (host/) and the
// float64 CPU reference (src/cpu/) both implement (docs/architecture.md, "The
// algorithms do not know where they run").

import type { Matrix } from './matrix.ts';
import type { CellMoments, MomentOptions, PiecewiseModel } from './piecewise/model.ts';
import type { Estimate } from './sampling/estimate.ts';
import type { SampleProgress, SamplerOptions } from './sampling/options.ts';

export { matrix, toRows, type Matrix } from './matrix.ts';

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
}

export interface LossGradient {
  /** L of docs/math.md section 4. */
  readonly loss: number;
  /** dL/dm, K x d (1 x d tied), docs/math.md section 5. */
  readonly gradScaled: Matrix;
  /** dL/dmu = a_t dL/dm. */
  readonly gradCentres: Matrix;
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
}

/** What Backend.emSteps returns. */
export interface EmSteps {
  readonly centres: Matrix;
  readonly previous: Matrix;
}

export interface GdResult {
  /** Unscaled centres mu = m / a_t, K x d (1 x d tied). */
  readonly centres: Matrix;
  /** One entry per logged step (every logEvery steps and the last). */
  readonly history: HistoryEntry[];
  readonly nIter: number;
}

/**
 * Data a backend holds once (Backend.dataset): later calls name the handle instead of passing the matrix, so
 * no call checks, hashes or uploads the data again. A handle works only with the backend that made it.
 */
export interface Dataset {
  readonly kind: 'dataset';
  readonly rows: number;
  readonly cols: number;
  /** The kind of backend that made it (for messages). */
  readonly backend: 'gpu' | 'cpu';
  readonly disposed: boolean;
  /** Releases what the backend holds for it (the GPU copy); later calls with it throw. Safe to call twice. */
  dispose(): void;
}

/** What the data-taking Backend methods accept: the data itself (checked and, on the GPU, uploaded per call) or a handle. */
export type DataInput = Matrix | Dataset;

/** The one interface that every algorithm uses. Centres are always unscaled (mu). */
export interface Backend {
  readonly name: 'gpu' | 'cpu';
  /** Human-readable adapter description ("CPU float64 reference" for the CPU). */
  readonly adapter: string;
  /**
   * Takes the data once: checks it (shape, finite values) and keeps a copy (on the GPU: uploads it), so that
   * the calls below can name the handle. Later edits of `x` are not seen. Dispose the handle when done.
   */
  dataset(x: Matrix): Dataset;
  /** Loss and gradient at scale t (docs/math.md sections 4 and 5). */
  lossAndGradient(data: DataInput, centres: Matrix, options: DdpmOptions): Promise<LossGradient>;
  /** H GD steps at scale t: the paper's Algorithm 1 (docs/math.md sections 6 and 8.1). */
  gdSteps(data: DataInput, centres: Matrix, options: GdOptions): Promise<GdResult>;
  /** One EM step on the clean data (docs/math.md section 9). */
  emStep(data: DataInput, centres: Matrix): Promise<Matrix>;
  /**
   * `steps` EM steps in one call, the same numbers as `steps` calls of emStep: the centres after the last step,
   * and after the one before it (the given centres when steps = 1), for the loop's stopping rule.
   */
  emSteps(data: DataInput, centres: Matrix, steps: number): Promise<EmSteps>;
  /** One gradient-EM step with step size eta (docs/math.md section 9). */
  gradientEmStep(data: DataInput, centres: Matrix, lr: number): Promise<Matrix>;
  /**
   * n samples by reverse diffusion, the probability-flow ODE or Langevin dynamics with the score of the
   * mixture (1/K) sum_i N(a_t mu_i, I) given by K x d `centres` (docs/math.md section 11), or of a piecewise
   * model (docs/math.md section 13).
   */
  sample(score: Matrix | PiecewiseModel, n: number, options: SamplerOptions, onProgress?: (p: SampleProgress) => void): Promise<Matrix>;
  /** The piecewise fit's per-cell sums over the noisy data at one level (docs/math.md section 13). */
  cellMoments(data: Matrix, cells: Matrix, options: MomentOptions): Promise<CellMoments>;
  /** The energy distance between two sample sets of the same d (docs/math.md section 11). */
  energyDistance(x: Matrix, y: Matrix): Promise<number>;
  /**
   * The fraction of `samples` nearest (Euclidean) each row of `trueCentres`, ties to the lower index, and the
   * largest |fraction - 1/K| (docs/math.md section 11). Same d; both non-empty and finite.
   */
  modeWeights(samples: Matrix, trueCentres: Matrix): Promise<{ weights: number[]; maxDeviation: number }>;
  /**
   * eps_sc^2(t) = E_{q_t} ||s_theta - grad log q_t||^2 of the mixture score of `centres` against the true mixture of
   * `trueCentres`, by `samples` stratified Monte Carlo draws from Philox `seed` (docs/math.md section 11).
   */
  scoreError(centres: Matrix, trueCentres: Matrix, t: number, samples: number, seed: number): Promise<Estimate>;
  /** Release device resources. */
  dispose(): void;
}
