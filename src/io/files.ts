// Reading matrices from .npy or CSV files, and atomic writes: every file is
// written whole (temp file in the same directory, then rename) or not at all.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { formatCsv, type CsvOptions } from './csv.ts';
import { decodeMatrix, type DecodedMatrix } from './matrix-bytes.ts';
import { serializeNpy, type FloatDtype } from './npy.ts';

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Reads an N x d matrix from a .npy file (detected by its magic bytes) or CSV, with the CSV's header and
 * warnings (decodeMatrix).
 * @param what names the input in errors, e.g. "data (--data)".
 */
export function readMatrixFileWithInfo(path: string, what: string, options: CsvOptions = {}): DecodedMatrix {
  const label = `${what} file '${path}'`;
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, label);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = errnoCode(e);
    if (code === 'ENOENT') throw new InputError(`${label} does not exist; check the path`);
    if (code === 'EISDIR') throw new InputError(`${label} is a directory, not a file; check the path`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new InputError(`${label} cannot be read (permission denied); check the path and its permissions`);
    }
    throw new InputError(`${label} cannot be read (${e instanceof Error ? e.message : String(e)}); check the path`);
  }
  return decodeMatrix(bytes, label, options);
}

/** What is read from a pipe or a device (not a regular file) at most: its size is not known in advance. */
export const MAX_STREAM_BYTES = 2 ** 30;

/**
 * A file's bytes; a non-regular file (a pipe, /dev/zero) is read up to MAX_STREAM_BYTES and refused beyond.
 * Errors from the file system are thrown as they come, for the caller to name.
 */
export function readFileBounded(path: string, label: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const limit = st.isFile() ? st.size : MAX_STREAM_BYTES;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(st.isFile() ? Math.max(1, limit - total) : 1 << 20);
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (!st.isFile() && total > MAX_STREAM_BYTES) {
        throw new InputError(`${label} is not a regular file and gives more than ${MAX_STREAM_BYTES / 2 ** 30} GiB: save the data to a file first`);
      }
      if (st.isFile() && total >= limit) break;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** readMatrixFileWithInfo's matrix alone; warnings go to `warn` (default: none). */
export function readMatrixFile(path: string, what: string, warn: (message: string) => void = () => {}): Matrix {
  const decoded = readMatrixFileWithInfo(path, what);
  for (const w of decoded.warnings) warn(w);
  return decoded.matrix;
}

export interface WriteMatrixOptions {
  /** Only for .npy: the stored dtype. Default float64. */
  readonly dtype?: FloatDtype;
}

/** The file formats writeMatrixFile can produce, by extension; throws InputError for others. */
export function matrixFormatOf(path: string, what: string): 'npy' | 'csv' {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.csv') return 'csv';
  throw new InputError(`${what} '${path}' must end in .npy or .csv, which selects the file format`);
}

/** Throws InputError unless the directory that `path` would be written into exists. */
export function checkWritableLocation(path: string, what: string): void {
  const dir = dirname(path);
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputError(`${what} '${path}' cannot be written: directory '${dir}' does not exist; create it first`);
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${what} '${path}' is a directory; give a file name`);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
}

/** Serialises a matrix by extension (.npy or .csv) and writes it atomically. */
export function writeMatrixFile(path: string, m: Matrix, options: WriteMatrixOptions = {}): void {
  writeFilesAtomic([{ path, content: () => encodeMatrix(path, m, options) }]);
}

/** Serialises a matrix for the format chosen by the file's extension. */
export function encodeMatrix(path: string, m: Matrix, options: WriteMatrixOptions = {}): Uint8Array | string {
  return matrixFormatOf(path, 'output file') === 'npy' ? serializeNpy(m, options.dtype ?? 'float64') : formatCsv(m);
}

/** Writes text atomically. */
export function writeTextFile(path: string, text: string): void {
  writeFilesAtomic([{ path, content: () => text }]);
}

export interface PendingFile {
  readonly path: string;
  /** Produces the content; called before anything is written, so a failure leaves every target untouched. */
  readonly content: () => Uint8Array | string;
}

/**
 * Writes several files so that each is whole or absent: all contents are produced first,
 * then written to temp files beside their targets, then renamed into place.
 * Temp files are removed on any failure.
 */
export function writeFilesAtomic(files: readonly PendingFile[]): void {
  const contents = files.map((f) => f.content());
  const temps: string[] = [];
  try {
    files.forEach((f, i) => {
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      temps.push(tmp);
      writeWhole(tmp, contents[i]!, f.path);
    });
    files.forEach((f, i) => {
      try {
        renameSync(temps[i]!, f.path);
      } catch (e) {
        throw writeError(f.path, e);
      }
      temps[i] = '';
    });
  } finally {
    for (const tmp of temps) {
      if (tmp === '') continue;
      try {
        unlinkSync(tmp);
      } catch {
        // Already gone (never created): nothing to clean.
      }
    }
  }
}

function writeWhole(tmp: string, content: Uint8Array | string, target: string): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw writeError(target, e);
  }
  try {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf-8') : content;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    // fsync so the rename never exposes a file whose data is still only in the page cache.
    fsyncSync(fd);
  } catch (e) {
    throw writeError(target, e);
  } finally {
    closeSync(fd);
  }
}

function writeError(target: string, e: unknown): InputError {
  const code = errnoCode(e);
  const why =
    code === 'ENOENT'
      ? `directory '${dirname(target)}' does not exist`
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : e instanceof Error
              ? e.message
              : String(e);
  return new InputError(`cannot write '${target}': ${why}; choose another output path`);
}
