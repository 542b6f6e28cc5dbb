// The iteration loop's vocabulary (loop.ts drives it): stages, the problem the backend sees, history rows,
// the resumable state, and the two extension points: stage kinds (stage-kinds.ts) and observers
// (observers.ts). A file of its own so that the loop, its strategies and its observers share the types
// without importing one another.
import type { Trainer } from '../training/capability.ts';
import type { StudentParams } from '../training/student.ts';
import type { Matrix } from '../types.ts';
import type { StopRule } from './stop-rules.ts';

export type Stage =
  | {
      readonly kind: 'gd';
      readonly name: string;
      readonly noiseScale: number;
      readonly lr: number;
      /** The general student's step size in beta (docs/math.md section 14); default lr. */
      readonly betaLr?: number;
      readonly maxSteps: number;
      readonly projectRadius?: number;
      readonly stop: StopRule;
      /**
       * 'fresh' (default): a new draw every step; 'fixed': step 0's draw on every step, the fixed-noise
       * variant of Algorithm 1 (docs/math.md section 7).
       */
      readonly noise?: 'fresh' | 'fixed';
      /**
       * Polyak-Ruppert averaging: the stage returns the mean of its chunk-end iterates rather than the last
       * one. Meant for a fixed-length tail after a stage has reached the fresh-noise floor (stop 'none'):
       * with fresh noise every step (docs/math.md section 7) the iterate keeps fluctuating around the fixed point
       * by about the noise floor, and the mean of n nearly independent iterates fluctuates sqrt(n) times less.
       */
      readonly average?: boolean;
    }
  | { readonly kind: 'em'; readonly name: string; readonly maxSteps: number; readonly stop: StopRule }
  | { readonly kind: 'gradient-em'; readonly name: string; readonly lr: number; readonly maxSteps: number; readonly stop: StopRule };

/** What the backend is given and how its centres map back to data coordinates. */
export interface Problem {
  /** The data the backend sees: centred for the tied K = 2 student (docs/math.md section 1). */
  readonly data: Matrix;
  /** Tied: the working centre is m (1 x d) and the means are offset +/- m (no offset: m and -m). */
  readonly tied: boolean;
  readonly offset?: Float64Array;
}

export interface HistoryRow {
  /** 0-based global step of the last step in the chunk (GD and EM steps count alike). */
  readonly step: number;
  readonly stage: string;
  /** t for GD stages, null for EM-type stages. */
  readonly noiseScale: number | null;
  /** GD: the DDPM loss before the chunk's last step; EM: minus the average log-likelihood after it. */
  readonly loss: number;
  /** GD: |dL/dm| at the chunk's last step; EM: the size of the last step's change of the centres. */
  readonly gradNorm: number;
  /** Largest centre-row change per step over the chunk (unscaled). */
  readonly change: number;
  /** A general student's GD stage: the largest change per step of a component's centre, spread or weight over its noise floor (stop-rules.ts, studentChange). */
  readonly studentChange?: number;
  /** truthObserver: the largest and mean matched centre errors (docs/math.md section 10). */
  readonly error?: number;
  readonly meanError?: number;
  /** truthObserver, K = 2: |cos| between the estimated and the true centre difference (docs/math.md section 10). */
  readonly angle?: number;
  /** Spectral stop rule only: sin(angle) between the working centre and the data's top eigenvector. */
  readonly directionGap?: number;
  /**
   * connectionsObserver, GD stages of a tied (K = 2) problem: cos(-dL/dm, the paper's power-iteration
   * step 2 m* m*^T m - 3 ||m||^2 m of Lemma 8) for the chunk's first step (connection 1, docs/math.md section 9;
   * m* from the truth, or its data estimate without it).
   */
  readonly cosPower?: number;
  /**
   * As cosPower, against 4 m* m*^T m - 4 ||m||^2 m, the expansion of -dL/dm for docs/math.md section 4's L
   * (section 9; correctedPowerStep in connections.ts).
   */
  readonly cosPowerCorrected?: number;
  /** connectionsObserver, GD stages: cos(-dL/dm, the gradient-EM step on x_t) for the chunk's first step (connection 2). */
  readonly cosGradientEm?: number;
  readonly seconds: number;
}

/** Fields an observer may add to a history row: any but the loop's own. */
export type RowFields = Omit<Partial<HistoryRow>, 'step' | 'stage' | 'noiseScale' | 'loss' | 'gradNorm' | 'change' | 'seconds'>;

