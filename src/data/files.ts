// Row sources on files, Node only: .npy by positioned reads (C and Fortran order) and CSV streamed by byte
// ranges found in one indexing pass. Each read checks that the file still has the size and modification
// time it had when opened, so a file rewritten during a fit stops it with a clear error instead of mixing rows.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { InputError } from '../errors.ts';
import { formatCsv, parseCsvTable, type CsvOptions } from '../io/csv.ts';
import { npyHeader, parseNpyLayout } from '../io/npy.ts';
import { matrix, type Matrix } from '../types.ts';
import { chunkCount, chunkSpan, requireChunkRows, type RowSource } from './source.ts';

/** The bytes read at most per positioned read (a chunk of a wide Fortran file takes one read per column). */
const READ_BLOCK = 1 << 24;

export interface Opened {
  readonly handle: FileHandle;
  readonly size: number;
  readonly mtimeMs: number;
}

export async function openChecked(path: string, label: string): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new InputError(`cannot open ${label}: ${(e as Error).message}`);
  }
  const st = await handle.stat();
  return { handle, size: st.size, mtimeMs: st.mtimeMs };
}

export async function requireUnchanged(f: Opened, label: string): Promise<void> {
  const st = await f.handle.stat();
  if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) {
    throw new InputError(
      `${label} changed while it was being read (size ${f.size} -> ${st.size} bytes, modified ${new Date(st.mtimeMs).toISOString()}); do not rewrite a data file during a fit, then run again`,
    );
  }
}

export async function readAt(f: Opened, into: Uint8Array, position: number, label: string): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const n = Math.min(READ_BLOCK, into.length - done);
    const { bytesRead } = await f.handle.read(into, done, n, position + done);
    if (bytesRead === 0) throw new InputError(`${label} ended early at byte ${position + done}: it was truncated while being read`);
    done += bytesRead;
  }
}

/** What a file source says about itself beyond RowSource: the bytes per value it reads (for the memory budget). */
export interface FileSource extends RowSource {
  readonly fileBytesPerValue: number;
}

