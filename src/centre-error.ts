// Centre error after matching estimates to the truth (docs/math.md section 10):
// the optimal assignment on the K x K distance matrix by the Hungarian algorithm
// (the `munkres` package, O(K^3)), so K = 64 is as exact as K = 3.
import { munkres } from 'munkres';
import type { Matrix } from './types.ts';

export interface CentreError {
  /** Largest distance between an estimated centre and its matched true centre. */
  readonly max: number;
  /** Mean matched distance. */
  readonly mean: number;
  /** match[i] = index of the true centre matched to estimated centre i. */
  readonly match: number[];
  /** How the matching was found: always the optimal (Hungarian) assignment. */
  readonly method: 'hungarian';
}

function distances(est: Matrix, truth: Matrix): number[][] {
  const d = est.cols;
  const out: number[][] = [];
  for (let i = 0; i < est.rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < truth.rows; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = est.data[i * d + c]! - truth.data[j * d + c]!;
        s += diff * diff;
      }
      row.push(Math.sqrt(s));
    }
    out.push(row);
  }
  return out;
}

/** Matches K estimated to K true centres minimising the summed distance; reports max and mean. */
export function centreError(estimate: Matrix, truth: Matrix): CentreError {
  if (estimate.rows !== truth.rows || estimate.cols !== truth.cols) {
    throw new Error(`centreError: estimate is ${estimate.rows} x ${estimate.cols} but truth is ${truth.rows} x ${truth.cols}`);
  }
  const k = estimate.rows;
  const dist = distances(estimate, truth);
  const match = new Array<number>(k).fill(-1);
  for (const [i, j] of munkres(dist)) match[i] = j;
  const matched = match.map((j, i) => dist[i]![j]!);
  const max = Math.max(...matched);
  const mean = matched.reduce((a, b) => a + b, 0) / k;
  return { max, mean, match, method: 'hungarian' };
}

/** K = 2 symmetric error (docs/math.md section 10): min(||mu - mu*||, ||mu + mu*||) for 1 x d centres. */
export function symmetricError(mu: Matrix, truth: Matrix): number {
  let minus = 0;
  let plus = 0;
  for (let c = 0; c < mu.cols; c++) {
    minus += (mu.data[c]! - truth.data[c]!) ** 2;
    plus += (mu.data[c]! + truth.data[c]!) ** 2;
  }
  return Math.sqrt(Math.min(minus, plus));
}

/** The smallest distance between two rows (Infinity for one row). */
export function minPairwiseDistance(m: Matrix): number {
  let best = Infinity;
  for (let a = 0; a < m.rows; a++) {
    for (let b = a + 1; b < m.rows; b++) {
      let s = 0;
      for (let c = 0; c < m.cols; c++) s += (m.data[a * m.cols + c]! - m.data[b * m.cols + c]!) ** 2;
      best = Math.min(best, Math.sqrt(s));
    }
  }
  return best;
}
