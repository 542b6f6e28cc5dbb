// Parquet files as a row source, Node only, through hyparquet: its row-range reads (rowStart, rowEnd) fetch
// only the row groups and column chunks a chunk needs, through positioned reads of the open file that check,
// as the other file sources do, that the file has not changed since it was opened. Every column must be a
// number (FLOAT, DOUBLE, INT32, INT64); the columns are the matrix's, in the file's order.
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer } from 'hyparquet';
import { InputError } from '../errors.ts';
import { matrix } from '../types.ts';
import { openChecked, readAt, requireFiniteChunk, requireUnchanged, type FileSource } from './files.ts';
import { chunkSpan, requireChunkRows } from './source.ts';

const NUMERIC = new Set(['FLOAT', 'DOUBLE', 'INT32', 'INT64']);

/** A Parquet file read chunk by chunk; `chunkRowsOf` gets the shape and the bytes a value takes in memory (8). */
export async function openParquetSource(path: string, chunkRowsOf: number | ((rows: number, cols: number, bytesPerValue: number) => number), label = `data file '${path}'`): Promise<FileSource> {
  const f = await openChecked(path, label);
  try {
    const file: AsyncBuffer = {
      byteLength: f.size,
      async slice(start: number, end?: number) {
        await requireUnchanged(f, label);
        const bytes = new Uint8Array((end ?? f.size) - start);
        await readAt(f, bytes, start, label);
        return bytes.buffer;
      },
    };
    let metadata;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (e) {
      throw new InputError(`${label} is not a readable Parquet file (${(e as Error).message}); write it with pandas' to_parquet or pyarrow`);
    }
    const leaves = parquetSchema(metadata).children;
    const bad = leaves.find((c) => c.children.length > 0 || !NUMERIC.has(c.element.type ?? ''));
    if (bad) {
      throw new InputError(`${label} has column '${bad.element.name}' of type ${bad.element.type ?? 'group'}; every column must be a number (float, double, int32 or int64): select the numeric columns before writing it`);
    }
    const rows = Number(metadata.num_rows);
    const cols = leaves.length;
    const per = typeof chunkRowsOf === 'number' ? chunkRowsOf : chunkRowsOf(rows, cols, 8);
    requireChunkRows(per);
    return {
      rows, cols, chunkRows: per, label, fileBytesPerValue: 8,
      async chunk(i) {
        const { first, count } = chunkSpan(rows, per, i);
        const out = matrix(count, cols);
        await parquetRead({
          file, metadata, rowStart: first, rowEnd: first + count,
          onComplete: (got: unknown[][]) => {
            if (got.length !== count) throw new InputError(`${label}: rows ${first + 1}-${first + count} read as ${got.length} rows`);
            got.forEach((row, r) => row.forEach((v, c) => (out.data[r * cols + c] = v === null || v === undefined ? NaN : Number(v))));
          },
        });
        requireFiniteChunk(out.data, cols, first, label);
        return { firstRow: first, rows: out };
      },
      close: () => f.handle.close(),
    };
  } catch (e) {
    await f.handle.close();
    throw e;
  }
}
