// NumPy .npy files (format versions 1.0, 2.0 and 3.0): little-endian float32 or
// float64, exactly 2-D, in C order or Fortran order (transposed on read). Spec: numpy.lib.format (NEP 1).
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

export type FloatDtype = 'float32' | 'float64';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** NumPy pads the whole preamble + header to a multiple of 64 bytes so the data is aligned. */
const HEADER_ALIGN = 64;

/** True when the bytes start with the .npy magic string. */
export function hasNpyMagic(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  return MAGIC.every((b, i) => bytes[i] === b);
}

interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

/** Parses the header dict literal, e.g. {'descr': '<f8', 'fortran_order': ${order === 'F' ? 'True' : 'False'}, 'shape': (3, 4), }. */
function parseHeaderDict(text: string, label: string): NpyHeader {
  const bad = (what: string): InputError =>
    new InputError(`${label} has a malformed .npy header (${what}); re-save it with np.save(path, x)`);
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new InputError(
        `${label} has a structured dtype; save a plain float array: np.save(path, x.astype(np.float64))`,
      );
    }
    throw bad("no 'descr' entry");
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortran) throw bad("no 'fortran_order' entry");
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shapeMatch) throw bad("no 'shape' entry");
  const parts = shapeMatch[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((p) => {
    // Python 2 era files may write long integers as "3L".
    const v = Number(p.replace(/L$/, ''));
    if (!Number.isSafeInteger(v) || v < 0) throw bad(`shape entry '${p}' is not a size`);
    return v;
  });
  return { descr: descr[2]!, fortranOrder: fortran[1] === 'True', shape };
}

function itemSize(descr: string, label: string): { size: 4 | 8; dtype: FloatDtype } {
  // '|' and '=' would only be written for byte-order-free or native types; accept '<' only.
  if (descr === '<f8') return { size: 8, dtype: 'float64' };
  if (descr === '<f4') return { size: 4, dtype: 'float32' };
  if (descr === '>f8' || descr === '>f4') {
    throw new InputError(
      `${label} is big-endian ('${descr}'); save it little-endian: np.save(path, x.astype('<f8'))`,
    );
  }
  throw new InputError(
    `${label} has dtype '${descr}'; save it as float32 or float64: np.save(path, x.astype(np.float64))`,
  );
}

