// The iteration loop, written once (docs/architecture.md, scikit-learn anchor): a schedule is a list of stages, each
// a GD run at one noise scale (docs/math.md sections 6 and 8) or an EM / gradient-EM run (docs/math.md section 9).
// The loop advances a stage in chunks of `logEvery` steps through the Backend, records a history row per
// chunk, applies the stage's stopping rule, and hands out a checkpoint state at chunk boundaries. Fresh noise
// is a pure function of the global step (docs/math.md section 7) and chunks are aligned to the step count, so
// a run resumed from a checkpoint makes exactly the Backend calls an uninterrupted run makes.
import { InputError } from '../errors.ts';
import { centreError } from '../centre-error.ts';
import { matrix, type Dataset, type Matrix } from '../types.ts';
import { type Backend } from '../backend.ts';
import { gradientEmCosine, powerIterationCosines } from './connections.ts';
import { averageLogLikelihood, cosine, maxRowChange, row, symmetricMeans } from './matrix-math.ts';
import { directionGap, stopMet, type StopRule } from './stop-rules.ts';

export { directionGap, SPECTRAL_PROGRESS, spectralStop, type StopRule } from './stop-rules.ts';

export type Stage =
  | {
      readonly kind: 'gd';
      readonly name: string;
      readonly noiseScale: number;
      readonly lr: number;
      readonly maxSteps: number;
      readonly projectRadius?: number;
      readonly stop: StopRule;
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
  /** Tied: the working centre is m (1 x d) and the means are offset +/- m. */
  readonly tied: boolean;
  readonly offset?: Float64Array;
  /** True centres K x d in data coordinates, to log the matched error and (K = 2) the angle. */
  readonly truth?: Matrix;
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
  /** With the truth: the largest and mean matched centre errors (docs/math.md section 10). */
  readonly error?: number;
  readonly meanError?: number;
  /** With the truth and K = 2: |cos| between the estimated and the true centre difference (docs/math.md section 10). */
  readonly angle?: number;
  /** Spectral stop rule only: sin(angle) between the working centre and the data's top eigenvector. */
  readonly directionGap?: number;
  /**
   * With LoopOptions.connections, GD stages of a tied (K = 2) problem: cos(-dL/dm, the paper's power-iteration
   * step 2 m* m*^T m - 3 ||m||^2 m of Lemma 8) for the chunk's first step (connection 1, docs/math.md section 9;
   * m* from the truth, or its data estimate without it).
   */
  readonly cosPower?: number;
  /**
   * As cosPower, against 4 m* m*^T m - 4 ||m||^2 m, the expansion of -dL/dm for docs/math.md section 4's L
   * (section 9; correctedPowerStep in connections.ts).
   */
  readonly cosPowerCorrected?: number;
  /** With LoopOptions.connections, GD stages: cos(-dL/dm, the gradient-EM step on x_t) for the chunk's first step (connection 2). */
  readonly cosGradientEm?: number;
  readonly seconds: number;
}

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
  readonly average?: { readonly sum: Matrix; readonly count: number };
}

export interface StageResult {
  readonly name: string;
  readonly steps: number;
  readonly converged: boolean;
}

export interface LoopOptions {
  /** Steps per chunk: one Backend call (GD) and one history row per chunk. */
  readonly logEvery: number;
  /** The Philox seed of the training noise. */
  readonly noiseSeed: number;
  readonly resume?: LoopState;
  /** Called at chunk boundaries once at least checkpointEvery steps passed since the last call, and at the end. */
  readonly onCheckpoint?: (state: LoopState) => void;
  readonly checkpointEvery?: number;
  readonly onProgress?: (row: HistoryRow, state: LoopState) => void;
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
   * and the noise stream are unchanged.
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
}

/** Means in data coordinates from working centres. */
export function meansOf(problem: Problem, centres: Matrix): Matrix {
  if (!problem.tied) return centres;
  return symmetricMeans(centres, problem.offset ?? new Float64Array(centres.cols));
}

/** Matched error and (K = 2) angle of docs/math.md section 10, or nothing without the truth. */
export function truthMetrics(problem: Problem, centres: Matrix): { error?: number; meanError?: number; angle?: number } {
  const truth = problem.truth;
  if (!truth) return {};
  const means = meansOf(problem, centres);
  const e = centreError(means, truth);
  if (truth.rows !== 2) return { error: e.max, meanError: e.mean };
  return { error: e.max, meanError: e.mean, angle: Math.abs(cosine(halfDifference(means), halfDifference(truth))) };
}

