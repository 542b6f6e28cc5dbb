// Where a sampler and the score error read a score from (docs/math.md sections 11, 13 and 14): the balanced
// mixture of K x d centres (the paper's student and truth), a piecewise model, a general Gaussian mixture with
// full covariances, or the general student (diagonal variances, weights). One evaluator per concurrent time (Heun holds two).
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { mixtureAtTime, mixtureScoreRowInto as mixtureScoreRow, type GaussianMixture, type MixtureAtTime } from '../full-covariance/mixture.ts';
import { piecewiseEvaluator } from '../piecewise/score.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import { checkPiecewiseModel } from '../piecewise/checks.ts';
import { requireFinite } from '../validate.ts';
import { scaleCentresInto, scoreRowInto, scoreScratch } from './score.ts';
import { checkStudentScore, isStudentScore, studentAtTimeInto, studentAtTimeScratch, studentScoreRowInto, type StudentScore } from './student-score.ts';

export type ScoreSource = Matrix | PiecewiseModel | GaussianMixture | StudentScore;

export interface ScoreEvaluator {
  /** Sets the forward time t (a = e^{-t}, passed so the centres scale by the sampler's own a). */
  setTime(t: number, a: number): void;
  /** The score at y[yOff .. yOff + d) into out[outOff .. outOff + d). */
  rowInto(y: Float64Array, yOff: number, out: Float64Array, outOff: number): void;
}

export function isPiecewise(s: ScoreSource): s is PiecewiseModel {
  return (s as { kind?: unknown }).kind === 'piecewise';
}

export function isGaussianMixture(s: ScoreSource): s is GaussianMixture {
  return (s as { kind?: unknown }).kind === 'gaussian-mixture';
}

/** d of the source. */
export function scoreDimension(s: ScoreSource): number {
  if (isPiecewise(s)) return s.d;
  if (isGaussianMixture(s) || isStudentScore(s)) return s.means.cols;
  return s.cols;
}

/** Checks a non-matrix source (a matrix is checked by its callers, in their words); returns d. */
export function checkScoreSource(s: ScoreSource, what: string): number {
  if (isPiecewise(s)) checkPiecewiseModel(s);
  else if (isStudentScore(s)) checkStudentScore(s, what);
  else if (isGaussianMixture(s)) {
    if (s.means.rows < 1 || s.means.cols < 1) throw new InputError(`${what}: the mixture needs K >= 1 means with d >= 1 columns`);
    requireFinite(s.means, `${what}'s means`);
  }
  return scoreDimension(s);
}

export function scoreEvaluator(s: ScoreSource): ScoreEvaluator {
  if (isPiecewise(s)) {
    const ev = piecewiseEvaluator(s);
    return { setTime: (t) => ev.setTime(t), rowInto: (y, yOff, out, outOff) => ev.rowInto(y, yOff, out, outOff) };
  }
  if (isGaussianMixture(s)) {
    let q: MixtureAtTime | undefined;
    let qt = NaN;
    return {
      setTime(t) {
        if (t !== qt) [q, qt] = [mixtureAtTime(s, t), t];
      },
      rowInto: (y, yOff, out, outOff) => mixtureScoreRow(q!, y, yOff, out, outOff),
    };
  }
  if (isStudentScore(s)) {
    const { rows: K, cols: d } = s.means;
    const q = studentAtTimeScratch(K, d);
    const logits = new Float64Array(K);
    return {
      setTime: (t, a) => studentAtTimeInto(s, t, a, q),
      rowInto: (y, yOff, out, outOff) => studentScoreRowInto(q, K, d, logits, y, yOff, out, outOff),
    };
  }
  const { rows: K, cols: d } = s;
  const sc = scoreScratch(K, d);
  return {
    setTime: (_t, a) => scaleCentresInto(s.data, a, sc.scaled),
    rowInto: (y, yOff, out, outOff) => scoreRowInto(y, yOff, K, d, sc, out, outOff),
  };
}

/** The score of any source at every row of x at forward time t. */
export function sourceScore(s: ScoreSource, x: Matrix, t: number): Matrix {
  const d = scoreDimension(s);
  const ev = scoreEvaluator(s);
  ev.setTime(t, Math.exp(-t));
  const out = matrix(x.rows, d);
  for (let n = 0; n < x.rows; n++) ev.rowInto(x.data, n * x.cols, out.data, n * d);
  return out;
}
