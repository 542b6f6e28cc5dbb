// Seeded initialisations of the centres: K distinct data rows (fit --init-seed) and
// the warm start of Theorem 16 (demo). Both draw from Philox (MATH.md section 7) on
// streams of their own, so they never correlate with the data or the training noise.
import { noiseBlock } from '../math/philox.ts';
import { philoxNormals } from '../generate.ts';
import { matrix, type Matrix } from '../types.ts';

/** Philox stream for choosing initial data rows. */
export const STREAM_INIT_ROWS = 2;
/** Philox stream for the warm start's displacement directions. */
export const STREAM_WARM_START = 3;

/**
 * A uniform in [0, 1) from Philox block (seed, step 0, n = draw, c4 = 0, stream 2): the angle
 * atan2(z1, z0) of a Box-Muller pair is exactly the uniform angle that produced it.
 */
function uniformDraw(seed: number, draw: number): number {
  const z = noiseBlock(seed, 0, draw, 0, STREAM_INIT_ROWS);
  const u = (Math.atan2(z[1]!, z[0]!) + Math.PI) / (2 * Math.PI);
  return Math.min(u, 1 - Number.EPSILON);
}

/**
 * Indices of K distinct rows of N by a partial Fisher-Yates shuffle: draw j picks uniformly
 * among the N - j rows not yet taken (uniform of draw j from uniformDraw).
 */
export function seededRowIndices(n: number, k: number, seed: number): number[] {
  const swapped = new Map<number, number>();
  const at = (i: number): number => swapped.get(i) ?? i;
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    const pick = j + Math.floor(uniformDraw(seed, j) * (n - j));
    const chosen = at(pick);
    swapped.set(pick, at(j));
    out.push(chosen);
  }
  return out;
}

/** The K x d matrix of the chosen data rows. */
export function seededRows(data: Matrix, k: number, seed: number): Matrix {
  const idx = seededRowIndices(data.rows, k, seed);
  const out = matrix(k, data.cols);
  idx.forEach((r, j) => out.data.set(data.data.subarray(r * data.cols, (r + 1) * data.cols), j * data.cols));
  return out;
}

/**
 * Warm start (paper Theorem 16): each true centre moved by `distance` along its own
 * random unit direction (Philox step 0, n = centre index, stream 3).
 */
export function warmStart(truth: Matrix, distance: number, seed: number): Matrix {
  const { rows: k, cols: d } = truth;
  const out = matrix(k, d, truth.data.slice());
  const dir = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    philoxNormals(seed, 0, j, STREAM_WARM_START, dir);
    let norm = 0;
    for (const v of dir) norm += v * v;
    norm = Math.sqrt(norm);
    for (let c = 0; c < d; c++) out.data[j * d + c] = out.data[j * d + c]! + (distance * dir[c]!) / norm;
  }
  return out;
}
