// The loop's observers (loop-types.ts, LoopObserver), which the front doors attach: the truth metrics an
// experiment logs, the paper's connection diagnostics, checkpoints, and the LoopOptions hooks. None of them
// changes the centres or the noise stream: a run gives the same bits with or without them.
import { centreError } from '../centre-error.ts';
import { matrix, type Matrix } from '../types.ts';
import { gradientEmCosine, powerIterationCosines } from './connections.ts';
import type { HistoryRow, LoopObserver, LoopOptions, LoopState, Problem, RowFields } from './loop-types.ts';
import { cosine, row, symmetricMeans } from './matrix-math.ts';

/** Means in data coordinates from working centres. */
export function meansOf(problem: Problem, centres: Matrix): Matrix {
  if (!problem.tied) return centres;
  // About the origin: m and -m, as they are (0 + m would turn -0 into +0).
  if (!problem.offset) return matrix(2, centres.cols, Float64Array.from([...centres.data, ...centres.data.map((v) => -v)]));
  return symmetricMeans(centres, problem.offset);
}

/** Matched error and (K = 2) angle of docs/math.md section 10 at working centres, or nothing without the truth. */
export function truthMetrics(problem: Problem, centres: Matrix, truth: Matrix | undefined): { error?: number; meanError?: number; angle?: number } {
  if (!truth) return {};
  const means = meansOf(problem, centres);
  const e = centreError(means, truth);
  if (truth.rows !== 2) return { error: e.max, meanError: e.mean };
  return { error: e.max, meanError: e.mean, angle: Math.abs(cosine(halfDifference(means), halfDifference(truth))) };
}

/** Logs truthMetrics (error, meanError, angle) in every row, at the centres the chunk reports. */
export function truthObserver(truth: Matrix): LoopObserver {
  return { fields: (c) => truthMetrics(c.problem, c.centres, truth) };
}

/**
 * The two cosines of LoopOptions.connections in the rows of GD stages, for the chunk's first step: its
 * centres at the start and its noise draw (a fixed step equals the fresh step). m* from the truth when
 * given, else its data estimate. It calls the backend, so the loop runs chunk by chunk.
 */
export function connectionsObserver(truth?: Matrix): LoopObserver {
  const muStar = truth ? matrix(1, truth.cols, halfDifference(truth)) : undefined;
  return {
    betweenChunks: true,
    fields: async ({ backend, problem, stage, before, startStep, noiseSeed }): Promise<RowFields> => {
      if (stage.kind !== 'gd') return {};
      const t = stage.noiseScale;
      if (!problem.tied) return { cosGradientEm: await gradientEmCosine(backend, problem.data, before, t, noiseSeed, startStep) };
      const power = await powerIterationCosines(backend, problem.data, before, muStar, t, noiseSeed, 1, startStep);
      // The tied student is the untied pair (m, -m) on the centred data (docs/math.md section 5).
      const pair = matrix(2, before.cols, Float64Array.from([...before.data, ...before.data.map((v) => -v)]));
      return { cosPower: power.paper, cosPowerCorrected: power.corrected, cosGradientEm: await gradientEmCosine(backend, problem.data, pair, t, noiseSeed, startStep) };
    },
  };
}

/** Hands out the state at chunk boundaries once at least `every` steps passed since the last time, and at the end. */
export function checkpointObserver(onCheckpoint: (state: LoopState) => void, every: number): LoopObserver {
  let since = 0;
  return {
    afterChunk: (_row, state, chunk) => {
      since += chunk.steps;
      if (since < every) return;
      onCheckpoint(state());
      since = 0;
    },
    end: (state) => {
      if (since > 0) onCheckpoint(state());
    },
  };
}

/** The observers of a door that knows the truth: its metrics, and the connections measured against it. */
export function truthAndConnections(truth: Matrix | undefined, connections: boolean | undefined): LoopObserver[] {
  return [...(truth ? [truthObserver(truth)] : []), ...(connections ? [connectionsObserver(truth)] : [])];
}

/** LoopOptions' hooks and shorthands as observers, in the order the loop has always called them. */
export function hookObservers(o: LoopOptions): LoopObserver[] {
  const out: LoopObserver[] = [];
  if (o.connections) out.push(connectionsObserver());
  const { onProgress, onCheckpoint, onChunk } = o;
  if (onProgress) out.push({ afterChunk: (row: HistoryRow, state) => onProgress(row, state()) });
  if (onCheckpoint) out.push(checkpointObserver(onCheckpoint, o.checkpointEvery ?? o.logEvery));
  if (onChunk) out.push({ betweenChunks: true, afterChunk: (row, state) => onChunk(row, state()) });
  return out;
}

function halfDifference(m: Matrix): Float64Array {
  const a = row(m, 0);
  const b = row(m, 1);
  return a.map((v, i) => (v - b[i]!) / 2);
}
