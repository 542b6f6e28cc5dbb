// The versioned model file that DdpmGmm and PiecewiseScoreModel write with toJSON and read with fromJSON: plain
// JSON, so that a model fitted in Node loads in a browser or in other tools. One reader (readModelFile)
// recognises both kinds; reading checks every field and names the fix, since a model file is user input.
// Top-level keys this version does not know are ignored: the CLI adds the history and its settings under extra keys.
import { SCHEDULES, type ScheduleName } from './algorithms/schedules.ts';
import type { BackendInfo } from './backend-choice.ts';
import { InputError } from './errors.ts';
import { METHODS, type Method } from './methods.ts';
import type { PiecewiseModel } from './piecewise/model.ts';
import { checkPiecewiseModel } from './piecewise/checks.ts';
import { matrix, toRows, type Matrix } from './types.ts';
import { VERSION } from './version.ts';
import { COVARIANCES, varianceColumns, VARIANCE_FLOOR, weightsOf, WEIGHTINGS, type Covariance, type StudentParams, type Weights } from './training/student.ts';
import { SCALES, type Scaling } from './scaling.ts';

export const MODEL_FORMAT = 'ddpm-gmm-model';
/**
 * The newest model file version this ddpm-gmm reads. Version 2 added the key `model`: 'student' (version 1's
 * fields) or 'piecewise'. Version 3 is the student extended: the general student's `covariance`, `weights`,
 * `variances` and `mixingWeights` (docs/math.md section 14), and/or the per-feature `scaling` it was fitted in
 * (docs/math.md section 15), which an older reader would ignore and then misread. The paper's student fitted to
 * the data as given is still written as version 1, which every ddpm-gmm reads; a piecewise model is version 2, so
 * that an older ddpm-gmm says to upgrade instead of calling the file damaged.
 */
export const MODEL_VERSION = 3;
/** The two score models: the paper's student (a balanced spherical mixture) and the piecewise model. */
export type ModelKind = 'student' | 'piecewise';
export const MODEL_KINDS: readonly ModelKind[] = ['student', 'piecewise'];

/**
 * The student's model file (version 1). The model is the balanced spherical mixture (1/K) sum_i N(mu_i, I) of
 * docs/math.md section 1: the means are its only parameters (equal weights and identity covariances are fixed).
 */
export interface ModelFile {
  readonly format: typeof MODEL_FORMAT;
  /** 1 for the paper's student on the data as given; 3 for a general student or a scaled fit. */
  readonly version: 1 | 3;
  /** Version 3: 'student'. */
  readonly model?: 'student';
  /** 'ddpm-gmm <version>' of the writer. */
  readonly createdBy: string;
  /** K. */
  readonly nComponents: number;
  /** d. */
  readonly dimension: number;
  /** K rows of d finite numbers: the centres mu_i. */
  readonly means: number[][];
  readonly method: Method;
  /** The ddpm schedule; null for the other methods. */
  readonly schedule: ScheduleName | null;
  readonly converged: boolean;
  /** Steps of the kept run (over all its stages). */
  readonly nIter: number;
  /** The backend that ran the fit; null when not known. */
  readonly backendUsed: BackendInfo | null;
  /** Version 3: the per-feature scaling z = (x - centre) / scale the model was fitted in; means are in x's units. */
  readonly scaling?: { readonly method: Scaling['method']; readonly centre: number[]; readonly scale: number[] };
}

/** Version 3's fields of the general student (docs/math.md section 14). */
export interface GeneralStudentFields {
  readonly model: 'student';
  readonly covariance: Covariance;
  readonly weights: Weights;
  /** K rows of the unscaled variances c_i: 1 number (spherical), d numbers (diag) or none (identity). */
  readonly variances: number[][];
  /** The K weights pi_i. */
  readonly mixingWeights: number[];
}

/** A fitted model's fields, as the estimator holds them. */
export interface FittedModel {
  readonly means: Matrix;
  /** The general student's variances and weights; absent for the paper's student. */
  readonly student?: StudentParams;
  readonly method: Method;
  readonly schedule: ScheduleName | null;
  readonly converged: boolean;
  readonly nIter: number;
  readonly backendUsed: BackendInfo | null;
  /** Absent or null: the model was fitted to the data as given. */
  readonly scaling?: Scaling | null;
}

