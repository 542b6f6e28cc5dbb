// The versioned model file that DdpmGmm.toJSON writes and DdpmGmm.fromJSON reads: plain JSON, so that a
// model fitted in Node loads in a browser or in other tools. Reading checks every field and names the fix,
// since a model file is user input. Keys this version does not know are ignored: the CLI adds the
// history and its settings under extra keys.
import { SCHEDULES, type ScheduleName } from './algorithms/schedules.ts';
import type { BackendInfo } from './backend-choice.ts';
import { InputError } from './errors.ts';
import { METHODS, type Method } from './methods.ts';
import { matrix, toRows, type Matrix } from './types.ts';
import { VERSION } from './version.ts';

export const MODEL_FORMAT = 'ddpm-gmm-model';
/** The newest model file version this ddpm-gmm reads and the one it writes. */
export const MODEL_VERSION = 1;

/**
 * Version 1 of the model file. The model is the balanced spherical mixture (1/K) sum_i N(mu_i, I) of
 * docs/math.md section 1: the means are its only parameters (equal weights and identity covariances are fixed).
 */
export interface ModelFile {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_VERSION;
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
}

/** A fitted model's fields, as the estimator holds them. */
export interface FittedModel {
  readonly means: Matrix;
  readonly method: Method;
  readonly schedule: ScheduleName | null;
  readonly converged: boolean;
  readonly nIter: number;
  readonly backendUsed: BackendInfo | null;
}

/** The model file of a fitted model. */
export function createModelFile(m: FittedModel): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdBy: `ddpm-gmm ${VERSION}`,
    nComponents: m.means.rows,
    dimension: m.means.cols,
    means: toRows(m.means),
    method: m.method,
    schedule: m.method === 'ddpm' ? m.schedule : null,
    converged: m.converged,
    nIter: m.nIter,
    backendUsed: m.backendUsed ? { kind: m.backendUsed.kind, adapter: m.backendUsed.adapter, software: m.backendUsed.software } : null,
  };
}

const HOW_TO_WRITE = "write one with DdpmGmm.toJSON() or 'ddpm-gmm fit --out model.json'";

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
 * Reads a model file: the parsed JSON, or its text. Throws an InputError that names the field for
 * anything that is not a version-1 ddpm-gmm model with consistent shapes and finite means.
 */
export function parseModelFile(json: unknown): FittedModel & { readonly createdBy: string } {
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
  const k = wholeNumber(o, 'nComponents', 1);
  const d = wholeNumber(o, 'dimension', 1);
  const rows = o['means'];
  if (!Array.isArray(rows)) throw new InputError(`the model file's means must be an array of nComponents rows of dimension numbers, got ${shown(rows)}`);
  if (rows.length !== k) throw new InputError(`the model file says nComponents = ${k} but its means have ${rows.length} rows; the file is inconsistent: ${HOW_TO_WRITE}`);
  const means = matrix(k, d);
  rows.forEach((r: unknown, i) => {
    if (!Array.isArray(r)) throw new InputError(`the model file's means row ${i + 1} (1-based) must be an array of ${d} numbers, got ${shown(r)}`);
    if (r.length !== d) throw new InputError(`the model file says dimension = ${d} but its means row ${i + 1} (1-based) has ${r.length} values; the file is inconsistent: ${HOW_TO_WRITE}`);
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
  return {
    means,
    method: method as Method,
    schedule: method === 'ddpm' ? (schedule as ScheduleName) : null,
    converged: o['converged'],
    nIter,
    backendUsed: parseBackendInfo(o['backendUsed']),
    createdBy,
  };
}

function parseBackendInfo(v: unknown): BackendInfo | null {
  if (v === null) return null;
  const ok = isRecord(v) && (v['kind'] === 'gpu' || v['kind'] === 'cpu') && typeof v['adapter'] === 'string' && typeof v['software'] === 'boolean';
  if (!ok) throw new InputError(`the model file's backendUsed must be null or { kind: "gpu" | "cpu", adapter: string, software: boolean }, got ${shown(v)}`);
  return { kind: v['kind'] as 'gpu' | 'cpu', adapter: v['adapter'] as string, software: v['software'] as boolean };
}
