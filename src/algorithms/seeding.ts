// Seeded starting points of the schedules and baselines, from Philox (MATH.md section 7) on a stream of
// their own (4), so they never correlate with the data (1), the row draws (2), the warm start (3) or the
// training noise (0). Same seed, same start, on every backend.
import { philoxNormals } from '../generate.ts';
import { noiseBlock } from '../math/philox.ts';
import { matrix, type Matrix } from '../types.ts';

export const STREAM_ALGORITHM_SEEDING = 4;

/** A uniform in [0, 1): the Box-Muller angle atan2(z1, z0) is exactly the uniform that produced it. */
export function seededUniform(seed: number, draw: number): number {
  const z = noiseBlock(seed, 1, draw, 0, STREAM_ALGORITHM_SEEDING);
  const u = (Math.atan2(z[1]!, z[0]!) + Math.PI) / (2 * Math.PI);
  return Math.min(u, 1 - Number.EPSILON);
}

/** A random direction of the given norm (1 x d): the random start of Theorem 7 (MATH.md section 8.2). */
export function randomDirection(d: number, length: number, seed: number): Matrix {
  const v = new Float64Array(d);
  philoxNormals(seed, 0, 0, STREAM_ALGORITHM_SEEDING, v);
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

/** K distinct data rows drawn uniformly (a partial Fisher-Yates shuffle). */
export function randomRows(data: Matrix, k: number, seed: number): Matrix {
  const { rows: n, cols: d } = data;
  const swapped = new Map<number, number>();
  const at = (i: number): number => swapped.get(i) ?? i;
  const out = matrix(k, d);
  for (let j = 0; j < k; j++) {
    const p = j + Math.floor(seededUniform(seed, 1000 + j) * (n - j));
    const chosen = at(p);
    swapped.set(p, at(j));
    out.data.set(data.data.subarray(chosen * d, (chosen + 1) * d), j * d);
  }
  return out;
}