/** The model file of a fitted model. */
export function createModelFile(m: FittedModel): ModelFile | (ModelFile & GeneralStudentFields) {
  const general = m.student ? generalFields(m.student) : undefined;
  const extended = general !== undefined || m.scaling != null;
  return {
    format: MODEL_FORMAT,
    version: extended ? 3 : 1,
    ...(extended ? { model: 'student' as const } : {}),
    ...general,
    createdBy: `ddpm-gmm ${VERSION}`,
    nComponents: m.means.rows,
    dimension: m.means.cols,
    means: toRows(m.means),
    method: m.method,
    schedule: m.method === 'ddpm' ? m.schedule : null,
    converged: m.converged,
    nIter: m.nIter,
    backendUsed: m.backendUsed ? { kind: m.backendUsed.kind, adapter: m.backendUsed.adapter, software: m.backendUsed.software } : null,
    ...(m.scaling ? { scaling: { method: m.scaling.method, centre: Array.from(m.scaling.centre), scale: Array.from(m.scaling.scale) } } : {}),
  };
}

/** The general student's fields in the user's terms: c = floor + exp(gamma) and pi = softmax(beta). */
function generalFields(s: StudentParams): GeneralStudentFields {
  const cols = s.gamma.cols;
  const variances = Array.from({ length: s.gamma.rows }, (_, i) => Array.from(s.gamma.data.subarray(i * cols, (i + 1) * cols), (g) => VARIANCE_FLOOR + Math.exp(g)));
  return { model: 'student', covariance: s.covariance, weights: s.weights, variances, mixingWeights: Array.from(weightsOf(s.beta)) };
}

/** Version 3's general student back to its parameters; names the field of a bad value. */
function readGeneral(o: Record<string, unknown>, k: number, d: number): StudentParams | undefined {
  const { covariance, weights } = o;
  if (covariance === undefined && weights === undefined) return undefined;
  if (!COVARIANCES.includes(covariance as Covariance) || !WEIGHTINGS.includes(weights as Weights)) {
    throw new InputError(`the model file's covariance must be one of ${COVARIANCES.join(', ')} and its weights ${WEIGHTINGS.join(' or ')}, got ${shown(covariance)} and ${shown(weights)}; the file is damaged: ${HOW_TO_WRITE}`);
  }
  const cols = varianceColumns(covariance as Covariance, d);
  const c = cols === 0 ? matrix(k, 0) : rowsOf(o['variances'], "the model file's variances", cols);
  const pi = o['mixingWeights'];
  const okPi = Array.isArray(pi) && pi.length === k && pi.every((p) => typeof p === 'number' && p > 0 && Number.isFinite(p));
  if (c.rows !== k || !okPi || c.data.some((v) => !(v >= VARIANCE_FLOOR))) {
    throw new InputError(`the model file's variances must be ${k} rows of ${cols} numbers >= ${VARIANCE_FLOOR} and its mixingWeights ${k} positive numbers; the file is damaged: ${HOW_TO_WRITE}`);
  }
  // c = floor + exp(gamma): a variance at the floor keeps a finite gamma far below it.
  const gamma = matrix(k, cols, c.data.map((v) => Math.log(Math.max(v - VARIANCE_FLOOR, 1e-300))));
  return { covariance: covariance as Covariance, weights: weights as Weights, gamma, beta: Float64Array.from(pi as number[], Math.log) };
}

const HOW_TO_WRITE = "write one with DdpmGmm.toJSON() or 'ddpm-gmm fit --out model.json'";

/** The piecewise model's file (version 2): the model's own fields under `score`, matrices as arrays of rows. */
export interface PiecewiseModelFile {
  readonly format: typeof MODEL_FORMAT;
  readonly version: 2;
  readonly model: 'piecewise';
  readonly createdBy: string;
  /** d. */
  readonly dimension: number;
  /** The PiecewiseModel: kind, d, degree, interpolation, levels [{ t, cells, coef, ... }] and any further fields. */
  readonly score: Record<string, unknown>;
  /** The backend that ran the fit; null when not known. */
  readonly backendUsed: BackendInfo | null;
}

