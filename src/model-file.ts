// The versioned model file that DdpmGmm and PiecewiseScoreModel write with toJSON and read with fromJSON: plain
// JSON, so that a model fitted in Node loads in a browser or in other tools. One reader (readModelFile)
// recognises both kinds; reading checks every field and names the fix, since a model file is user input.
// Top-level keys this version does not know are ignored: the CLI adds the history and its settings under extra keys.
import type { ScheduleName } from './algorithms/schedules.ts';
import type { BackendInfo } from './backend-choice.ts';
import { InputError } from './errors.ts';
import { checkFile, checkWritten, flatRows, isRecord, SchemaError, shown, type ObjectSpec } from './io/schema.ts';
import type { Method } from './methods.ts';
import { MODEL_FORMAT, PIECEWISE_FILE, STUDENT_FILE } from './model-schema.ts';
import type { PiecewiseModel } from './piecewise/model.ts';
import { checkPiecewiseModel } from './piecewise/checks.ts';
import { matrix, toRows, type Matrix } from './types.ts';
import { VERSION } from './version.ts';
import { varianceColumns, VARIANCE_FLOOR, weightsOf, type Covariance, type StudentParams, type Weights } from './training/student.ts';
import type { Scaling } from './scaling.ts';

export { MODEL_FORMAT };
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
  const file: ModelFile | (ModelFile & GeneralStudentFields) = {
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
  checkWritten(STUDENT_FILE, file, file.version, 'model file');
  return file;
}

/** The general student's fields in the user's terms: c = floor + exp(gamma) and pi = softmax(beta). */
function generalFields(s: StudentParams): GeneralStudentFields {
  const cols = s.gamma.cols;
  const variances = Array.from({ length: s.gamma.rows }, (_, i) => Array.from(s.gamma.data.subarray(i * cols, (i + 1) * cols), (g) => VARIANCE_FLOOR + Math.exp(g)));
  return { model: 'student', covariance: s.covariance, weights: s.weights, variances, mixingWeights: Array.from(weightsOf(s.beta)) };
}

/** Version 3's general student back to its parameters: c = floor + exp(gamma), pi = softmax(beta). */
function readGeneral(o: Record<string, unknown>, k: number, d: number): StudentParams | undefined {
  if (o['covariance'] === undefined) return undefined;
  const covariance = o['covariance'] as Covariance;
  const cols = varianceColumns(covariance, d);
  return studentOfFields(covariance, o['weights'] as Weights, matrix(k, cols, flatRows(o['variances'] as number[][], cols)), o['mixingWeights'] as number[]);
}

/** gamma = log(c - floor) and beta = log pi from a file's variances c (K x cols) and mixing weights pi. */
function studentOfFields(covariance: Covariance, weights: Weights, variances: Matrix, mixingWeights: readonly number[]): StudentParams {
  // A variance at the floor keeps a finite gamma far below it.
  const gamma = matrix(variances.rows, variances.cols, variances.data.map((v) => Math.log(Math.max(v - VARIANCE_FLOOR, 1e-300))));
  return { covariance, weights, gamma, beta: Float64Array.from(mixingWeights, Math.log) };
}

/** The student as its model file holds it (what fromJSON reads back): a fitted model and its saved copy give the same bits. */
export function asWritten(s: StudentParams): StudentParams {
  const f = generalFields(s);
  return { ...s, ...studentOfFields(s.covariance, s.weights, matrix(s.gamma.rows, s.gamma.cols, Float64Array.from(f.variances.flat())), f.mixingWeights) };
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
  const file: PiecewiseModelFile = {
    format: MODEL_FORMAT,
    version: 2,
    model: 'piecewise',
    createdBy: `ddpm-gmm ${VERSION}`,
    dimension: m.score.d,
    score,
    backendUsed: m.backendUsed ? { kind: m.backendUsed.kind, adapter: m.backendUsed.adapter, software: m.backendUsed.software } : null,
  };
  checkWritten(PIECEWISE_FILE, file, file.version, 'model file');
  return file;
}

/** The file checked against its kind's declaration (src/model-schema.ts); a failure names the field and the fix. */
function checked(spec: ObjectSpec, o: Record<string, unknown>, version: number): void {
  try {
    checkFile(spec, o, version);
  } catch (e) {
    throw e instanceof SchemaError ? new InputError(`the model file's ${e.message}; the file is damaged: ${HOW_TO_WRITE}`) : e;
  }
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
  if (kind === 'piecewise') return { kind, ...readPiecewise(o, version), createdBy };
  return { kind: 'student', ...readStudent(o, version), createdBy };
}

function readStudent(o: Record<string, unknown>, version: number): FittedModel {
  checked(STUDENT_FILE, o, version);
  const k = o['nComponents'] as number;
  const d = o['dimension'] as number;
  const method = o['method'] as Method;
  const scaling = version >= 3 ? (o['scaling'] as { method: Scaling['method']; centre: number[]; scale: number[] } | undefined) : undefined;
  const student = version >= 3 ? readGeneral(o, k, d) : undefined;
  return {
    means: matrix(k, d, flatRows(o['means'] as number[][], d)),
    ...(student ? { student } : {}),
    method,
    schedule: method === 'ddpm' ? (o['schedule'] as ScheduleName) : null,
    converged: o['converged'] as boolean,
    nIter: o['nIter'] as number,
    backendUsed: backendOf(o['backendUsed']),
    scaling: scaling ? { method: scaling.method, centre: Float64Array.from(scaling.centre), scale: Float64Array.from(scaling.scale) } : null,
  };
}

/** Rows of `cols` finite numbers, as a Matrix; `what` names the field. For a level's fields no declaration names. */
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

/** A level's field: the declared cells and coef as matrices; another array of rows as a matrix too; the rest as written. */
function levelField(key: string, v: unknown, what: string, d: number): unknown {
  if (key === 'cells' || key === 'coef') return matrix((v as number[][]).length, d, flatRows(v as number[][], d));
  if (Array.isArray(v) && v.length > 0 && v.every(Array.isArray)) return rowsOf(v, `${what}'s ${key}`, (v[0] as unknown[]).length);
  return v;
}

function readPiecewise(o: Record<string, unknown>, version: number): FittedPiecewise {
  checked(PIECEWISE_FILE, o, version);
  const d = o['dimension'] as number;
  const s = o['score'] as Record<string, unknown>;
  const levels = (s['levels'] as Record<string, unknown>[]).map((level, l) =>
    Object.fromEntries(Object.entries(level).map(([k, v]) => [k, levelField(k, v, `the model file's level ${l + 1} (1-based)`, d)])),
  );
  const score = { ...s, levels } as unknown as PiecewiseModel;
  try {
    checkPiecewiseModel(score);
  } catch (e) {
    throw e instanceof InputError ? new InputError(`the model file does not describe a valid piecewise model: ${e.message}`) : e;
  }
  return { score, backendUsed: backendOf(o['backendUsed']) };
}

/** A checked backendUsed as the estimator keeps it. */
function backendOf(v: unknown): BackendInfo | null {
  if (!isRecord(v)) return null;
  return { kind: v['kind'] as 'gpu' | 'cpu', adapter: v['adapter'] as string, software: v['software'] as boolean };
}