/** Everything a resumed run needs: the stage, the steps done, the centres and the history so far. */
export interface LoopState {
  readonly stageIndex: number;
  readonly stepInStage: number;
  /** Total steps done: the noise-stream position, since fresh noise uses this step number (docs/math.md section 7). */
  readonly globalStep: number;
  /** Working centres: unscaled mu (K x d), or m (1 x d) tied. */
  readonly centres: Matrix;
  readonly history: HistoryRow[];
  readonly stageResults: StageResult[];
  readonly seconds: number;
  /** Inside an averaging stage: the sum of the chunk-end iterates so far and their count. */
  readonly average?: StageCarry['average'];
  /** The general student's variances and weights (docs/math.md section 14); absent for the paper's student. */
  readonly student?: StudentParams;
}

/** What a stage carries across chunks and into a checkpoint (an averaging tail's running sum). */
export interface StageCarry {
  /** The running sums of the centres and, for a general student, of gamma and log pi (averagedStudent). */
  readonly average?: { readonly sum: Matrix; readonly count: number; readonly student?: StudentParams };
}

export interface StageResult {
  readonly name: string;
  readonly steps: number;
  readonly converged: boolean;
}

/** One chunk as the observers see it, after the stage kind ran it and the stopping rule judged it. */
export interface ChunkInfo {
  readonly backend: Trainer;
  readonly problem: Problem;
  readonly stage: Stage;
  /** Working centres at the chunk's start. */
  readonly before: Matrix;
  /** The working centres the chunk reports (an averaging tail: the running mean). */
  readonly centres: Matrix;
  /** The global step of the chunk's first step, and its number of steps. */
  readonly startStep: number;
  readonly steps: number;
  readonly noiseSeed: number;
}

/**
 * Something a front door attaches to the loop (observers.ts): it may add fields to each history row, act
 * after each chunk, and act once at the end. The loop calls the observers in order.
 */
export interface LoopObserver {
  /**
   * True when it must run between the chunks (it calls the backend, or awaits): then a stage without a
   * stopping rule is not sent to the backend as one call.
   */
  readonly betweenChunks?: boolean;
  /** Fields for the chunk's history row. */
  readonly fields?: (chunk: ChunkInfo) => RowFields | Promise<RowFields>;
  /** After the chunk's row is in the history; a returned promise is awaited before the next Backend call. */
  readonly afterChunk?: (row: HistoryRow, state: () => LoopState, chunk: ChunkInfo) => void | Promise<void>;
  /** Once the last stage has ended. */
  readonly end?: (state: () => LoopState) => void;
}

export interface LoopOptions {
  /** Steps per chunk: one Backend call (GD) and one history row per chunk. */
  readonly logEvery: number;
  /** The Philox seed of the training noise. */
  readonly noiseSeed: number;
  readonly resume?: LoopState;
  /** Attached in order, before the hooks below (which the loop maps onto observers, observers.ts). */
  readonly observers?: readonly LoopObserver[];
  /** Called at chunk boundaries once at least checkpointEvery steps passed since the last call, and at the end. */
  readonly onCheckpoint?: (state: LoopState) => void;
  readonly checkpointEvery?: number;
  /**
   * The general student's start (docs/math.md section 14): its variances and weights are learned with the centres
   * by the GD and EM stages. Absent: the paper's student.
   */
  readonly student?: StudentParams;
  readonly onProgress?: (row: HistoryRow, state: LoopState) => void;
  /** Called once before the first step with the run's stages (a progress display's plan of steps). */
  readonly onStart?: (stages: readonly Stage[]) => void;
  /**
   * Awaited after each chunk (after onProgress and onCheckpoint), before the next Backend call. A caller
   * that must share its thread, such as the browser page, yields an animation frame here or holds the
   * run while paused; without it nothing is awaited, so runs without the hook are unchanged. What it
   * resolves to is ignored; a rejection ends the run with that error.
   */
  readonly onChunk?: (row: HistoryRow, state: LoopState) => void | Promise<void>;
  /**
   * Measure the paper's two connections (docs/math.md section 9) once per chunk of a GD stage: cosPower,
   * cosPowerCorrected and cosGradientEm in the history row, for the chunk's first step, i.e. at the centres
   * the chunk started from and with that step's noise draw (so the first row describes the very first step
   * from the start). They cost 1-2 more Backend calls per chunk and a host noise draw of N x d; the centres
   * and the noise stream are unchanged. Shorthand for connectionsObserver() with m* estimated from the
   * data; the doors that know the truth (fitSchedule, fitEm, the estimator) attach connectionsObserver(truth).
   */
  readonly connections?: boolean;
}

export interface LoopResult {
  /** The learned means in data coordinates (K x d). */
  readonly means: Matrix;
  /** The working centres (tied: m, 1 x d). */
  readonly centres: Matrix;
  readonly history: HistoryRow[];
  /** Whether the last stage met its stopping rule before its step limit. */
  readonly converged: boolean;
  /** Steps over all stages. */
  readonly nIter: number;
  readonly stages: StageResult[];
  /** The general student's learned variances and weights; absent for the paper's student. */
  readonly student?: StudentParams;
}
