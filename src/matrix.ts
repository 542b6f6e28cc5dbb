// The dense row-major matrix every layer passes around, in a file of its own so that any module can
// import it without reaching the Backend interface.

/** A dense row-major matrix. Float64 on the CPU side; the GPU engine converts. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`matrix: data has ${d.length} entries, expected ${rows} x ${cols}`);
  return { rows, cols, data: d };
}

export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
