// Opens a data file as a row source by its extension (.csv, .parquet, else .npy), with the chunk size from
// --chunk-rows or a memory budget (chunkRowsFor). Node only.
import { extname } from 'node:path';
import type { CsvOptions } from '../io/csv.ts';
import { openCsvSource, openNpySource, type FileSource } from './files.ts';
import { openParquetSource } from './parquet.ts';
import { chunkRowsFor } from './source.ts';

export function openFileSource(path: string, o: { readonly budget?: number; readonly chunkRows?: number; readonly csv?: CsvOptions; readonly label: string }): Promise<FileSource> {
  const ext = extname(path).toLowerCase();
  const size = (rows: number, cols: number, bytesPerValue: number): number => chunkRowsFor({ budget: o.budget, chunkRows: o.chunkRows, cols, rows, fileBytesPerValue: bytesPerValue });
  if (ext === '.csv') return openCsvSource(path, (cols, b) => size(Number.MAX_SAFE_INTEGER, cols, b), o.csv, o.label);
  if (ext === '.parquet' || ext === '.pq') return openParquetSource(path, size, o.label);
  return openNpySource(path, size, o.label);
}