function shapeText(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** What a .npy header says: the shape, the item size, the order, and where the data start. */
export interface NpyLayout {
  readonly rows: number;
  readonly cols: number;
  readonly size: 4 | 8;
  readonly fortranOrder: boolean;
  readonly dataStart: number;
}

/**
 * Reads the preamble and header of a 2-D float .npy file from its first bytes (a prefix of the file that holds
 * the whole header is enough).
 */
export function parseNpyLayout(bytes: Uint8Array, label: string): NpyLayout {
  if (!hasNpyMagic(bytes)) {
    throw new InputError(`${label} is not a .npy file (it does not start with the \\x93NUMPY magic bytes)`);
  }
  if (bytes.length < 10) throw new InputError(`${label} is truncated inside the .npy header; re-save it`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError(`${label} is truncated inside the .npy header; re-save it`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new InputError(
      `${label} uses .npy format version ${major}.${bytes[7]}, which is not supported (1.0, 2.0 and 3.0 are); re-save it with np.save`,
    );
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) throw new InputError(`${label} is truncated inside the .npy header; re-save it`);
  // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are latin-1, a subset for the keys we read.
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeaderDict(headerText, label);
  const { size } = itemSize(header.descr, label);
  if (header.shape.length !== 2) {
    const hint =
      header.shape.length === 1
        ? 'for one feature per sample use x.reshape(-1, 1); for one sample use x.reshape(1, -1)'
        : 'reshape it to (samples, dimensions), e.g. x.reshape(x.shape[0], -1)';
    throw new InputError(`${label} has shape ${shapeText(header.shape)} but must be 2-D (rows, columns); ${hint}`);
  }
  const [rows, cols] = header.shape as [number, number];
  return { rows, cols, size, fortranOrder: header.fortranOrder && rows > 1 && cols > 1, dataStart };
}

/**
 * Parses a .npy file into a float64 Matrix.
 * @param label how to name the file in errors, e.g. "data (--data) file 'x.npy'".
 */
export function parseNpy(bytes: Uint8Array, label: string): Matrix {
  const { rows, cols, size, fortranOrder, dataStart } = parseNpyLayout(bytes, label);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = { shape: [rows, cols] };
  const count = rows * cols;
  const expected = count * size;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    throw new InputError(
      `${label} is truncated: shape ${shapeText(header.shape)} needs ${expected} data bytes but the file has ${actual}; re-save or re-copy it`,
    );
  }
  if (actual > expected) {
    throw new InputError(
      `${label} has ${actual - expected} bytes after the data its header describes; the file is corrupt, re-save it`,
    );
  }
  const out = new Float64Array(count);
  // Fortran order stores column after column (what NumPy's X[:, mask] and X.T save): entry i of the file is
  // row i % rows, column floor(i / rows).
  const at = fortranOrder ? (i: number): number => (i % rows) * cols + Math.floor(i / rows) : (i: number): number => i;
  // DataView: the data offset need not be aligned for a typed-array view.
  if (size === 8) for (let i = 0; i < count; i++) out[at(i)] = view.getFloat64(dataStart + 8 * i, true);
  else for (let i = 0; i < count; i++) out[at(i)] = view.getFloat32(dataStart + 4 * i, true);
  return matrix(rows, cols, out);
}

/** The preamble and header of a version 1.0 .npy file of a rows x cols matrix in C (or Fortran) order; the data follow it. */
export function npyHeader(rows: number, cols: number, dtype: FloatDtype = 'float64', order: 'C' | 'F' = 'C'): Uint8Array {
  const descr = dtype === 'float64' ? '<f8' : '<f4';
  let dict = `{'descr': '${descr}', 'fortran_order': ${order === 'F' ? 'True' : 'False'}, 'shape': (${rows}, ${cols}), }`;
  // Preamble is 10 bytes (magic, version, uint16 length); header ends with '\n'.
  const unpadded = 10 + dict.length + 1;
  const pad = (HEADER_ALIGN - (unpadded % HEADER_ALIGN)) % HEADER_ALIGN;
  dict = dict + ' '.repeat(pad) + '\n';
  if (dict.length > 0xffff) throw new Error('serializeNpy: header too long for format 1.0');
  const bytes = new Uint8Array(10 + dict.length);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) bytes[10 + i] = dict.charCodeAt(i);
  return bytes;
}

/** Serialises a Matrix as a version 1.0 .npy file, little endian; C order (row after row) unless 'F' (column after column). */
export function serializeNpy(m: Matrix, dtype: FloatDtype = 'float64', order: 'C' | 'F' = 'C'): Uint8Array {
  if (m.data.length !== m.rows * m.cols) {
    throw new Error(`serializeNpy: matrix has ${m.data.length} entries, expected ${m.rows} x ${m.cols}`);
  }
  const size = dtype === 'float64' ? 8 : 4;
  const header = npyHeader(m.rows, m.cols, dtype, order);
  const dataStart = header.length;
  const bytes = new Uint8Array(dataStart + m.data.length * size);
  bytes.set(header, 0);
  const view = new DataView(bytes.buffer);
  const { rows, cols } = m;
  // Entry i of the file: in C order entry i of the matrix, in Fortran order row i % rows, column floor(i / rows).
  const at = order === 'F' ? (i: number): number => (i % rows) * cols + Math.floor(i / rows) : (i: number): number => i;
  if (size === 8) for (let i = 0; i < m.data.length; i++) view.setFloat64(dataStart + 8 * i, m.data[at(i)]!, true);
  else for (let i = 0; i < m.data.length; i++) view.setFloat32(dataStart + 4 * i, m.data[at(i)]!, true);
  return bytes;
}