/** A fitted piecewise model's fields, as its estimator holds them. */
export interface FittedPiecewise {
  readonly score: PiecewiseModel;
  readonly backendUsed: BackendInfo | null;
}

/** What readModelFile found: either kind, with the writer's name. */
export type ModelFileContents =
  | (FittedModel & { readonly kind: 'student'; readonly createdBy: string })
  | (FittedPiecewise & { readonly kind: 'piecewise'; readonly createdBy: string });

function isMatrix(v: unknown): v is Matrix {
  return isRecord(v) && v['data'] instanceof Float64Array && typeof v['rows'] === 'number' && typeof v['cols'] === 'number';
}

/** Every field of the model and its levels, matrices as rows: fields added to PiecewiseModel later survive the file. */
function jsonFields(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, isMatrix(v) ? toRows(v) : v]));
}

/** The model file of a fitted piecewise model. */
export function createPiecewiseModelFile(m: FittedPiecewise): PiecewiseModelFile {
  const score = { ...jsonFields(m.score), levels: m.score.levels.map((level) => jsonFields(level)) };
  return {
    format: MODEL_FORMAT,
    version: 2,
    model: 'piecewise',
    createdBy: `ddpm-gmm ${VERSION}`,
    dimension: m.score.d,
    score,
    backendUsed: m.backendUsed ? { kind: m.backendUsed.kind, adapter: m.backendUsed.adapter, software: m.backendUsed.software } : null,
  };
}

/** A value as a message shows it: short, and saying what kind of thing it is. */
function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function wholeNumber(o: Record<string, unknown>, key: string, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InputError(`the model file's ${key} must be a whole number >= ${min}, got ${shown(v)}; the file is damaged: ${HOW_TO_WRITE}`);
  }
  return v;
}

/**
 * Reads a student model file (DdpmGmm.fromJSON): the parsed JSON, or its text. Throws an InputError that names
 * the field for anything that is not a ddpm-gmm student model with consistent shapes and finite means, and
 * says where a piecewise model file goes.
 */
export function parseModelFile(json: unknown): FittedModel & { readonly createdBy: string } {
  const file = readModelFile(json);
  if (file.kind !== 'student') {
    throw new InputError("this is a piecewise model file, a score with no mixture components to predict or score with: sample from it with PiecewiseScoreModel.fromJSON, loadModel or 'ddpm-gmm sample'");
  }
  return file;
}

/**
 * Reads a model file of either kind: the parsed JSON, or its text. Throws an InputError that names the field
 * for anything that is not a ddpm-gmm model of a version this reads, with consistent shapes and finite numbers.
 */