/** The two cosines of LoopOptions.connections at working centres (unscaled), drawn at Philox step `step`. */
async function connectionCosines(
  backend: Backend,
  problem: Problem,
  centres: Matrix,
  t: number,
  seed: number,
  step: number,
): Promise<{ cosPower?: number; cosPowerCorrected?: number; cosGradientEm: number }> {
  if (!problem.tied) return { cosGradientEm: await gradientEmCosine(backend, problem.data, centres, t, seed, step) };
  const d = centres.cols;
  const muStar = problem.truth ? matrix(1, d, halfDifference(problem.truth)) : undefined;
  const power = await powerIterationCosines(backend, problem.data, centres, muStar, t, seed, 1, step);
  // The tied student is the untied pair (m, -m) on the centred data (docs/math.md section 5).
  const pair = matrix(2, d, Float64Array.from([...centres.data, ...centres.data.map((v) => -v)]));
  return { cosPower: power.paper, cosPowerCorrected: power.corrected, cosGradientEm: await gradientEmCosine(backend, problem.data, pair, t, seed, step) };
}

function halfDifference(m: Matrix): Float64Array {
  const a = row(m, 0);
  const b = row(m, 1);
  return a.map((v, i) => (v - b[i]!) / 2);
}

/** The current stage's rows at the end of the history (none when the stage has just begun). */
function stageRows(history: readonly HistoryRow[], name: string, stepsBefore: number): HistoryRow[] {
  if (stepsBefore <= 0) return [];
  const out: HistoryRow[] = [];
  for (let i = history.length - 1; i >= 0 && history[i]!.stage === name; i--) out.push(history[i]!);
  return out.reverse();
}

function addMatrices(a: Matrix | undefined, b: Matrix): Matrix {
  const out = matrix(b.rows, b.cols, b.data.slice());
  if (a) for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! + a.data[i]!;
  return out;
}

function scaleMatrix(a: Matrix, f: number): Matrix {
  return matrix(a.rows, a.cols, a.data.map((v) => v * f));
}

/** Runs the stages from `init` (or from options.resume) to the end of the last stage. */
export async function runStages(
  backend: Backend,
  problem: Problem,
  stages: readonly Stage[],
  init: Matrix,
  options: LoopOptions,
): Promise<LoopResult> {
  if (!Number.isSafeInteger(options.logEvery) || options.logEvery < 1) {
    throw new InputError(`the log interval must be a positive integer, got ${options.logEvery}`);
  }
  // The backend takes the data once; every call of the run names it (no per-call check, hash or upload).
  const data = backend.dataset(problem.data);
  try {
    return await runStagesOn(backend, data, problem, stages, init, options);
  } finally {
    data.dispose();
  }
}

/** Where a GD chunk ended: its centres, and the loss and gradient norm of its last step. */
interface ChunkEnd {
  readonly centres: Matrix;
  readonly loss: number;
  readonly gradNorm: number;
}

/**
 * GD chunks of a stage, each { centres, loss, gradNorm } at its end: one Backend call for `steps` steps with a
 * log point per chunk. Splitting a stage into calls at chunk ends gives the same numbers (both backends
 * continue from the centres they report), so a batch of chunks equals the chunks run one call each.
 */
async function gdChunks(backend: Backend, data: Dataset, problem: Problem, stage: Stage & { kind: 'gd' }, centres: Matrix, startStep: number, steps: number, logEvery: number, noiseSeed: number): Promise<ChunkEnd[]> {
  const out: ChunkEnd[] = [];
  await backend.gdSteps(data, centres, {
    noiseScale: stage.noiseScale,
    tied: problem.tied,
    lr: stage.lr,
    steps,
    logEvery,
    startStep,
    noise: { kind: 'seed', seed: noiseSeed, mode: 'fresh' },
    projectRadius: stage.projectRadius,
    onProgress: (p) => out.push({ centres: p.centres, loss: p.last.loss, gradNorm: p.last.gradNorm }),
  });
  return out;
}

