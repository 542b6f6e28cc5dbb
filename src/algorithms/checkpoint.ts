// Checkpoints of the iteration loop (loop.ts): the stage, the steps done, the noise-stream position and
// the centres, as an object and as JSON text; the files are the Node layer's (src/cli/checkpoint-file.ts
// writes them whole or not at all). Fresh noise is a pure
// function of the step (docs/math.md section 7) and the loop's chunks are aligned to the step count, so a run
// resumed from a checkpoint ends with exactly the centres of an uninterrupted run. A fingerprint of the
// settings and the data refuses a resume with anything else.
import { InputError } from '../errors.ts';
import { array, bool, checkFile, checkWritten, flatRows, int, isRecord, literal, matrix as rowsOf, measured, nullable, num, object, oneOf, optional, SchemaError, shown, str, vector, type ObjectSpec, type Spec } from '../io/schema.ts';
import { matrix, toRows, type Matrix } from '../types.ts';
import type { HistoryRow, LoopState, StageResult } from './loop-types.ts';
import { COVARIANCES, varianceColumns, WEIGHTINGS, type Covariance, type StudentParams, type Weights } from '../training/student.ts';

const FORMAT = 'ddpm-gmm-checkpoint';
const VERSION = 1;

export interface CheckpointFile {
  readonly format: typeof FORMAT;
  readonly version: number;
  /** Settings and data hash: a resume must match it. */
  readonly fingerprint: string;
  /** The noise seed and the next step number of the fresh-noise stream. */
  readonly noise: { readonly seed: number; readonly nextStep: number };
  readonly stageIndex: number;
  readonly stepInStage: number;
  readonly centres: number[][];
  readonly history: HistoryRow[];
  readonly stageResults: StageResult[];
  readonly seconds: number;
  /** Inside an averaging stage (loop.ts): the running sum of the iterates and their count. */
  readonly average?: { readonly sum: number[][]; readonly count: number; readonly student?: { readonly gamma: number[][]; readonly beta: number[] } };
  /** The general student's parameters (docs/math.md section 14): gamma K x (0, 1 or d) and beta. */
  readonly student?: { readonly covariance: Covariance; readonly weights: Weights; readonly gamma: number[][]; readonly beta: number[]; readonly gammaMin?: number };
}

