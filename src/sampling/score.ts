// The score of the balanced mixture (1/K) sum_i N(a mu_i, I) at forward time t = -ln a (docs/math.md
// sections 3 and 11): the learned student, the tied student (centres m, -m) and the true q_t alike.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';
import { requireFinite } from '../validate.ts';
import { shiftedExps } from '../math/softmax.ts';

/** Reused buffers of scoreRowInto for K centres in d dimensions. */
export interface ScoreScratch {
  /** The scaled centres a mu_i, K x d, set by scaleCentresInto. */
  readonly scaled: Float64Array;
  readonly logits: Float64Array;
}

export function scoreScratch(K: number, d: number): ScoreScratch {
  return { scaled: new Float64Array(K * d), logits: new Float64Array(K) };
}

/** scaled = a mu, computed once per time so every row uses the same rounded centres. */
export function scaleCentresInto(mu: Float64Array, a: number, scaled: Float64Array): void {
  for (let i = 0; i < mu.length; i++) scaled[i] = a * mu[i]!;
}

/**
 * s(y) = sum_i w_i(y) m_i - y with w = softmax(-||y - m_i||^2 / 2), the largest logit subtracted first
 * (docs/math.md section 3), for the row y[yOff .. yOff + d) into out[outOff .. outOff + d). m = scratch.scaled.
 */
export function scoreRowInto(
  y: Float64Array,
  yOff: number,
  K: number,
  d: number,
  s: ScoreScratch,
  out: Float64Array,
  outOff: number,
): void {
  const { scaled: m, logits } = s;
  let max = -Infinity;
  for (let i = 0; i < K; i++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += (y[yOff + c]! - m[i * d + c]!) ** 2;
    const l = -sq / 2;
    logits[i] = l;
    if (l > max) max = l;
  }
  const sum = shiftedExps(logits, K, max, logits);
  for (let c = 0; c < d; c++) out[outOff + c] = 0;
  for (let i = 0; i < K; i++) {
    const w = logits[i]! / sum;
    for (let c = 0; c < d; c++) out[outOff + c] += w * m[i * d + c]!;
  }
  for (let c = 0; c < d; c++) out[outOff + c] -= y[yOff + c]!;
}

/** s_t(x) for every row of x, centres mu (K x d) at forward time t >= 0 (docs/math.md section 11). */
export function mixtureScore(x: Matrix, centres: Matrix, t: number): Matrix {
  if (!Number.isFinite(t) || t < 0) throw new InputError(`the score's time t must be a finite number >= 0 (got ${t})`);
  if (centres.rows < 1 || centres.cols !== x.cols) {
    throw new InputError(`the score needs K >= 1 centres with the points' d = ${x.cols} columns (got ${centres.rows} x ${centres.cols})`);
  }
  requireFinite(centres, "the score's centres");
  const { rows: K, cols: d } = centres;
  const s = scoreScratch(K, d);
  scaleCentresInto(centres.data, Math.exp(-t), s.scaled);
  const out = matrix(x.rows, d);
  for (let n = 0; n < x.rows; n++) scoreRowInto(x.data, n * d, K, d, s, out.data, n * d);
  return out;
}
