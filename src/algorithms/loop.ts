// The iteration loop, written once (STYLE.md, scikit-learn anchor): a schedule is a list of stages, each
// a GD run at one noise scale (MATH.md sections 6 and 8) or an EM / gradient-EM run (MATH.md section 9).
// The loop advances a stage in chunks of `logEvery` steps through the Backend, records a history row per
// chunk, applies the stage's stopping rule, and hands out a checkpoint state at chunk boundaries. Fresh noise
// is a pure function of the global step (MATH.md section 7) and chunks are aligned to the step count, so
// a run resumed from a checkpoint makes exactly the Backend calls an uninterrupted run makes.
import { InputError } from '../errors.ts';
import { centreError } from '../metrics.ts';
import { matrix, type Backend, type Matrix } from '../types.ts';
import { averageLogLikelihood, cosine, maxRelativeNormChange, maxRowChange, minRowAbsCosine, row, symmetricMeans } from './host-math.ts';

/** When a stage ends before its step limit. */
export type StopRule =
  /** Largest centre-row change per step, averaged over a chunk, at most tol (unscaled units). */
  | { readonly kind: 'change'; readonly tol: number }
  /**
   * The power-iteration plateau (stage 1, MATH.md section 8.2): after minSteps, every row kept its direction
   * (1 - |cos| with one chunk ago at most tol) and its norm (relative change at most normTol). The norm
   * saturates at ||m||^2 = 2/3 ||m*||^2 (Lemma 8) only once the m* component dominates.
   */
  | { readonly kind: 'direction'; readonly tol: number; readonly normTol: number; readonly minSteps: number }
  | { readonly kind: 'none' };

export type Stage =
  | {
      readonly kind: 'gd';
      readonly name: string;
      readonly noiseScale: number;
      readonly lr: number;
      readonly maxSteps: number;
      readonly projectRadius?: number;
      readonly stop: StopRule;
    }
  | { readonly kind: 'em'; readonly name: string; readonly maxSteps: number; readonly stop: StopRule }
  | { readonly kind: 'gradient-em'; readonly name: string; readonly lr: number; readonly maxSteps: number; readonly stop: StopRule };

/** What the backend is given and how its centres map back to data coordinates. */
export interface Problem {
  /** The data the backend sees: centred for the tied K = 2 student (MATH.md section 1). */
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
  /** With the truth: the largest and mean matched centre errors (MATH.md section 10). */
  readonly error?: number;
  readonly meanError?: number;
  /** With the truth and K = 2: |cos| between the estimated and the true centre difference (MATH.md section 10). */
  readonly angle?: number;
  readonly seconds: number;
}

/** Everything a resumed run needs: the stage, the steps done, the centres and the history so far. */
export interface LoopState {
  readonly stageIndex: number;
  readonly stepInStage: number;
  /** Total steps done: the noise-stream position, since fresh noise uses this step number (MATH.md section 7). */
  readonly globalStep: number;
  /** Working centres: unscaled mu (K x d), or m (1 x d) tied. */
  readonly centres: Matrix;
  readonly history: HistoryRow[];
  readonly stageResults: StageResult[];
  readonly seconds: number;
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

/** Matched error and (K = 2) angle of MATH.md section 10, or nothing without the truth. */
export function truthMetrics(problem: Problem, centres: Matrix): { error?: number; meanError?: number; angle?: number } {
  const truth = problem.truth;
  if (!truth) return {};
  const means = meansOf(problem, centres);
  const e = centreError(means, truth);
  if (truth.rows !== 2) return { error: e.max, meanError: e.mean };
  return { error: e.max, meanError: e.mean, angle: Math.abs(cosine(halfDifference(means), halfDifference(truth))) };
}

function halfDifference(m: Matrix): Float64Array {
  const a = row(m, 0);
  const b = row(m, 1);
  return a.map((v, i) => (v - b[i]!) / 2);
}

function stopMet(rule: StopRule, before: Matrix, after: Matrix, chunk: number, stepInStage: number): boolean {
  switch (rule.kind) {
    case 'change':
      return maxRowChange(before, after) / chunk <= rule.tol;
    case 'direction':
      return stepInStage >= rule.minSteps && 1 - minRowAbsCosine(before, after) <= rule.tol && maxRelativeNormChange(before, after) <= rule.normTol;
    case 'none':
      return false;
  }
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
  let sinceCheckpoint = 0;
  const state = (): LoopState => ({
    stageIndex,
    stepInStage,
    globalStep,
    centres,
    history: history.slice(),
    stageResults: stageResults.slice(),
    seconds: secondsBefore + (performance.now() - start) / 1000,
  });
  const mStride = problem.tied ? 1 : centres.rows;
  if (centres.rows !== mStride) throw new Error(`runStages: centres have ${centres.rows} rows, expected ${mStride}`);

  while (stageIndex < stages.length) {
    const stage = stages[stageIndex]!;
    let done = stepInStage >= stage.maxSteps;
    let converged = false;
    while (!done) {
      const chunk = Math.min(options.logEvery, stage.maxSteps - stepInStage);
      const before = centres;
      let loss: number;
      let gradNorm: number;
      if (stage.kind === 'gd') {
        const res = await backend.gdSteps(problem.data, centres, {
          noiseScale: stage.noiseScale,
          tied: problem.tied,
          lr: stage.lr,
          steps: chunk,
          logEvery: chunk,
          startStep: globalStep,
          noise: { kind: 'seed', seed: options.noiseSeed, mode: 'fresh' },
          projectRadius: stage.projectRadius,
        });
        centres = res.centres;
        const last = res.history[res.history.length - 1]!;
        loss = last.loss;
        gradNorm = last.gradNorm;
      } else {
        if (problem.tied) throw new Error('runStages: EM stages take untied centres');
        let prev = centres;
        for (let s = 0; s < chunk; s++) {
          prev = centres;
          centres =
            stage.kind === 'em'
              ? await backend.emStep(problem.data, centres)
              : await backend.gradientEmStep(problem.data, centres, stage.lr);
        }
        loss = -averageLogLikelihood(problem.data, centres);
        gradNorm = maxRowChange(prev, centres);
      }
      stepInStage += chunk;
      globalStep += chunk;
      sinceCheckpoint += chunk;
      const change = maxRowChange(before, centres) / chunk;
      converged = stopMet(stage.stop, before, centres, chunk, stepInStage);
      done = converged || stepInStage >= stage.maxSteps;
      const entry: HistoryRow = {
        step: globalStep - 1,
        stage: stage.name,
        noiseScale: stage.kind === 'gd' ? stage.noiseScale : null,
        loss,
        gradNorm,
        change,
        ...truthMetrics(problem, centres),
        seconds: secondsBefore + (performance.now() - start) / 1000,
      };
      history.push(entry);
      if (done) {
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
