// Checkpoints of the iteration loop (loop.ts): the stage, the steps done, the noise-stream position and
// the centres, as an object and as JSON text; the files are the Node layer's (src/cli/checkpoint-file.ts
// writes them whole or not at all). Fresh noise is a pure
// function of the step (docs/math.md section 7) and the loop's chunks are aligned to the step count, so a run
// resumed from a checkpoint ends with exactly the centres of an uninterrupted run. A fingerprint of the
// settings and the data refuses a resume with anything else.
import { InputError } from '../errors.ts';
import { matrix, toRows, type Matrix } from '../types.ts';
import type { HistoryRow, LoopState, StageResult } from './loop-types.ts';
import { checkStudent, type Covariance, type StudentParams, type Weights } from '../training/student.ts';

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
  return {
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

export function stateFromCheckpoint(parsed: unknown, fingerprint: string, noiseSeed: number, what = 'the checkpoint'): LoopState {
  const c = parsed as Partial<CheckpointFile> | null;
  if (!c || c.format !== FORMAT || c.version !== VERSION) {
    throw new InputError(`${what} is not a ddpm-gmm checkpoint (version ${VERSION}); give a file written by --checkpoint`);
  }
  if (c.fingerprint !== fingerprint) {
    throw new InputError(`${what} was written for other data or settings; resume with the same data, method, schedule and options as the run that wrote it`);
  }
  if (!c.noise || c.noise.seed !== noiseSeed) {
    throw new InputError(`${what} used noise seed ${c.noise?.seed} but this run uses ${noiseSeed}; pass the same --noise-seed`);
  }
  const rows = c.centres;
  const okRows = Array.isArray(rows) && rows.length > 0 && rows.every((r) => Array.isArray(r) && r.length === rows[0]!.length && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!okRows || !Number.isSafeInteger(c.stageIndex) || !Number.isSafeInteger(c.stepInStage) || !Number.isSafeInteger(c.noise.nextStep)) {
    throw new InputError(`${what} is damaged (centres or step counts missing); rerun without --resume`);
  }
  const d = rows![0]!.length;
  const avg = c.average;
  const okAvg =
    avg === undefined ||
    (typeof avg === 'object' && avg !== null && Number.isSafeInteger(avg.count) && avg.count > 0 && Array.isArray(avg.sum) && avg.sum.length === rows!.length &&
      avg.sum.every((r) => Array.isArray(r) && r.length === d && r.every((v) => typeof v === 'number' && Number.isFinite(v))));
  if (!okAvg) throw new InputError(`${what} is damaged (the running average is malformed); rerun without --resume`);
  const isRow = (h: unknown): boolean => typeof h === 'object' && h !== null && !Array.isArray(h);
  if (c.history !== undefined && !(Array.isArray(c.history) && c.history.every(isRow))) throw new InputError(`${what} is damaged (its history must be an array of rows); rerun without --resume`);
  if (c.stageResults !== undefined && !(Array.isArray(c.stageResults) && c.stageResults.every(isRow))) throw new InputError(`${what} is damaged (its stageResults must be an array); rerun without --resume`);
  if (c.seconds !== undefined && !(typeof c.seconds === 'number' && Number.isFinite(c.seconds) && c.seconds >= 0)) throw new InputError(`${what} is damaged (its seconds must be a number >= 0); rerun without --resume`);
  if (c.noise.nextStep < 0 || c.stepInStage! < 0) throw new InputError(`${what} is damaged (a negative step count); rerun without --resume`);
  const st = c.student;
  let student: StudentParams | undefined;
  let averageStudent: StudentParams | undefined;
  if (st !== undefined) {
    const read = (g: number[][], b: number[]): StudentParams => {
      const floor = st.gammaMin === undefined ? {} : typeof st.gammaMin === 'number' && Number.isFinite(st.gammaMin) ? { gammaMin: st.gammaMin } : undefined;
      if (!floor) throw new InputError('gammaMin');
      const s = { covariance: st.covariance, weights: st.weights, gamma: matrix(g.length, g[0]?.length ?? 0, Float64Array.from(g.flat())), beta: Float64Array.from(b), ...floor };
      checkStudent(s, rows!.length, d);
      return s;
    };
    try {
      student = read(st.gamma, st.beta);
      // The averaging tail's running sums of gamma and log pi (stage-kinds.ts, averaging).
      if (avg?.student) averageStudent = read(avg.student.gamma, avg.student.beta);
    } catch {
      throw new InputError(`${what} is damaged (the student's variances or weights are malformed); rerun without --resume`);
    }
  }
  return {
    stageIndex: c.stageIndex!,
    stepInStage: c.stepInStage!,
    globalStep: c.noise.nextStep,
    centres: matrix(rows!.length, d, Float64Array.from(rows!.flat())),
    history: c.history ?? [],
    stageResults: c.stageResults ?? [],
    seconds: c.seconds ?? 0,
    ...(avg ? { average: { sum: matrix(avg.sum.length, d, Float64Array.from(avg.sum.flat())), count: avg.count, ...(averageStudent ? { student: averageStudent } : {}) } } : {}),
    ...(student ? { student } : {}),
  };
}
