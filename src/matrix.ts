// The dense row-major matrix every layer passes around, in a file of its own so that any module can
// import it without reaching the Backend interface.

/** A dense row-major matrix. Float64 on the CPU side; the GPU engine converts. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

import { InputError } from './errors.ts';

/** Allocates rows x cols float64 values, or refuses (InputError) a size beyond a typed array or this process's memory. */
function allocate(rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const size = `a ${rows} x ${cols} matrix (${n} float64 values, ${((8 * n) / 2 ** 30).toPrecision(3)} GiB)`;
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 32 - 1) {
    throw new InputError(`${size} exceeds a JavaScript typed array's limit of 2^32 - 1 values: use fewer rows (a smaller N or --n) or columns`);
  }
  try {
    return new Float64Array(n);
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`${size} cannot be allocated in this process's memory: use fewer rows (a smaller N or --n) or columns`);
    throw e;
  }
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? allocate(rows, cols);
  if (d.length !== rows * cols) throw new Error(`matrix: data has ${d.length} entries, expected ${rows} x ${cols}`);
  return { rows, cols, data: d };
}

export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