export function readModelFile(json: unknown): ModelFileContents {
  let o: unknown = json;
  if (typeof json === 'string') {
    try {
      o = JSON.parse(json);
    } catch (e) {
      throw new InputError(`the model file is not valid JSON (${e instanceof Error ? e.message : String(e)}); ${HOW_TO_WRITE}`);
    }
  }
  if (!isRecord(o)) throw new InputError(`a ddpm-gmm model file is a JSON object, got ${shown(o)}; ${HOW_TO_WRITE}`);
  if (o['format'] !== MODEL_FORMAT) {
    throw new InputError(`this is not a ddpm-gmm model file (format is ${shown(o['format'])}, expected "${MODEL_FORMAT}"); ${HOW_TO_WRITE}`);
  }
  const version = o['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InputError(`the model file's version must be a whole number >= 1, got ${shown(version)}; the file is damaged: ${HOW_TO_WRITE}`);
  }
  const createdBy = typeof o['createdBy'] === 'string' ? o['createdBy'] : undefined;
  if (version > MODEL_VERSION) {
    throw new InputError(
      `model file version ${version} is newer than this ddpm-gmm reads (${MODEL_VERSION})${createdBy ? `; it was written by ${createdBy}` : ''}; upgrade ddpm-gmm (this is ${VERSION})`,
    );
  }
  if (createdBy === undefined) throw new InputError(`the model file's createdBy must be a string such as "ddpm-gmm ${VERSION}", got ${shown(o['createdBy'])}`);
  const kind = version === 1 ? 'student' : o['model'];
  if (!MODEL_KINDS.includes(kind as ModelKind)) {
    throw new InputError(`the model file's model must be ${MODEL_KINDS.map((k) => `"${k}"`).join(' or ')} (version ${version} names its kind), got ${shown(o['model'])}; the file is damaged: ${HOW_TO_WRITE}`);
  }
  if (kind === 'piecewise') return { kind, ...readPiecewise(o), createdBy };
  return { kind: 'student', ...readStudent(o), createdBy };
}

function readStudent(o: Record<string, unknown>): FittedModel {
  const k = wholeNumber(o, 'nComponents', 1);
  const d = wholeNumber(o, 'dimension', 1);
  const rows = o['means'];
  if (!Array.isArray(rows)) throw new InputError(`the model file's means must be an array of nComponents rows of dimension numbers, got ${shown(rows)}`);
  if (rows.length !== k) throw new InputError(`the model file says nComponents = ${k} but its means have ${rows.length} rows; the file is inconsistent: ${HOW_TO_WRITE}`);
  // Every row's length before allocating: a damaged dimension (1e15) is refused here, not by the allocator.
  rows.forEach((r: unknown, i) => {
    if (!Array.isArray(r)) throw new InputError(`the model file's means row ${i + 1} (1-based) must be an array of ${d} numbers, got ${shown(r)}`);
    if (r.length !== d) throw new InputError(`the model file says dimension = ${d} but its means row ${i + 1} (1-based) has ${r.length} values; the file is inconsistent: ${HOW_TO_WRITE}`);
  });
  const means = matrix(k, d);
  rows.forEach((r: unknown[], i) => {
    r.forEach((v: unknown, c) => {
      // JSON writes NaN and Infinity as null.
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InputError(`the model file's means row ${i + 1}, column ${c + 1} (1-based) is ${shown(v)}, not a finite number; refit the model`);
      }
      means.data[i * d + c] = v;
    });
  });
  const method = o['method'];
  if (!METHODS.includes(method as Method)) throw new InputError(`the model file's method must be one of ${METHODS.join(', ')}, got ${shown(method)}`);
  const schedule = o['schedule'];
  if (schedule !== null && !SCHEDULES.includes(schedule as ScheduleName)) {
    throw new InputError(`the model file's schedule must be one of ${SCHEDULES.join(', ')} or null, got ${shown(schedule)}`);
  }
  if (method === 'ddpm' && schedule === null) throw new InputError("the model file's schedule is null, but method 'ddpm' always has one; the file is damaged");
  if (typeof o['converged'] !== 'boolean') throw new InputError(`the model file's converged must be true or false, got ${shown(o['converged'])}`);
  const nIter = wholeNumber(o, 'nIter', 0);
  const student = readGeneral(o, k, d);
  return {
    means,
    ...(student ? { student } : {}),
    method: method as Method,
    schedule: method === 'ddpm' ? (schedule as ScheduleName) : null,
    converged: o['converged'],
    nIter,
    backendUsed: parseBackendInfo(o['backendUsed']),
    scaling: o['scaling'] === undefined ? null : parseScaling(o['scaling'], d),
  };
}

function parseScaling(v: unknown, d: number): Scaling {
  const methods = SCALES.filter((m) => m !== 'none');
  if (!isRecord(v) || !methods.includes(v['method'] as never)) {
    throw new InputError(`the model file's scaling must be { method: ${methods.map((m) => `"${m}"`).join(' | ')}, centre, scale }, got ${shown(isRecord(v) ? v['method'] : v)}; the file is damaged: ${HOW_TO_WRITE}`);
  }
  const vector = (key: 'centre' | 'scale'): Float64Array => {
    const a = v[key];
    if (!Array.isArray(a) || a.length !== d || a.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (key === 'scale' && x <= 0))) {
      throw new InputError(`the model file's scaling.${key} must be ${d} finite numbers${key === 'scale' ? ' > 0' : ''} (one per dimension), got ${shown(a)}; the file is damaged: ${HOW_TO_WRITE}`);
    }
    return Float64Array.from(a as number[]);
  };
  return { method: v['method'] as Scaling['method'], centre: vector('centre'), scale: vector('scale') };
}

