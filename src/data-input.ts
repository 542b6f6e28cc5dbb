// Data as people hold it (docs/cli.md, 'Data in TypeScript'): an array of rows, a typed array with its shape
// { data, rows, cols } (row-major; the Matrix type is the Float64Array case), read into the Matrix every layer
// passes around. Anything else gets an InputError that names what was passed.
import { InputError } from './errors.ts';
import { matrix, type Matrix } from './types.ts';

/** A numeric typed array: what NumPy-like code and WebGPU read-backs hand over. */
export type NumericArray =
  | Float64Array | Float32Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** What fit, predict and the rest accept: rows of numbers, or a row-major typed array with its shape (a Matrix is one). */
export type DataInput = readonly (readonly number[])[] | { readonly data: NumericArray | readonly number[]; readonly rows: number; readonly cols: number };

/** What a value is, for a message: 'the string "x"', 'a Map', 'undefined'. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `the ${typeof v} ${String(v)}`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<unknown>).length ?? v.byteLength} without its shape`;
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : `an object with keys ${Object.keys(v as object).slice(0, 5).join(', ') || '(none)'}`;
}

const FORMS = 'number[][] (one array per row), { data: Float64Array | Float32Array | number[], rows, cols } (row-major), or a Matrix';

function isNumericArray(v: unknown): v is NumericArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(typeof BigInt64Array !== 'undefined' && (v instanceof BigInt64Array || v instanceof BigUint64Array));
}

/**
 * The data as a float64 Matrix. A Matrix (Float64Array data) is returned as it is, never copied or written;
 * the other forms are copied. Throws an InputError naming `what` and what was passed for anything else,
 * ragged rows and entries that are not numbers. Finite values are checked later, by the caller.
 */
export function asMatrix(x: unknown, what: string): Matrix {
  if (Array.isArray(x)) return fromRows(x, what);
  if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && 'data' in x) {
    const { data, rows, cols } = x as { data: unknown; rows: unknown; cols: unknown };
    if (typeof rows !== 'number' || typeof cols !== 'number' || !Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) {
      throw new InputError(`${what} has data but its rows and cols are ${describeValue(rows)} and ${describeValue(cols)}: give whole numbers, { data, rows, cols } with data row-major`);
    }
    const length = isNumericArray(data) || Array.isArray(data) ? data.length : undefined;
    if (length === undefined) throw new InputError(`${what}.data is ${describeValue(data)}: give a Float64Array, Float32Array or number[] of rows x cols values, row-major`);
    if (length !== rows * cols) throw new InputError(`${what} says ${rows} x ${cols} but its data holds ${length} values: rows x cols = ${rows * cols} are needed, row-major`);
    if (data instanceof Float64Array) return matrix(rows, cols, data);
    if (Array.isArray(data)) {
      const bad = data.findIndex((v) => typeof v !== 'number');
      if (bad >= 0) throw new InputError(`${what}.data[${bad}] is ${describeValue(data[bad])}, not a number: give numbers only`);
    }
    return matrix(rows, cols, Float64Array.from(data as ArrayLike<number>));
  }
  throw new InputError(`${what} must be ${FORMS}; got ${describeValue(x)}`);
}

function fromRows(x: readonly unknown[], what: string): Matrix {
  if (x.length === 0) return matrix(0, 0);
  const first = x[0];
  if (!Array.isArray(first) && !isNumericArray(first)) {
    const hint = typeof first === 'number' ? `; for one feature per sample write ${what} as [[x1], [x2], ...], for one sample as [[x1, x2, ...]]` : '';
    throw new InputError(`${what} must be ${FORMS}; got an array whose first entry is ${describeValue(first)}${hint}`);
  }
  const cols = (first as ArrayLike<unknown>).length;
  const out = matrix(x.length, cols);
  x.forEach((row, i) => {
    if (!Array.isArray(row) && !isNumericArray(row)) throw new InputError(`${what} row ${i + 1} (1-based) is ${describeValue(row)}, not an array of numbers`);
    const r = row as ArrayLike<unknown>;
    if (r.length !== cols) throw new InputError(`${what} has ragged rows: row ${i + 1} (1-based) has ${r.length} values but row 1 has ${cols}; give every row the same number of columns`);
    for (let c = 0; c < cols; c++) {
      const v = r[c];
      if (typeof v !== 'number') throw new InputError(`${what} row ${i + 1}, column ${c + 1} (1-based) is ${describeValue(v)}, not a number; convert it, e.g. Number(v)`);
      out.data[i * cols + c] = v;
    }
  });
  return out;
}
