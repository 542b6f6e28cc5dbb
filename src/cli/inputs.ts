// Reading and checking the matrices a command works on, with errors that name the flag.
import { readMatrixFile } from '../io/files.ts';
import type { Matrix } from '../types.ts';
import { requireFinite } from '../validate.ts';

/** Reads a matrix file and rejects NaN or Inf, naming the flag and the file; reader warnings go to stderr. */
export function readFiniteMatrix(path: string, what: string): Matrix {
  const m = readMatrixFile(path, what, (warning) => process.stderr.write(`ddpm-gmm: warning: ${warning}\n`));
  requireFinite(m, `${what} file '${path}'`);
  return m;
}
