// The screened schedule's start (docs/math.md section 9, EM; docs/experiments.md, 'The default for K > 2'):
// many k-means++ starts on a row subsample, a few EM iterations for all of them in each pass over it, and
// the start whose mixture gives the subsample the highest log-likelihood kept. Host float64, so the start is
// the same on every backend.
import { STREAMS } from '../math/streams.ts';
import { matrix, type Matrix } from '../types.ts';
import { seededUniform } from './seeding.ts';

export interface ScreenOptions {
  /** S, the number of k-means++ starts. */
  readonly starts: number;
  /** The subsample's rows (all rows when N is smaller). */
  readonly rows: number;
  /** EM iterations per start on the subsample. */
  readonly iterations: number;
  readonly seed: number;
}

export interface Screen {
  /** The kept start's centres after its EM iterations (K x d). */
  readonly centres: Matrix;
  /** Which start was kept (0-based). */
  readonly best: number;
  /** Each start's average log-likelihood of the subsample after its iterations. */
  readonly logLikelihoods: number[];
  /** The subsample's size. */
  readonly rows: number;
}

/** `rows` distinct rows of the data by a partial Fisher-Yates shuffle on the screen stream (counter step 0). */
export function screenSubsample(data: Matrix, rows: number, seed: number): Matrix {
  const { rows: n, cols: d } = data;
  if (rows >= n) return data;
  const swapped = new Map<number, number>();
  const at = (i: number): number => swapped.get(i) ?? i;
  const out = matrix(rows, d);
  for (let j = 0; j < rows; j++) {
    const pick = j + Math.floor(seededUniform(seed, j, STREAMS.screen, 0) * (n - j));
    const chosen = at(pick);
    swapped.set(pick, at(j));
    out.data.set(data.data.subarray(chosen * d, (chosen + 1) * d), j * d);
  }
  return out;
}

/** Runs the screen: S starts share each pass over the subsample (one E-step each, then their M-steps). */
export function screenStarts(data: Matrix, k: number, o: ScreenOptions): Screen {
  const sub = screenSubsample(data, o.rows, o.seed);
  const { rows: n, cols: d } = sub;
  const S = o.starts;
  const kd = k * d;
  const centres = new Float64Array(S * kd);
  for (let s = 0; s < S; s++) {
    centres.set(greedyKmeansPlusPlus(sub, k, (j) => seededUniform(o.seed, j, STREAMS.screen, 1 + s)), s * kd);
  }
  const sums = new Float64Array(S * kd);
  const weights = new Float64Array(S * k);
  const ll = new Float64Array(S);
  const logits = new Float64Array(k);
  const constant = -0.5 * d * Math.log(2 * Math.PI) - Math.log(k);
  for (let it = 0; it <= o.iterations; it++) {
    sums.fill(0);
    weights.fill(0);
    ll.fill(0);
    for (let i = 0; i < n; i++) {
      const x = i * d;
      for (let s = 0; s < S; s++) {
        const base = s * kd;
        let max = -Infinity;
        for (let j = 0; j < k; j++) {
          let q = 0;
          for (let c = 0; c < d; c++) q += (sub.data[x + c]! - centres[base + j * d + c]!) ** 2;
          logits[j] = -q / 2;
          if (logits[j]! > max) max = logits[j]!;
        }
        let total = 0;
        for (let j = 0; j < k; j++) total += (logits[j] = Math.exp(logits[j]! - max));
        ll[s] = ll[s]! + constant + max + Math.log(total);
        if (it === o.iterations) continue;
        for (let j = 0; j < k; j++) {
          const w = logits[j]! / total;
          weights[s * k + j] = weights[s * k + j]! + w;
          for (let c = 0; c < d; c++) sums[base + j * d + c] = sums[base + j * d + c]! + w * sub.data[x + c]!;
        }
      }
    }
    if (it === o.iterations) break;
    // The M-step of EM (docs/math.md section 9); a centre that lost every point stays where it was.
    for (let s = 0; s < S * k; s++) {
      const w = weights[s]!;
      if (w > 1e-12) for (let c = 0; c < d; c++) centres[s * d + c] = sums[s * d + c]! / w;
    }
  }
  const logLikelihoods = Array.from(ll, (v) => v / n);
  let best = 0;
  for (let s = 1; s < S; s++) if (logLikelihoods[s]! > logLikelihoods[best]!) best = s;
  return { centres: matrix(k, d, centres.slice(best * kd, (best + 1) * kd)), best, logLikelihoods, rows: n };
}

/**
 * Greedy k-means++ (scikit-learn's kmeans_plusplus): each next centre is the best of 2 + floor(ln K)
 * candidates drawn by k-means++, the one that lowers the sum of squared distances to the nearest centre most.
 * `uniform(j)` is the j-th uniform draw. Returns the K x d centres' data.
 */
export function greedyKmeansPlusPlus(data: Matrix, k: number, uniform: (draw: number) => number): Float64Array {
  const { rows: n, cols: d } = data;
  const trials = 2 + Math.floor(Math.log(k));
  const out = new Float64Array(k * d);
  const sq = (i: number, p: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (data.data[i * d + c]! - data.data[p * d + c]!) ** 2;
    return s;
  };
  let nearest = new Float64Array(n);
  let pick = Math.floor(uniform(0) * n);
  for (let i = 0; i < n; i++) nearest[i] = sq(i, pick);
  out.set(data.data.subarray(pick * d, (pick + 1) * d), 0);
  const candidate = new Float64Array(n);
  for (let j = 1; j < k; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += nearest[i]!;
    let bestTotal = Infinity;
    let bestNearest = nearest;
    for (let l = 0; l < trials; l++) {
      let target = uniform(j * trials + l) * total;
      let p = n - 1;
      for (let i = 0; i < n; i++) {
        target -= nearest[i]!;
        if (target < 0) {
          p = i;
          break;
        }
      }
      let sum = 0;
      for (let i = 0; i < n; i++) sum += candidate[i] = Math.min(nearest[i]!, sq(i, p));
      if (sum < bestTotal) {
        bestTotal = sum;
        pick = p;
        bestNearest = candidate.slice();
      }
    }
    nearest = bestNearest;
    out.set(data.data.subarray(pick * d, (pick + 1) * d), j * d);
  }
  return out;
}
