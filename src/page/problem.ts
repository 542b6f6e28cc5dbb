// The data of a run: a generated mixture (with its truth) or a file from disk. Files are
// parsed from their bytes with the same .npy and CSV readers as the CLI, so a bad file
// gets the same message. The run's start and plan are in start.ts.
import { InputError } from '../errors.ts';
import { generateMixture } from '../mixtures.ts';
import { decodeMatrix, type DecodedMatrix } from '../io/matrix-bytes.ts';
import type { Matrix } from '../types.ts';
import { requireFinite } from '../validate.ts';
import type { Settings } from './settings.ts';

/** The page's data (not the algorithms' Problem, which is what the loop's backend sees: start.ts builds that). */
export interface PageData {
  readonly data: Matrix;
  /** The true centres when the data were generated. */
  readonly truth?: Matrix;
  readonly source: { readonly kind: 'generated' } | { readonly kind: 'file'; readonly name: string };
}

/** An N x d matrix from the bytes of a .npy or CSV file (decodeMatrix), with the reader's warnings. */
export function parseMatrixBytes(bytes: Uint8Array, name: string): DecodedMatrix {
  const label = `The file '${name}'`;
  const decoded = decodeMatrix(bytes, label);
  requireFinite(decoded.matrix, label);
  return decoded;
}

export function generatedData(s: Settings): PageData {
  const { data, truth } = generateMixture({ k: s.k, d: s.d, n: s.n, separation: s.separation, seed: s.seed });
  return { data, truth, source: { kind: 'generated' } };
}

export function fileData(data: Matrix, name: string, k: number): PageData {
  if (data.rows < k) throw new InputError(`The file '${name}' has ${data.rows} rows but K = ${k}: use a smaller K or more data.`);
  return { data, source: { kind: 'file', name } };
}
