// The one home of seeded sampling: every seeded start (data rows, the warm start, k-means++, the random
// direction of Theorem 7) draws from Philox (docs/math.md section 7) on its stream from math/streams.ts, so no
// start correlates with the data or the training noise. Same seed, same start, on every backend.
import { philoxNormals } from '../mixtures.ts';
import { noiseBlock } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import { matrix, type Matrix } from '../types.ts';

/**
 * A uniform in [0, 1) from one Philox block on `stream`: the Box-Muller angle atan2(z1, z0) is exactly
 * the uniform that produced it.
 */
export function seededUniform(seed: number, draw: number, stream: number = STREAMS.seeding, step = stream === STREAMS.seeding ? 1 : 0): number {
  const z = noiseBlock(seed, step, draw, 0, stream);
  const u = (Math.atan2(z[1]!, z[0]!) + Math.PI) / (2 * Math.PI);
  return Math.min(u, 1 - Number.EPSILON);
}

/**
 * Indices of K distinct rows of N by a partial Fisher-Yates shuffle: draw j picks uniformly among the
 * N - j rows not yet taken.
 */
export function seededRowIndices(n: number, k: number, seed: number): number[] {
  const swapped = new Map<number, number>();
  const at = (i: number): number => swapped.get(i) ?? i;
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    const pick = j + Math.floor(seededUniform(seed, j, STREAMS.initRows) * (n - j));
    const chosen = at(pick);
    swapped.set(pick, at(j));
    out.push(chosen);
  }
  return out;
}

/** The K x d matrix of K distinct data rows chosen by seededRowIndices. */
export function seededRows(data: Matrix, k: number, seed: number): Matrix {
  const idx = seededRowIndices(data.rows, k, seed);
  const out = matrix(k, data.cols);
  idx.forEach((r, j) => out.data.set(data.data.subarray(r * data.cols, (r + 1) * data.cols), j * data.cols));
  return out;
}

/** Warm start (paper Theorem 16): each true centre moved by `distance` along its own random unit direction. */
export function warmStart(truth: Matrix, distance: number, seed: number): Matrix {
  const { rows: k, cols: d } = truth;
  const out = matrix(k, d, truth.data.slice());
  const dir = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    philoxNormals(seed, 0, j, STREAMS.warmStart, dir);
    let norm = 0;
    for (const v of dir) norm += v * v;
    norm = Math.sqrt(norm);
    for (let c = 0; c < d; c++) out.data[j * d + c] = out.data[j * d + c]! + (distance * dir[c]!) / norm;
  }
  return out;
}

/** A random direction of the given norm (1 x d): the random start of Theorem 7 (docs/math.md section 8.2). */
export function randomDirection(d: number, length: number, seed: number): Matrix {
  const v = new Float64Array(d);
  philoxNormals(seed, 0, 0, STREAMS.seeding, v);
  let s = 0;
  for (const x of v) s += x * x;
  const f = length / Math.sqrt(s);
  for (let c = 0; c < d; c++) v[c] = v[c]! * f;
  return matrix(1, d, v);
}

/**
 * k-means++ seeding (Arthur and Vassilvitskii 2007): the first centre is a uniform data row, each next one
 * a row drawn with probability proportional to its squared distance to the nearest centre chosen so far.
 */
export function kmeansPlusPlus(data: Matrix, k: number, seed: number): Matrix {
  const { rows: n, cols: d } = data;
  const out = matrix(k, d);
  const nearest = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(seededUniform(seed, 0) * n);
  for (let j = 0; j < k; j++) {
    out.data.set(data.data.subarray(pick * d, (pick + 1) * d), j * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (data.data[i * d + c]! - data.data[pick * d + c]!) ** 2;
      if (s < nearest[i]!) nearest[i] = s;
      total += nearest[i]!;
    }
    if (j === k - 1) break;
    let target = seededUniform(seed, j + 1) * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i]!;
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
  return out;
}