/** Rows of `cols` finite numbers, as a Matrix; `what` names the field. */
function rowsOf(v: unknown, what: string, cols: number): Matrix {
  if (!Array.isArray(v) || v.length < 1) throw new InputError(`${what} must be a non-empty array of rows of ${cols} numbers, got ${shown(v)}; the file is damaged: ${HOW_TO_WRITE}`);
  v.forEach((r: unknown, i) => {
    if (!Array.isArray(r) || r.length !== cols) throw new InputError(`${what} row ${i + 1} (1-based) must be an array of ${cols} numbers, got ${shown(r)}; the file is damaged`);
  });
  const m = matrix(v.length, cols);
  v.forEach((r: unknown[], i) => {
    r.forEach((x: unknown, c) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`${what} row ${i + 1}, column ${c + 1} (1-based) is ${shown(x)}, not a finite number; refit the model`);
      m.data[i * cols + c] = x;
    });
  });
  return m;
}

/** A field of a level: cells and coef as matrices; another array of rows as a matrix too; the rest as written. */
function levelField(key: string, v: unknown, what: string, d: number): unknown {
  if (key === 'cells' || key === 'coef') return rowsOf(v, `${what}'s ${key}`, d);
  if (Array.isArray(v) && v.length > 0 && v.every(Array.isArray)) return rowsOf(v, `${what}'s ${key}`, (v[0] as unknown[]).length);
  return v;
}

function readPiecewise(o: Record<string, unknown>): FittedPiecewise {
  const d = wholeNumber(o, 'dimension', 1);
  const s = o['score'];
  if (!isRecord(s)) throw new InputError(`the piecewise model file's score must be an object (the model's levels), got ${shown(s)}; the file is damaged: ${HOW_TO_WRITE}`);
  if (s['kind'] !== 'piecewise') throw new InputError(`the piecewise model file's score.kind must be "piecewise", got ${shown(s['kind'])}; the file is damaged`);
  if (s['d'] !== d) throw new InputError(`the model file says dimension = ${d} but its score has d = ${shown(s['d'])}; the file is inconsistent: ${HOW_TO_WRITE}`);
  const levels = s['levels'];
  if (!Array.isArray(levels) || levels.length < 1) throw new InputError(`the piecewise model file's score.levels must be a non-empty array of levels, got ${shown(levels)}; the file is damaged`);
  const parsed = levels.map((level: unknown, l) => {
    const what = `the model file's level ${l + 1} (1-based)`;
    if (!isRecord(level)) throw new InputError(`${what} must be an object { t, cells, coef }, got ${shown(level)}; the file is damaged`);
    if (typeof level['t'] !== 'number') throw new InputError(`${what}'s t must be a number > 0, got ${shown(level['t'])}; the file is damaged`);
    return Object.fromEntries(Object.entries({ cells: undefined, coef: undefined, ...level }).map(([k, v]) => [k, levelField(k, v, what, d)]));
  });
  const score = { ...s, levels: parsed } as unknown as PiecewiseModel;
  try {
    checkPiecewiseModel(score);
  } catch (e) {
    throw e instanceof InputError ? new InputError(`the model file does not describe a valid piecewise model: ${e.message}`) : e;
  }
  return { score, backendUsed: parseBackendInfo(o['backendUsed']) };
}

function parseBackendInfo(v: unknown): BackendInfo | null {
  if (v === null) return null;
  const ok = isRecord(v) && (v['kind'] === 'gpu' || v['kind'] === 'cpu') && typeof v['adapter'] === 'string' && typeof v['software'] === 'boolean';
  if (!ok) throw new InputError(`the model file's backendUsed must be null or { kind: "gpu" | "cpu", adapter: string, software: boolean }, got ${shown(v)}`);
  return { kind: v['kind'] as 'gpu' | 'cpu', adapter: v['adapter'] as string, software: v['software'] as boolean };
}
