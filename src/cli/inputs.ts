// Reading and checking the matrices a command works on, with errors that name the flag.
import type { CsvOptions } from '../io/csv.ts';
import { readMatrixFileWithInfo } from '../io/files.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { requireFinite } from '../validate.ts';

/** Reads a matrix file and rejects NaN or Inf, naming the flag and the file; reader warnings go to stderr. */
export function readFiniteMatrix(path: string, what: string, csv: CsvOptions = {}): Matrix {
  const { matrix: m, warnings } = readMatrixFileWithInfo(path, what, csv);
  for (const warning of warnings) process.stderr.write(`ddpm-gmm: warning: ${warning}\n`);
  requireFinite(m, `${what} file '${path}'`);
  return m;
}

/** The --csv-index flag: what to do with a pandas index column in a CSV data file (src/io/csv.ts). */
export function csvIndexFlag(value: string | undefined): CsvOptions {
  if (value === undefined) return {};
  if (value !== 'drop' && value !== 'keep' && value !== 'error') {
    throw new InputError(`--csv-index must be 'drop', 'keep' or 'error', got '${value}'`);
  }
  return { index: value };
}