/** FNV-1a over the float64 bytes of the data: cheap, and any changed entry changes it. */
export function dataHash(data: Matrix): string {
  const bytes = new Uint8Array(data.data.buffer, data.data.byteOffset, data.data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${data.rows}x${data.cols}:${h.toString(16).padStart(8, '0')}`;
}

export function fingerprintOf(settings: unknown, data: Matrix): string {
  return `${dataHash(data)}|${JSON.stringify(settings)}`;
}

export function checkpointOf(state: LoopState, fingerprint: string, noiseSeed: number): CheckpointFile {
  const file: CheckpointFile = {
    format: FORMAT,
    version: VERSION,
    fingerprint,
    noise: { seed: noiseSeed, nextStep: state.globalStep },
    stageIndex: state.stageIndex,
    stepInStage: state.stepInStage,
    centres: toRows(state.centres),
    history: state.history,
    stageResults: state.stageResults,
    seconds: state.seconds,
    ...(state.average ? { average: { sum: toRows(state.average.sum), count: state.average.count, ...(state.average.student ? { student: { gamma: gammaRows(state.average.student.gamma), beta: Array.from(state.average.student.beta) } } : {}) } } : {}),
    ...(state.student ? { student: { covariance: state.student.covariance, weights: state.student.weights, gamma: gammaRows(state.student.gamma), beta: Array.from(state.student.beta), ...(state.student.gammaMin !== undefined ? { gammaMin: state.student.gammaMin } : {}) } } : {}),
  };
  checkWritten(CHECKPOINT_FILE, file, VERSION, 'checkpoint');
  return file;
}

/** gamma's rows; K x 0 (identity) as K empty rows. */
function gammaRows(gamma: Matrix): number[][] {
  return Array.from({ length: gamma.rows }, (_, i) => Array.from(gamma.data.subarray(i * gamma.cols, (i + 1) * gamma.cols)));
}

/** The checkpoint as JSON text, one line: JSON prints each double with enough digits to read back the same bits. */
export function serializeCheckpoint(state: LoopState, fingerprint: string, noiseSeed: number): string {
  return `${JSON.stringify(checkpointOf(state, fingerprint, noiseSeed))}\n`;
}

/** Parses a checkpoint's text and checks it belongs to this run; returns the loop state to resume from. */
export function parseCheckpoint(text: string, fingerprint: string, noiseSeed: number, what = 'the checkpoint'): LoopState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InputError(`cannot read ${what} (${why}); give a file written by --checkpoint`);
  }
  return stateFromCheckpoint(parsed, fingerprint, noiseSeed, what);
}

/** The centres' shape, which the other matrices of a checkpoint share. */
const K = { describe: "the centres' rows", of: (r: Record<string, unknown>) => (r['centres'] as unknown[]).length };
const D = { describe: "the centres' columns", of: (r: Record<string, unknown>) => (r['centres'] as unknown[][])[0]!.length };
const gammaCols = { describe: "the covariance's (0, 1 or d)", of: (r: Record<string, unknown>) => varianceColumns((r['student'] as { covariance: Covariance }).covariance, D.of(r)) };

/**
 * The checkpoint's fields, declared once: stateFromCheckpoint checks a file against them and checkpointOf what it
 * built. The plan's own bounds (stageIndex within the stages, stepInStage within the stage) are the loop's (loop.ts).
 */
export const CHECKPOINT_FILE: ObjectSpec = object({
  format: literal(FORMAT),
  version: literal(VERSION),
  fingerprint: str(),
  noise: object({ seed: int(0), nextStep: int(0) }),
  stageIndex: num({ integer: true }),
  stepInStage: int(0),
  centres: rowsOf(undefined, undefined),
  history: optional(array(object({ step: int(0), stage: str(), noiseScale: nullable(num()), loss: measured(), gradNorm: measured(), change: measured(), seconds: num({ min: 0 }) }, { open: true }), { of: 'rows' })),
  stageResults: optional(array(object({ name: str(), steps: int(0), converged: bool() }), { of: 'stage results' })),
  seconds: optional(num({ min: 0 })),
  student: optional(object({ covariance: oneOf(COVARIANCES), weights: oneOf(WEIGHTINGS), gamma: rowsOf(K, gammaCols), beta: vector(K), gammaMin: optional(num()) })),
  average: optional(object({ sum: rowsOf(K, D), count: int(1), student: optional(withStudent(object({ gamma: rowsOf(K, gammaCols), beta: vector(K) }))) })),
});

/** The averaging tail's sums of a general student's parameters: only beside the student they average. */
function withStudent(s: Spec): Spec {
  return {
    ...s,
    check(v, path, ctx) {
      if (!isRecord(ctx.root['student'])) throw new SchemaError(`${path} is given without the student it averages`);
      s.check(v, path, ctx);
    },
  };
}

export function stateFromCheckpoint(parsed: unknown, fingerprint: string, noiseSeed: number, what = 'the checkpoint'): LoopState {
  const c = parsed as Partial<CheckpointFile> | null;
  if (!isRecord(c) || c.format !== FORMAT || c.version !== VERSION) {
    throw new InputError(`${what} is not a ddpm-gmm checkpoint (version ${VERSION}); give a file written by --checkpoint`);
  }
  if (c.fingerprint !== fingerprint) {
    throw new InputError(`${what} was written for other data or settings; resume with the same data, method, schedule and options as the run that wrote it`);
  }
  if (!isRecord(c.noise) || c.noise.seed !== noiseSeed) {
    throw new InputError(`${what} used noise seed ${isRecord(c.noise) ? shown(c.noise.seed) : shown(c.noise)} but this run uses ${noiseSeed}; pass the same --noise-seed`);
  }
  try {
    checkFile(CHECKPOINT_FILE, c, VERSION);
  } catch (e) {
    throw e instanceof SchemaError ? new InputError(`${what} is damaged (its ${e.message}); rerun without --resume`) : e;
  }
  const f = c as CheckpointFile;
  const k = f.centres.length;
  const d = f.centres[0]!.length;
  const st = f.student;
  const studentOf = (g: number[][], b: number[]): StudentParams => {
    const cols = varianceColumns(st!.covariance, d);
    return { covariance: st!.covariance, weights: st!.weights, gamma: matrix(k, cols, flatRows(g, cols)), beta: Float64Array.from(b), ...(st!.gammaMin !== undefined ? { gammaMin: st!.gammaMin } : {}) };
  };
  const avg = f.average;
  return {
    stageIndex: f.stageIndex,
    stepInStage: f.stepInStage,
    globalStep: f.noise.nextStep,
    centres: matrix(k, d, flatRows(f.centres, d)),
    history: f.history ?? [],
    stageResults: f.stageResults ?? [],
    seconds: f.seconds ?? 0,
    ...(avg ? { average: { sum: matrix(k, d, flatRows(avg.sum, d)), count: avg.count, ...(avg.student ? { student: studentOf(avg.student.gamma, avg.student.beta) } : {}) } } : {}),
    ...(st ? { student: studentOf(st.gamma, st.beta) } : {}),
  };
}