async function runStagesOn(backend: Backend, data: Dataset, problem: Problem, stages: readonly Stage[], init: Matrix, options: LoopOptions): Promise<LoopResult> {
  const start = performance.now();
  const r = options.resume;
  if (r && (r.stageIndex < 0 || r.stageIndex > stages.length)) {
    throw new InputError(`the checkpoint is at stage ${r.stageIndex + 1} but this schedule has ${stages.length} stages; resume with the same settings`);
  }
  let stageIndex = r?.stageIndex ?? 0;
  let stepInStage = r?.stepInStage ?? 0;
  let globalStep = r?.globalStep ?? 0;
  let centres = r?.centres ?? init;
  const history = r ? r.history.slice() : [];
  const stageResults = r ? r.stageResults.slice() : [];
  const secondsBefore = r?.seconds ?? 0;
  let average = r?.average;
  let sinceCheckpoint = 0;
  const state = (): LoopState => ({
    stageIndex,
    stepInStage,
    globalStep,
    centres,
    history: history.slice(),
    stageResults: stageResults.slice(),
    seconds: secondsBefore + (performance.now() - start) / 1000,
    ...(average ? { average } : {}),
  });
  const mStride = problem.tied ? 1 : centres.rows;
  if (centres.rows !== mStride) throw new Error(`runStages: centres have ${centres.rows} rows, expected ${mStride}`);

  while (stageIndex < stages.length) {
    const stage = stages[stageIndex]!;
    let done = stepInStage >= stage.maxSteps;
    let converged = false;
    // A stage without a stopping rule runs to its limit: its chunks go to the backend as one call, unless a
    // caller must act between chunks (onChunk pauses or yields; connections call the backend).
    const batched = stage.stop.kind === 'none' && !options.onChunk && !options.connections;
    let pending: ChunkEnd[] = [];
    while (!done) {
      const chunk = Math.min(options.logEvery, stage.maxSteps - stepInStage);
      const before = centres;
      let loss: number;
      let gradNorm: number;
      if (stage.kind === 'gd') {
        const steps = batched ? stage.maxSteps - stepInStage : chunk;
        if (pending.length === 0) pending = await gdChunks(backend, data, problem, stage, centres, globalStep, steps, options.logEvery, options.noiseSeed);
        ({ centres, loss, gradNorm } = pending.shift()!);
      } else {
        if (problem.tied) throw new Error('runStages: EM stages take untied centres');
        let prev = centres;
        if (stage.kind === 'em') {
          // One call for the chunk: the same numbers as a call per step, without a read-back per step.
          ({ centres, previous: prev } = await backend.emSteps(data, centres, chunk));
        } else {
          for (let s = 0; s < chunk; s++) {
            prev = centres;
            centres = await backend.gradientEmStep(data, centres, stage.lr);
          }
        }
        loss = -averageLogLikelihood(problem.data, centres);
        gradNorm = maxRowChange(prev, centres);
      }
      stepInStage += chunk;
      globalStep += chunk;
      sinceCheckpoint += chunk;
      const change = maxRowChange(before, centres) / chunk;
      const averaging = stage.kind === 'gd' && stage.average === true;
      if (averaging) average = { sum: addMatrices(average?.sum, centres), count: (average?.count ?? 0) + 1 };
      const reported = averaging && average ? scaleMatrix(average.sum, 1 / average.count) : centres;
      let gap: number | undefined;
      let gaps: number[] = [];
      if (stage.stop.kind === 'spectral') {
        gap = directionGap(centres, stage.stop.direction);
        // The stage's earlier gaps live in the history, which a checkpoint keeps: a resumed run decides alike.
        gaps = [...stageRows(history, stage.name, stepInStage - chunk).map((h) => h.directionGap ?? Infinity), gap];
      }
      converged = stopMet(stage.stop, before, centres, chunk, stepInStage, gaps);
      done = converged || stepInStage >= stage.maxSteps;
      const entry: HistoryRow = {
        step: globalStep - 1,
        stage: stage.name,
        noiseScale: stage.kind === 'gd' ? stage.noiseScale : null,
        loss,
        gradNorm,
        change,
        ...truthMetrics(problem, reported),
        ...(gap !== undefined ? { directionGap: gap } : {}),
        // The chunk's first step: its centres at the start and its noise draw (fixed step = fresh step).
        ...(options.connections && stage.kind === 'gd' ? await connectionCosines(backend, problem, before, stage.noiseScale, options.noiseSeed, globalStep - chunk) : {}),
        seconds: secondsBefore + (performance.now() - start) / 1000,
      };
      history.push(entry);
      if (done) {
        // An averaging tail has no rule of its own: it inherits whether the stage before it converged.
        if (averaging) {
          converged = stageResults[stageResults.length - 1]?.converged ?? false;
          centres = reported;
          average = undefined;
        }
        stageResults.push({ name: stage.name, steps: stepInStage, converged });
        stageIndex++;
        stepInStage = 0;
      }
      options.onProgress?.(entry, state());
      if (options.onCheckpoint && sinceCheckpoint >= (options.checkpointEvery ?? options.logEvery)) {
        options.onCheckpoint(state());
        sinceCheckpoint = 0;
      }
      if (options.onChunk) await options.onChunk(entry, state());
    }
    if (stages[stageIndex] === stage) {
      // A resumed state can sit exactly at a stage's limit: close that stage.
      stageResults.push({ name: stage.name, steps: stepInStage, converged: false });
      stageIndex++;
      stepInStage = 0;
    }
  }
  if (options.onCheckpoint && sinceCheckpoint > 0) options.onCheckpoint(state());
  const lastStage = stageResults[stageResults.length - 1];
  return {
    means: meansOf(problem, centres),
    centres: matrix(centres.rows, centres.cols, centres.data.slice()),
    history,
    converged: lastStage?.converged ?? false,
    nIter: globalStep,
    stages: stageResults,
  };
}
