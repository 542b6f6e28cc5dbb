// Helpers of the sampling tests: direct draws from a balanced mixture, moments and standard errors.
import { noiseRowInto, philoxInto, seedKey, STREAM_DATA_GENERATOR, uniformFromWord } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';

export function fromRows(rows: number[][]): Matrix {
  return matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
}

/**
 * n i.i.d. draws of (1/K) sum_i N(mu_i, I): a uniform component (word 0 of counter (r, 0, 1, stream)),
 * then the normals of counter step 0. Independent components, like a sampler's output, not n mod K.
 */
export function directSamples(centres: Matrix, n: number, seed: number, stream = STREAM_DATA_GENERATOR): Matrix {
  const { rows: K, cols: d } = centres;
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  const z = new Float64Array(((d + 3) >>> 2) * 4);
  const out = matrix(n, d);
  for (let r = 0; r < n; r++) {
    philoxInto(r, 0, 1, stream, k0, k1, words);
    const comp = Math.min(K - 1, Math.floor(uniformFromWord(words[0]!) * K));
    noiseRowInto(k0, k1, 0, r, d, stream, words, z);
    for (let c = 0; c < d; c++) out.data[r * d + c] = centres.data[comp * d + c]! + z[c]!;
  }
  return out;
}

/** Column means and (n - 1)-normalised variances. */
export function columnMoments(x: Matrix): { mean: number[]; variance: number[] } {
  const { rows: n, cols: d } = x;
  const mean = new Array<number>(d).fill(0);
  const variance = new Array<number>(d).fill(0);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += x.data[r * d + c]! / n;
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) variance[c] += (x.data[r * d + c]! - mean[c]!) ** 2 / (n - 1);
  return { mean, variance };
}

/** Mean and standard error of the mean of a list of values. */
export function meanAndError(v: ArrayLike<number>): { mean: number; se: number } {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i]! / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (n - 1) / n) };
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
