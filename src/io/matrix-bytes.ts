// One reader for a matrix given as bytes, shared by the CLI's files and the page's uploads: .npy by its
// magic bytes, otherwise UTF-8 CSV (delimiter, header and index column detected by csv.ts).
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { parseCsvTable, type CsvOptions } from './csv.ts';
import { hasNpyMagic, parseNpy } from './npy.ts';

export interface DecodedMatrix {
  readonly matrix: Matrix;
  /** Column names from a CSV header line, when the file has one. */
  readonly header: readonly string[] | undefined;
  /** Things the reader did that the user should know (a dropped index column); one line each. */
  readonly warnings: readonly string[];
}

/**
 * Decodes an N x d matrix (N, d >= 1) from a file's bytes.
 * @param label names the input in errors, e.g. "data (--data) file 'X.csv'".
 */
export function decodeMatrix(bytes: Uint8Array, label: string, options: CsvOptions = {}): DecodedMatrix {
  if (bytes.length === 0) throw new InputError(`${label} is empty; it must be a .npy file or numeric CSV`);
  let decoded: DecodedMatrix;
  if (hasNpyMagic(bytes)) decoded = { matrix: parseNpy(bytes, label), header: undefined, warnings: [] };
  else {
    const table = parseCsvTable(decodeText(bytes, label), label, options);
    decoded = { matrix: table.matrix, header: table.header, warnings: table.warnings };
  }
  const m = decoded.matrix;
  if (m.rows === 0 || m.cols === 0) {
    throw new InputError(`${label} holds a ${m.rows} x ${m.cols} matrix; it needs at least one row and one column`);
  }
  return decoded;
}

/** Decodes bytes as UTF-8 text, rejecting binary content. */
function decodeText(bytes: Uint8Array, label: string): string {
  const neither = new InputError(
    `${label} is neither a .npy file nor CSV (no \\x93NUMPY magic bytes, and not UTF-8 text); save the array with np.save(path, x) or as comma-separated numbers`,
  );
  // NUL bytes never occur in text; they are the usual mark of a binary file.
  if (bytes.includes(0)) throw neither;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw neither;
  }
}
