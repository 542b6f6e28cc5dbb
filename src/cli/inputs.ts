// Reading and checking the matrices a command works on, with errors that name the flag.
import { totalmem } from 'node:os';
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

/**
 * Refuses, before any work, an output of rows x cols float64 values that this machine cannot hold: the matrix
 * and its serialised copy must fit in its memory (os.totalmem), and the matrix in one typed array.
 */
export function requireAllocatable(rows: number, cols: number, flag: string): void {
  const values = rows * cols;
  const gib = (b: number): string => (b / 2 ** 30).toPrecision(3);
  if (values > 2 ** 32 - 1) {
    throw new InputError(`${flag} ${rows} with d = ${cols} makes ${values} values, beyond a JavaScript typed array's limit of 2^32 - 1: use a smaller ${flag}, and run several times with other seeds`);
  }
  const need = 2 * 8 * values;
  if (need > totalmem()) {
    throw new InputError(`${flag} ${rows} with d = ${cols} needs about ${gib(need)} GiB (the samples and their file), more than this machine's ${gib(totalmem())} GiB: use a smaller ${flag}, and run several times with other seeds`);
  }
}