/** A .npy file (2-D, float32 or float64, C or Fortran order) read chunk by chunk with positioned reads. */
export async function openNpySource(path: string, chunkRows: number | ((rows: number, cols: number, bytesPerValue: number) => number), label = `data file '${path}'`): Promise<FileSource> {
  const f = await openChecked(path, label);
  try {
    const head = new Uint8Array(Math.min(f.size, 1 << 16));
    await readAt(f, head, 0, label);
    let layout = parseNpyLayout(head, label);
    if (layout.dataStart > head.length) {
      const full = new Uint8Array(layout.dataStart);
      await readAt(f, full, 0, label);
      layout = parseNpyLayout(full, label);
    }
    const { rows, cols, size, fortranOrder, dataStart } = layout;
    const expected = dataStart + rows * cols * size;
    if (f.size !== expected) {
      throw new InputError(`${label} has ${f.size} bytes but its header describes ${expected}; the file is truncated or corrupt, re-save it`);
    }
    const per = typeof chunkRows === 'number' ? chunkRows : chunkRows(rows, cols, size);
    requireChunkRows(per);
    return {
      rows, cols, chunkRows: per, label, fileBytesPerValue: size,
      async chunk(i) {
        const { first, count } = chunkSpan(rows, per, i);
        await requireUnchanged(f, label);
        const bytes = new Uint8Array(count * cols * size);
        if (fortranOrder) {
          // Column c of the chunk is count contiguous values at (c rows + first).
          for (let c = 0; c < cols; c++) await readAt(f, bytes.subarray(c * count * size, (c + 1) * count * size), dataStart + (c * rows + first) * size, label);
        } else {
          await readAt(f, bytes, dataStart + first * cols * size, label);
        }
        const view = new DataView(bytes.buffer);
        const out = matrix(count, cols);
        const at = (q: number): number => (size === 8 ? view.getFloat64(8 * q, true) : view.getFloat32(4 * q, true));
        if (fortranOrder) for (let r = 0; r < count; r++) for (let c = 0; c < cols; c++) out.data[r * cols + c] = at(c * count + r);
        else for (let q = 0; q < out.data.length; q++) out.data[q] = at(q);
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

export function requireFiniteChunk(data: Float64Array, cols: number, firstRow: number, label: string): void {
  for (let q = 0; q < data.length; q++) {
    if (!Number.isFinite(data[q]!)) {
      throw new InputError(`${label} has a non-finite value (${data[q]}) at row ${firstRow + Math.floor(q / cols) + 1}, column ${(q % cols) + 1}; remove or impute it`);
    }
  }
}

const NEWLINE = 0x0a;
/** The text a CSV value takes at most as a float64 written in full (the memory budget's count). */
const CSV_BYTES_PER_VALUE = 25;

/** Whether a line holds data: not blank and not a '#' comment. */
function isDataLine(bytes: Uint8Array, start: number, end: number): boolean {
  for (let q = start; q < end; q++) {
    const b = bytes[q]!;
    if (b === 0x20 || b === 0x09 || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b !== 0x23;
  }
  return false;
}

/**
 * A CSV file read chunk by chunk: one streamed pass finds the byte offset of every chunk's first data line;
 * the delimiter, the header and the index columns are decided once from the file's head, as the whole-file
 * reader decides them (src/io/csv.ts), and every chunk is parsed with those decisions.
 */
export async function openCsvSource(path: string, chunkRowsOf: number | ((cols: number, bytesPerValue: number) => number), options: CsvOptions = {}, label = `data file '${path}'`): Promise<FileSource> {
  const f = await openChecked(path, label);
  try {
    const headBytes = new Uint8Array(Math.min(f.size, 1 << 16));
    await readAt(f, headBytes, 0, label);
    let headEnd = headBytes.length;
    if (headEnd < f.size) headEnd = headBytes.lastIndexOf(NEWLINE) + 1;
    const headText = new TextDecoder().decode(headBytes.subarray(0, headEnd));
    const head = parseCsvTable(headText, label, { ...options, finite: true });
    let headDataLines = 0;
    for (let s = 0, e = 0; s < headEnd; s = e + 1) {
      e = headBytes.indexOf(NEWLINE, s);
      if (e < 0 || e >= headEnd) e = headEnd;
      if (isDataLine(headBytes, s, e)) headDataLines++;
    }
    // The head's data-like lines beyond its rows are the header line (0 or 1).
    const skip = headDataLines - head.matrix.rows;
    const dropped = head.indexColumns.filter((c) => c.action === 'dropped').map((c) => c.column - 1);
    const cols = head.matrix.cols;
    const chunkRows = typeof chunkRowsOf === 'number' ? chunkRowsOf : chunkRowsOf(cols, CSV_BYTES_PER_VALUE);
    requireChunkRows(chunkRows);
    const starts: number[] = [];
    let dataLine = 0;
    const block = new Uint8Array(1 << 20);
    // Whole lines per block: a line cut by the block's end is read again at the start of the next block.
    for (let pos = 0; pos < f.size; ) {
      const n = Math.min(block.length, f.size - pos);
      await readAt(f, block.subarray(0, n), pos, label);
      let s = 0;
      while (s < n) {
        let e = block.indexOf(NEWLINE, s);
        if (e < 0 || e >= n) {
          if (pos + n < f.size) break;
          e = n;
        }
        if (isDataLine(block, s, e)) {
          if (dataLine >= skip && (dataLine - skip) % chunkRows === 0) starts.push(pos + s);
          dataLine++;
        }
        s = e + 1;
      }
      if (s === 0) throw new InputError(`${label} has a line longer than ${block.length} bytes; it is not a numeric CSV`);
      pos += Math.min(s, n);
    }
    const rows = dataLine - skip;
    starts.push(f.size);
    const decoder = new TextDecoder();
    const source: FileSource = {
      rows, cols, chunkRows, label, fileBytesPerValue: CSV_BYTES_PER_VALUE,
      async chunk(i) {
        const { first, count } = chunkSpan(rows, chunkRows, i);
        await requireUnchanged(f, label);
        const bytes = new Uint8Array(starts[i + 1]! - starts[i]!);
        await readAt(f, bytes, starts[i]!, label);
        const table = parseCsvTable(decoder.decode(bytes), label, { delimiter: head.delimiter, index: 'keep', finite: true });
        let m = table.matrix;
        if (dropped.length > 0) m = dropColumns(m.data, m.rows, m.cols, dropped);
        if (m.rows !== count || m.cols !== cols) {
          throw new InputError(`${label}: rows ${first + 1}-${first + count} read as ${m.rows} x ${m.cols}, expected ${count} x ${cols}; check the file for ragged lines`);
        }
        return { firstRow: first, rows: m };
      },
      close: () => f.handle.close(),
    };
    if (chunkCount(source) + 1 !== starts.length) throw new Error(`openCsvSource: ${starts.length - 1} chunk starts for ${chunkCount(source)} chunks`);
    return source;
  } catch (e) {
    await f.handle.close();
    throw e;
  }
}

function dropColumns(data: Float64Array, rows: number, cols: number, drop: readonly number[]) {
  const keep = [...Array(cols).keys()].filter((c) => !drop.includes(c));
  const out = matrix(rows, keep.length);
  for (let r = 0; r < rows; r++) keep.forEach((c, j) => (out.data[r * keep.length + j] = data[r * cols + c]!));
  return out;
}

/** Rows written in order to a .npy (float64) or CSV file through a temporary file, renamed into place at `finish`. */
export interface RowWriter {
  write(rows: Matrix): Promise<void>;
  /** Moves the finished file into place; throws when fewer rows were written than announced. */
  finish(): Promise<void>;
  /** Removes the temporary file (after a failure). */
  abort(): Promise<void>;
}

export async function openRowWriter(path: string, rows: number, cols: number): Promise<RowWriter> {
  const csv = extname(path).toLowerCase() === '.csv';
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const f = await open(tmp, 'w');
  let written = 0;
  if (!csv) await f.write(npyHeader(rows, cols));
  return {
    async write(m) {
      if (m.cols !== cols || written + m.rows > rows) throw new Error(`openRowWriter: ${m.rows} x ${m.cols} rows after ${written} of ${rows} x ${cols}`);
      if (csv) await f.write(formatCsv(m));
      else {
        const bytes = new Uint8Array(8 * m.data.length);
        const view = new DataView(bytes.buffer);
        for (let q = 0; q < m.data.length; q++) view.setFloat64(8 * q, m.data[q]!, true);
        await f.write(bytes);
      }
      written += m.rows;
    },
    async finish() {
      await f.close();
      if (written !== rows) throw new Error(`openRowWriter: ${written} of ${rows} rows written to ${path}`);
      await rename(tmp, path);
    },
    async abort() {
      await f.close().catch(() => {});
      await rm(tmp, { force: true });
    },
  };
}
