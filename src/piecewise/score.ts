// The score of a piecewise model at forward time t (docs/math.md section 13): the level weights of t, then in
// each level the polynomial of the nearest cell, s_l(x) = sum_f phi_f(x - c_j) coef[j p + f, :].
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { softGatesInto } from './soft.ts';
import { featureCount, featuresInto, levelWeights, nearestCell, type LevelWeights, type PiecewiseLevel, type PiecewiseModel } from './model.ts';
import { checkPiecewiseModel } from './checks.ts';

/** Scratch of one evaluator: the features, and the gates of a soft level (sized for the largest J). */
interface Scratch {
  readonly phi: Float64Array;
  readonly logit: Float64Array;
  readonly active: Int32Array;
  readonly gate: Float64Array;
}

/** s_l(y) of one level into out[outOff .. outOff + d), scaled by `weight` and added when `add`. */
function levelScoreInto(level: PiecewiseLevel, model: PiecewiseModel, y: Float64Array, yOff: number, sc: Scratch, out: Float64Array, outOff: number, weight: number, add: boolean): void {
  const { d, degree } = model;
  const { phi, active, gate } = sc;
  const p = phi.length;
  let m = 1;
  if (level.tau === undefined) {
    active[0] = nearestCell(y, yOff, level.cells);
    gate[0] = 1;
  } else m = softGatesInto(y, yOff, level.cells, level.tau, sc.logit, active, gate);
  if (!add) for (let c = 0; c < d; c++) out[outOff + c] = 0;
  const B = level.coef.data;
  for (let i = 0; i < m; i++) {
    const j = active[i]!;
    featuresInto(y, yOff, level.cells.data, j * d, d, degree, phi);
    const base = j * p * d;
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let f = 0; f < p; f++) s += phi[f]! * B[base + f * d + c]!;
      out[outOff + c] = out[outOff + c]! + weight * gate[i]! * s;
    }
  }
}

/** Evaluates one model at a time set by setTime; reuses its buffers, so one evaluator per concurrent time. */
export interface PiecewiseEvaluator {
  setTime(t: number): void;
  rowInto(y: Float64Array, yOff: number, out: Float64Array, outOff: number): void;
}

export function piecewiseEvaluator(model: PiecewiseModel): PiecewiseEvaluator {
  const J = Math.max(...model.levels.map((l) => l.cells.rows));
  const sc: Scratch = { phi: new Float64Array(featureCount(model.d, model.degree)), logit: new Float64Array(J), active: new Int32Array(J), gate: new Float64Array(J) };
  let lw: LevelWeights = { lo: 0, hi: 0, w: 0 };
  return {
    setTime(t: number): void {
      lw = levelWeights(model.levels, t, model.interpolation);
    },
    rowInto(y, yOff, out, outOff): void {
      const { lo, hi, w } = lw;
      if (w === 0) levelScoreInto(model.levels[lo]!, model, y, yOff, sc, out, outOff, 1, false);
      else {
        levelScoreInto(model.levels[lo]!, model, y, yOff, sc, out, outOff, 1 - w, false);
        levelScoreInto(model.levels[hi]!, model, y, yOff, sc, out, outOff, w, true);
      }
    },
  };
}

/** The model's score at every row of x (n x d) at forward time t >= 0 (below the ladder: its last level). */
export function piecewiseScore(model: PiecewiseModel, x: Matrix, t: number): Matrix {
  checkPiecewiseModel(model);
  if (x.cols !== model.d) throw new InputError(`the points have ${x.cols} columns but the piecewise model has d = ${model.d}; both need one column per dimension`);
  const ev = piecewiseEvaluator(model);
  ev.setTime(t);
  const out = matrix(x.rows, model.d);
  for (let n = 0; n < x.rows; n++) ev.rowInto(x.data, n * x.cols, out.data, n * model.d);
  return out;
}
