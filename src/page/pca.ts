// A 2-D view of d-dimensional data: the first two principal components of the data
// (the identity when d <= 2), so the scatter shows the directions of largest spread.
import type { Matrix } from '../types.ts';

export interface Projection {
  /** Maps a d-vector (row `row` of m) to plot coordinates. */
  project(m: Matrix, row: number): [number, number];
  readonly label: string;
}

/** Every row of m in plot coordinates, as uPlot's two series [xs, ys]. */
export function projectRows(projection: Projection, m: Matrix): [number[], number[]] {
  const out: [number[], number[]] = [[], []];
  for (let j = 0; j < m.rows; j++) {
    const [x, y] = projection.project(m, j);
    out[0].push(x);
    out[1].push(y);
  }
  return out;
}

/** Principal axes from at most `maxRows` evenly spaced rows; power iteration with deflation (d x d covariance). */
export function principalProjection(data: Matrix, maxRows = 20000): Projection {
  const d = data.cols;
  if (d === 1) return { project: (m, r) => [m.data[r * m.cols]!, 0], label: 'x1 (d = 1)' };
  if (d === 2) return { project: (m, r) => [m.data[r * 2]!, m.data[r * 2 + 1]!], label: 'x1, x2' };
  const stride = Math.max(1, Math.floor(data.rows / maxRows));
  const mean = new Float64Array(d);
  let count = 0;
  for (let i = 0; i < data.rows; i += stride, count++) for (let c = 0; c < d; c++) mean[c]! += data.data[i * d + c]!;
  for (let c = 0; c < d; c++) mean[c]! /= count;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < data.rows; i += stride) {
    for (let c = 0; c < d; c++) row[c] = data.data[i * d + c]! - mean[c]!;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b]! += row[a]! * row[b]!;
  }
  const axes: Float64Array[] = [];
  for (let axis = 0; axis < 2; axis++) {
    let v = new Float64Array(d).map((_, i) => 1 + ((i * 7919) % 13) / 13); // a fixed start not orthogonal to any axis in practice
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a]! += cov[a * d + b]! * v[b]!;
      for (const u of axes) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += w[c]! * u[c]!;
        for (let c = 0; c < d; c++) w[c]! -= dot * u[c]!;
      }
      const norm = Math.hypot(...w) || 1;
      v = w.map((x) => x / norm);
    }
    axes.push(v);
  }
  const [u1, u2] = axes as [Float64Array, Float64Array];
  return {
    project: (m, r) => {
      let x = 0, y = 0;
      for (let c = 0; c < d; c++) {
        const centred = m.data[r * m.cols + c]! - mean[c]!;
        x += centred * u1[c]!;
        y += centred * u2[c]!;
      }
      return [x, y];
    },
    label: `first two principal components of the data (d = ${d})`,
  };
}
