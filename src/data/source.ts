// Row sources: data read in chunks of a fixed number of rows, from memory or (src/data/files.ts, Node only) from
// a file, so that a fit can stream data larger than memory. A chunk's rows keep their global row numbers
// (`firstRow`), which the training noise is indexed by (docs/math.md section 7), so the numbers a chunked fit
// gives depend on the chunk size only, not on where the chunks come from.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

/** One chunk of rows: the rows and the global number of its first row. */
export interface RowChunk {
  readonly firstRow: number;
  readonly rows: Matrix;
}

/** Data in chunks of `chunkRows` rows (the last may be shorter). */
export interface RowSource {
  readonly rows: number;
  readonly cols: number;
  readonly chunkRows: number;
  /** How the source is named in messages ("data (--data) file 'x.npy'"). */
  readonly label: string;
  /** Chunk i (0-based), rows [i chunkRows, min((i + 1) chunkRows, rows)). Throws when the file behind it changed. */
  chunk(i: number): Promise<RowChunk>;
  /** Releases what the source holds (an open file). */
  close(): Promise<void>;
}

export function chunkCount(source: { readonly rows: number; readonly chunkRows: number }): number {
  return Math.ceil(source.rows / source.chunkRows);
}

/** The rows of chunk i: [first, first + count). */
export function chunkSpan(rows: number, chunkRows: number, i: number): { first: number; count: number } {
  const first = i * chunkRows;
  if (!Number.isInteger(i) || i < 0 || first >= rows) throw new Error(`chunk ${i} is outside the ${rows} rows`);
  return { first, count: Math.min(chunkRows, rows - first) };
}

export function requireChunkRows(chunkRows: number): void {
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) {
    throw new InputError(`the chunk size must be a positive whole number of rows (got ${chunkRows}): pass --chunk-rows such as 65536`);
  }
}

/** A matrix in memory, in chunks that are views of its rows (no copy). */
export function matrixSource(x: Matrix, chunkRows: number, label = 'the data'): RowSource {
  requireChunkRows(chunkRows);
  return {
    rows: x.rows,
    cols: x.cols,
    chunkRows,
    label,
    async chunk(i) {
      const { first, count } = chunkSpan(x.rows, chunkRows, i);
      return { firstRow: first, rows: matrix(count, x.cols, x.data.subarray(first * x.cols, (first + count) * x.cols)) };
    },
    async close() {},
  };
}

/** Rows `indices` (global row numbers, any order) of a source, read chunk by chunk: the seeded initial rows of a streamed fit. */
export async function rowsOf(source: RowSource, indices: readonly number[]): Promise<Matrix> {
  const out = matrix(indices.length, source.cols);
  const byChunk = new Map<number, number[]>();
  indices.forEach((row, at) => {
    const c = Math.floor(row / source.chunkRows);
    byChunk.set(c, [...(byChunk.get(c) ?? []), at]);
  });
  for (const [c, ats] of [...byChunk].sort((a, b) => a[0] - b[0])) {
    const { firstRow, rows } = await source.chunk(c);
    for (const at of ats) {
      const r = indices[at]! - firstRow;
      out.data.set(rows.data.subarray(r * source.cols, (r + 1) * source.cols), at * source.cols);
    }
  }
  return out;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size such as 256M, 1.5G, 4096 or 64KiB, in bytes (powers of 1024). */
export function parseSize(text: string, what = 'the memory budget (--memory-budget)'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InputError(`${what} must be a size such as 256M, 2G or 65536 (bytes), got '${text}'`);
  }
  return bytes;
}

/** The chunk size of a streamed fit given neither a chunk size nor a budget. */
export const DEFAULT_CHUNK_ROWS = 65536;

/**
 * The bytes one row of a chunk occupies while it is trained on: two chunks are in flight (one evaluated, the
 * next being read), each as the bytes read (`fileBytesPerValue` per value) and the float64 matrix, plus the
 * float32 rows padded to vec4 that the GPU engine uploads.
 */
export function bytesPerChunkRow(cols: number, fileBytesPerValue: number): number {
  return 2 * cols * (fileBytesPerValue + 8) + 16 * Math.ceil(cols / 4);
}

/**
 * The chunk size a memory budget allows, or the given chunk size checked against it. The budget counts the
 * chunk's buffers, not the runtime itself.
 */
export function chunkRowsFor(o: { readonly budget?: number; readonly chunkRows?: number; readonly cols: number; readonly rows: number; readonly fileBytesPerValue: number }): number {
  const perRow = bytesPerChunkRow(o.cols, o.fileBytesPerValue);
  if (o.chunkRows !== undefined) requireChunkRows(o.chunkRows);
  if (o.budget === undefined) return Math.max(1, Math.min(o.chunkRows ?? DEFAULT_CHUNK_ROWS, o.rows));
  const wanted = Math.min(o.chunkRows ?? Math.max(1, o.rows), Math.max(1, o.rows));
  if (o.budget < perRow * (o.chunkRows === undefined ? 1 : wanted)) {
    const need = perRow * (o.chunkRows === undefined ? 1 : wanted);
    const per = o.chunkRows === undefined ? 'one row' : `--chunk-rows ${wanted}`;
    throw new InputError(
      `the memory budget of ${o.budget} bytes is too small for ${per} of ${o.cols} columns (${perRow} bytes a row); give --memory-budget ${need} or more${o.chunkRows === undefined ? '' : ', or fewer --chunk-rows'}`,
    );
  }
  return o.chunkRows === undefined ? Math.min(wanted, Math.floor(o.budget / perRow)) : wanted;
}
