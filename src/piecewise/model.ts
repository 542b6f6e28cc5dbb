// The piecewise-polynomial score model after Gatmiry, Kelner and Lee (docs/math.md section 13): at each level
// t of a ladder, Voronoi cells with centres c_j and, inside cell j, a score that is a polynomial in u = x - c_j.
// The CPU reference (src/piecewise/) and the GPU engine (host/piecewise-*.ts) share these definitions.
import type { Matrix } from '../matrix.ts';

/** 'hard': the nearest cell's polynomial; 'soft': a softmax-gated blend of every cell's (docs/math.md section 13). */
export type CellAssignment = 'hard' | 'soft';

/** 1: affine, phi(u) = [u, 1]; 2: with diagonal quadratic terms, phi(u) = [u, u * u, 1]. */
export type PiecewiseDegree = 1 | 2;

/** How the sampler reads a score between ladder levels: the nearest level in ln t, or linear in t between two. */
export type LevelInterpolation = 'nearest' | 'linear';

export interface PiecewiseLevel {
  /** The forward time of this level, > 0. */
  readonly t: number;
  /** J x d cell centres, in x_t coordinates. */
  readonly cells: Matrix;
  /** (J p) x d: rows j p .. j p + p - 1 are cell j's; s(x) = sum_f phi_f(x - c_j) coef[j p + f, :]. */
  readonly coef: Matrix;
  /** Soft assignment: present, the score is sum_j r_j(x) B_j^T phi(x - c_j), r = softmax_j(-||x - c_j||^2 / (2 tau)). */
  readonly tau?: number;
}

export interface PiecewiseModel {
  readonly kind: 'piecewise';
  readonly d: number;
  readonly degree: PiecewiseDegree;
  /** Levels in decreasing t: the horizon first. */
  readonly levels: readonly PiecewiseLevel[];
  readonly interpolation: LevelInterpolation;
}

/** p, the number of features per cell: d + 1 at degree 1, 2 d + 1 at degree 2. */
export function featureCount(d: number, degree: PiecewiseDegree): number {
  return degree === 1 ? d + 1 : 2 * d + 1;
}

/** phi(x - c) into out[0 .. p): [u, (u * u at degree 2), 1] with u = x[xOff ..] - cells[cOff ..]. */
export function featuresInto(
  x: Float64Array,
  xOff: number,
  cells: Float64Array,
  cOff: number,
  d: number,
  degree: PiecewiseDegree,
  out: Float64Array,
): void {
  for (let c = 0; c < d; c++) {
    const u = x[xOff + c]! - cells[cOff + c]!;
    out[c] = u;
    if (degree === 2) out[d + c] = u * u;
  }
  out[featureCount(d, degree) - 1] = 1;
}

/** The index of the row of `cells` nearest x[xOff .. xOff + d) (squared Euclidean; ties to the lower index). */
export function nearestCell(x: Float64Array, xOff: number, cells: Matrix): number {
  const { rows: J, cols: d, data } = cells;
  let best = 0;
  let bestSq = Infinity;
  for (let j = 0; j < J; j++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += (x[xOff + c]! - data[j * d + c]!) ** 2;
    if (sq < bestSq) {
      bestSq = sq;
      best = j;
    }
  }
  return best;
}

/** The levels a sampler reads at time t, and the weight of `hi`: s = (1 - w) s_lo + w s_hi (lo === hi when w = 0). */
export interface LevelWeights {
  readonly lo: number;
  readonly hi: number;
  readonly w: number;
}

/**
 * Which levels give the score at forward time t. Outside the ladder, the end level. 'nearest': the level nearest in
 * ln t (the ladder is geometric). 'linear': linear in t between the two levels around t.
 */
export function levelWeights(levels: readonly PiecewiseLevel[], t: number, interpolation: LevelInterpolation): LevelWeights {
  const last = levels.length - 1;
  if (t >= levels[0]!.t) return { lo: 0, hi: 0, w: 0 };
  if (t <= levels[last]!.t) return { lo: last, hi: last, w: 0 };
  let i = 0;
  while (levels[i + 1]!.t > t) i++;
  // levels[i].t > t >= levels[i + 1].t
  const above = levels[i]!.t;
  const below = levels[i + 1]!.t;
  if (interpolation === 'nearest') {
    const j = Math.log(above / t) <= Math.log(t / below) ? i : i + 1;
    return { lo: j, hi: j, w: 0 };
  }
  const w = (above - t) / (above - below);
  return { lo: i, hi: i + 1, w };
}

export interface MomentOptions {
  /** The level's forward time t > 0: x_t = a_t x0 + sigma_t z (docs/math.md section 2). */
  readonly t: number;
  readonly degree: PiecewiseDegree;
  readonly seed: number;
  /** R >= 1 noise draws per data row. */
  readonly draws: number;
  /** Draw r of this level uses Philox counter step `firstStep + r` of STREAMS.piecewise, row n = the data row. */
  readonly firstStep: number;
}

/** Sums over the noisy points x_t assigned (nearest cell centre) to each cell j = 0 .. J - 1. */
export interface CellMoments {
  /** Points per cell (n_j, summed over draws). */
  readonly counts: Float64Array;
  /** J p x p: sum phi phi^T with phi = phi(x_t - c_j). */
  readonly gram: Float64Array;
  /** J p x d: sum phi y^T with the regression target y = -z / sigma_t. */
  readonly cross: Float64Array;
  /** Per cell: sum ||y||^2, so the fit's loss is known without another pass. */
  readonly targetSquares: Float64Array;
}
