// The fit of the piecewise score model (docs/math.md section 13): a geometric ladder of times from T down to
// tMin; at each level Voronoi cells warm-started from the level above (the centres move with a_t), the
// per-cell normal equations of the DDPM objective from `moments` (cellMoments in float64, or the GPU
// reduction), a ridge chosen on held-out rows, and a Cholesky solve in float64.
import { kmeansPlusPlus } from '../algorithms/seeding.ts';
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { noiseRowInto, seedKey } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { requireFinite, requireSeed } from '../validate.ts';
import { cellMoments, type CellMoments, type MomentOptions } from './moments.ts';
import { addJointMoments, chooseJointRidge, jointLoss, softMoments, solveJoint } from './soft.ts';
import { addMoments, cellGaussianPrior, chooseRidge, gramIsRegular, momentLoss, pooledPrior, solveCells, type Prior } from './solve.ts';
import { featureCount, nearestCell, type CellAssignment, type LevelInterpolation, type PiecewiseDegree, type PiecewiseLevel, type PiecewiseModel } from './model.ts';
import { checkCount, checkDegree, checkLadder } from './checks.ts';

/** The per-cell moments of one level: cellMoments, or a GPU reduction with the same contract. */
export type MomentsFunction = (data: Matrix, cells: Matrix, options: MomentOptions) => CellMoments | Promise<CellMoments>;

export interface PiecewiseFitOptions {
  /** J, the number of cells (top-level centres from k-means++ and Lloyd on the data), or J x d centres in data coordinates. */
  readonly cells: number | Matrix;
  /** Default 1. */
  readonly degree?: PiecewiseDegree;
  /** Ladder levels L >= 2, geometric from horizon to tMin. Default 32. */
  readonly levels?: number;
  /** T, the top level. Default 8. */
  readonly horizon?: number;
  /** The bottom level, > 0. Default 0.01. */
  readonly tMin?: number;
  /** R, noise draws per data row and level. Default 2. */
  readonly draws?: number;
  /** Philox seed of the draws (STREAMS.piecewise) and of k-means++. Default 0. */
  readonly seed?: number;
  /** How the model reads between levels. Default 'linear'. */
  readonly interpolation?: LevelInterpolation;
  /** 'held-out' (default): lambda chosen per level on the held-out rows (n mod 5 = 4); or a fixed relative lambda >= 0. */
  readonly ridge?: 'held-out' | number;
  /** Lloyd iterations of the cells on the level's noisy points (draw 0) after the warm start. Default 0. */
  readonly reassign?: number;
  /** Lloyd iterations on the clean data after k-means++ for the top-level cells. Default 10. */
  readonly kmeansIterations?: number;
  /** A cell with fewer than 2 p noisy points: merged into its neighbours (default) or refused with an InputError. */
  readonly smallCells?: 'merge' | 'refuse';
  /** 'hard' (default): the nearest cell's polynomial; 'soft': softmax gates of width tau_t, one joint least squares per level (CPU only). */
  readonly assignment?: CellAssignment;
  /**
   * What the ridge shrinks each level's coefficients toward: 'zero' (default); 'level-above' (the level above's
   * polynomial of the nearest cell); 'cell-gaussian' (the score of the Gaussian with the cell's own mean and covariance
   * of x_t, hard cells only); 'pooled' (one slope shared by the level's cells, hard cells only).
   */
  readonly shrink?: Shrink;
  /** The ridge on the slope rows (the d rows of u) relative to the other rows: 0 leaves the slope unpenalised. Default 1. */
  readonly slopeRidge?: number;
  /** Soft only: s0^2 in tau_t = a_t^2 s0^2 + sigma_t^2; 'within-cell' (default): the clean data's mean squared distance to its top-level cell centre per coordinate. */
  readonly tau?: 'within-cell' | number;
  readonly onProgress?: (p: PiecewiseProgress) => void;
}

/**
 * The ladder's defaults (PIECEWISE_DEFAULTS of the estimator, the CLI and the page spread them). 32 levels at 2 draws
 * cost the passes of 16 at 4; at 16 even the exact score read at the levels and interpolated in t shifts the modes'
 * weights (docs/experiments.md, 'The piecewise score model').
 */
export const LADDER_DEFAULTS = { levels: 32, horizon: 8, tMin: 0.01, draws: 2 } as const;

/** The ridge's shrinkage target (docs/math.md section 13). */
export type Shrink = 'zero' | 'level-above' | 'cell-gaussian' | 'pooled';
const SHRINKS: readonly Shrink[] = ['zero', 'level-above', 'cell-gaussian', 'pooled'];

/** What one level did: its time, cells, ridge and losses, and anything the run should say. */
export interface PiecewiseLevelReport {
  readonly level: number;
  readonly levels: number;
  readonly t: number;
  readonly cells: number;
  readonly lambda: number;
  /** The held-out loss at lambda (NaN with a fixed ridge). */
  readonly heldOutLoss: number;
  /** The DDPM loss of the final coefficients on all the level's draws (docs/math.md section 4). */
  readonly loss: number;
  readonly notes: readonly string[];
}
export type PiecewiseProgress = PiecewiseLevelReport;

export interface PiecewiseFit {
  readonly model: PiecewiseModel;
  readonly reports: readonly PiecewiseLevelReport[];
  /** Every level's notes: merged cells, singular Gram matrices the ridge made solvable. */
  readonly notes: readonly string[];
}

/** t_l = T (tMin / T)^(l / (L - 1)), l = 0 .. L - 1, the ends exact. */
export function ladderTimes(horizon: number, tMin: number, levels: number): Float64Array {
  checkLadder(horizon, tMin, levels);
  const t = Float64Array.from({ length: levels }, (_, l) => horizon * Math.pow(tMin / horizon, l / (levels - 1)));
  t[0] = horizon;
  t[levels - 1] = tMin;
  return t;
}

/** Lloyd's iterations on `points` from `cells` (an empty cell keeps its centre). */
export function lloyd(points: Matrix, cells: Matrix, iterations: number): Matrix {
  const { rows: J, cols: d } = cells;
  let c = cells;
  for (let it = 0; it < iterations; it++) {
    const sums = new Float64Array(J * d);
    const counts = new Float64Array(J);
    for (let n = 0; n < points.rows; n++) {
      const j = nearestCell(points.data, n * d, c);
      counts[j] = counts[j]! + 1;
      for (let k = 0; k < d; k++) sums[j * d + k] = sums[j * d + k]! + points.data[n * d + k]!;
    }
    const next = matrix(J, d, c.data.slice());
    for (let j = 0; j < J; j++) if (counts[j]! > 0) for (let k = 0; k < d; k++) next.data[j * d + k] = sums[j * d + k]! / counts[j]!;
    c = next;
  }
  return c;
}

/** x_t = a_t x0 + sigma_t z for every row, z the Philox normals of `step` on STREAMS.piecewise (as cellMoments draws them). */
export function noisyPoints(data: Matrix, t: number, seed: number, step: number): Matrix {
  const { rows: N, cols: d } = data;
  const { a, sigma } = forwardCoefficients(t);
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  const z = new Float64Array(((d + 3) >>> 2) * 4);
  const out = matrix(N, d);
  for (let n = 0; n < N; n++) {
    noiseRowInto(k0, k1, step, n, d, STREAMS.piecewise, words, z);
    for (let c = 0; c < d; c++) out.data[n * d + c] = a * data.data[n * d + c]! + sigma * z[c]!;
  }
  return out;
}

function scaled(cells: Matrix, factor: number): Matrix {
  return matrix(cells.rows, cells.cols, Float64Array.from(cells.data, (v) => factor * v));
}

function withoutRows(cells: Matrix, drop: ReadonlySet<number>): Matrix {
  const keep = [...Array(cells.rows).keys()].filter((j) => !drop.has(j));
  const out = matrix(keep.length, cells.cols);
  keep.forEach((j, i) => out.data.set(cells.data.subarray(j * cells.cols, (j + 1) * cells.cols), i * cells.cols));
  return out;
}

/** The held-out split: rows n with n mod 5 = 4 (a fifth, spread over any ordering of the file) and the rest. */
export function heldOutSplit(data: Matrix): { train: Matrix; heldOut: Matrix } {
  const d = data.cols;
  const nHeld = Math.floor(data.rows / 5); // n = 4, 9, ... below N
  const train = matrix(data.rows - nHeld, d);
  const heldOut = matrix(nHeld, d);
  let [i, h] = [0, 0];
  for (let n = 0; n < data.rows; n++) {
    const row = data.data.subarray(n * d, (n + 1) * d);
    if (n % 5 === 4) heldOut.data.set(row, d * h++);
    else train.data.set(row, d * i++);
  }
  return { train, heldOut };
}

interface Resolved {
  readonly degree: PiecewiseDegree;
  readonly times: Float64Array;
  readonly draws: number;
  readonly seed: number;
  readonly interpolation: LevelInterpolation;
  readonly ridge: 'held-out' | number;
  readonly reassign: number;
  readonly kmeansIterations: number;
  readonly smallCells: 'merge' | 'refuse';
  readonly assignment: CellAssignment;
  readonly tau: 'within-cell' | number;
  readonly shrink: Shrink;
  readonly slopeRidge: number;
}

function resolve(data: Matrix, o: PiecewiseFitOptions): Resolved {
  if (data.rows < 1 || data.cols < 1) throw new InputError(`the piecewise fit needs data with at least one row and column (got ${data.rows} x ${data.cols})`);
  requireFinite(data, 'the data of the piecewise fit');
  const degree = o.degree ?? 1;
  checkDegree(degree);
  const levels = o.levels ?? LADDER_DEFAULTS.levels;
  const times = ladderTimes(o.horizon ?? LADDER_DEFAULTS.horizon, o.tMin ?? LADDER_DEFAULTS.tMin, levels);
  const draws = o.draws ?? LADDER_DEFAULTS.draws;
  checkCount(draws, 'the noise draws per row R');
  // Counter steps reach 2 L R (held-out draws after the fit's): a 32-bit Philox word (docs/math.md section 7).
  if (2 * levels * draws >= 4294967296) throw new InputError(`levels x draws = ${levels * draws} is too large: 2 L R must stay below 2^32`);
  const seed = o.seed ?? 0;
  requireSeed(seed, 'the piecewise seed');
  const interpolation = o.interpolation ?? 'linear';
  if (interpolation !== 'nearest' && interpolation !== 'linear') throw new InputError(`the level interpolation must be 'nearest' or 'linear', got ${String(interpolation)}`);
  const ridge = o.ridge ?? 'held-out';
  if (ridge !== 'held-out' && (typeof ridge !== 'number' || !Number.isFinite(ridge) || ridge < 0)) {
    throw new InputError(`the ridge must be 'held-out' or a finite relative lambda >= 0, got ${String(ridge)}`);
  }
  if (ridge === 'held-out' && data.rows < 10) throw new InputError(`the held-out ridge rule needs N >= 10 rows (a fifth held out), got ${data.rows}; pass a fixed ridge such as 1e-6 (ridge: 1e-6, or --ridge 1e-6)`);
  const reassign = o.reassign ?? 0;
  checkCount(reassign, 'the reassign iterations', 0);
  const kmeansIterations = o.kmeansIterations ?? 10;
  checkCount(kmeansIterations, 'the k-means iterations', 0);
  const smallCells = o.smallCells ?? 'merge';
  if (smallCells !== 'merge' && smallCells !== 'refuse') throw new InputError(`smallCells must be 'merge' or 'refuse', got ${String(smallCells)}`);
  const assignment = o.assignment ?? 'hard';
  if (assignment !== 'hard' && assignment !== 'soft') throw new InputError(`the cell assignment must be 'hard' or 'soft', got ${String(assignment)}`);
  const tau = o.tau ?? 'within-cell';
  if (tau !== 'within-cell' && (typeof tau !== 'number' || !Number.isFinite(tau) || tau < 0)) throw new InputError(`tau must be 'within-cell' or a finite s0^2 >= 0, got ${String(tau)}`);
  const shrink = o.shrink ?? 'zero';
  if (!SHRINKS.includes(shrink)) throw new InputError(`shrink must be one of ${SHRINKS.map((x) => `'${x}'`).join(', ')}, got ${String(shrink)}`);
  if ((shrink === 'cell-gaussian' || shrink === 'pooled') && assignment === 'soft') throw new InputError(`shrink '${shrink}' is for hard cells; the soft assignment takes 'zero' or 'level-above'`);
  const slopeRidge = o.slopeRidge ?? 1;
  if (typeof slopeRidge !== 'number' || !Number.isFinite(slopeRidge) || slopeRidge < 0) throw new InputError(`slopeRidge must be a finite number >= 0, got ${String(slopeRidge)}`);
  return { degree, times, draws, seed, interpolation, ridge, reassign, kmeansIterations, smallCells, assignment, tau, shrink, slopeRidge };
}

/** Top-level centres in data coordinates: the given ones, or k-means++ and Lloyd on the data. */
function topCells(data: Matrix, cells: number | Matrix, r: Resolved): Matrix {
  if (typeof cells !== 'number') {
    if (cells.rows < 1 || cells.cols !== data.cols) throw new InputError(`the given cells are ${cells.rows} x ${cells.cols}; they need J >= 1 rows and the data's d = ${data.cols} columns`);
    requireFinite(cells, 'the given cells');
    return cells;
  }
  checkCount(cells, 'the number of cells J');
  if (cells > data.rows) throw new InputError(`J = ${cells} cells but only N = ${data.rows} data rows: use at most N cells`);
  return lloyd(data, kmeansPlusPlus(data, cells, r.seed), r.kmeansIterations);
}

/** The mean over rows of min_j ||x - c_j||^2 / d: the per-coordinate variance of the data within their cells. */
export function withinCellVariance(data: Matrix, cells: Matrix): number {
  const d = data.cols;
  let s = 0;
  for (let n = 0; n < data.rows; n++) {
    const j = nearestCell(data.data, n * d, cells);
    for (let c = 0; c < d; c++) s += (data.data[n * d + c]! - cells.data[j * d + c]!) ** 2;
  }
  return s / (data.rows * d);
}

type Split = { train: Matrix; heldOut: Matrix | undefined };

/**
 * The prior of a level's cells (docs/math.md section 13): for each cell, the coefficients of the level above's
 * cell whose centre, carried by the ratio a_t / a_above, is nearest, with the offset row scaled by that ratio
 * (the offset -C^{-1} (c - a mu) moves with a_t as the centres and means do). (J p) x d.
 */
export function levelPrior(above: PiecewiseLevel, cells: Matrix, ratio: number, p: number): Float64Array {
  const d = cells.cols;
  const carried = scaled(above.cells, ratio);
  const prior = new Float64Array(cells.rows * p * d);
  for (let j = 0; j < cells.rows; j++) {
    const i = nearestCell(cells.data, j * d, carried);
    prior.set(above.coef.data.subarray(i * p * d, (i + 1) * p * d), j * p * d);
    for (let c = 0; c < d; c++) prior[(j * p + p - 1) * d + c] = ratio * prior[(j * p + p - 1) * d + c]!;
  }
  return prior;
}

/** The ridge's weight per feature row: slopeRidge on the d slope rows, 1 on the others; undefined when all are 1. */
function rowWeights(p: number, d: number, slopeRidge: number): Float64Array | undefined {
  return slopeRidge === 1 ? undefined : Float64Array.from({ length: p }, (_, f) => (f < d ? slopeRidge : 1));
}

/** One soft level (docs/math.md section 13): the joint moments, cells of effective count below 2 p merged, the ridge, the solve. */
function softLevel(split: Split, cells: Matrix, tau: number, opts: MomentOptions, heldOpts: MomentOptions, r: Resolved, where: string, notes: string[], above: { level: PiecewiseLevel; ratio: number } | undefined) {
  const d = cells.cols;
  const p = featureCount(d, r.degree);
  let fitted = cells;
  for (;;) {
    const train = softMoments(split.train, fitted, tau, opts);
    const small = [...train.counts.keys()].filter((j) => train.counts[j]! < 2 * p);
    if (small.length > 0) {
      const what = `${where}: cell ${small[0]! + 1} (1-based) has an effective ${train.counts[small[0]!]!.toPrecision(3)} noisy points, fewer than 2 p = ${2 * p}`;
      if (r.smallCells === 'refuse') throw new InputError(`${what}; use fewer cells, more data or draws, or smallCells 'merge'`);
      if (fitted.rows === 1) throw new InputError(`${what}, and it is the only cell left; use more data or more draws`);
      const j0 = small.reduce((x, y) => (train.counts[y]! < train.counts[x]! ? y : x));
      notes.push(`${where}: merged cell ${j0 + 1} with an effective ${train.counts[j0]!.toPrecision(3)} points into its neighbours`);
      fitted = withoutRows(fitted, new Set([j0]));
      continue;
    }
    let lambda = r.ridge as number;
    let heldOutLoss = NaN;
    let all = train;
    const prior = above === undefined ? undefined : levelPrior(above.level, fitted, above.ratio, p);
    if (split.heldOut !== undefined) {
      const held = softMoments(split.heldOut, fitted, tau, heldOpts);
      ({ lambda, heldOutLoss } = chooseJointRidge(train, held, p, d, prior, rowWeights(p, d, r.slopeRidge)));
      if (!Number.isFinite(heldOutLoss)) throw new InputError(`${where}: no ridge value made the soft system solvable; use fewer cells${r.slopeRidge === 0 ? ', or a slopeRidge > 0 (overlapping gates make the slopes collinear)' : ''}`);
      all = addJointMoments(train, held);
    }
    const coef = solveJoint(all, p, d, lambda, prior, rowWeights(p, d, r.slopeRidge));
    if (coef === null) throw new InputError(`${where}: the soft system is singular at the fixed ridge ${lambda}; pass ridge 'held-out' or a larger lambda such as 1e-6`);
    const level: PiecewiseLevel = { t: opts.t, cells: fitted, coef: matrix(fitted.rows * p, d, coef), tau };
    return { level, report: { t: opts.t, cells: fitted.rows, lambda, heldOutLoss, loss: jointLoss(all, coef, d), notes } };
  }
}

/**
 * Fits the piecewise score model to `data` (N x d) level by level from the horizon down (docs/math.md
 * section 13). `moments` computes the per-cell sums; it may be the GPU reduction.
 */
export async function fitPiecewise(data: Matrix, options: PiecewiseFitOptions, moments: MomentsFunction = cellMoments): Promise<PiecewiseFit> {
  const r = resolve(data, options);
  const { degree, times, draws, seed } = r;
  const d = data.cols;
  const p = featureCount(d, degree);
  const L = times.length;
  const split: Split = r.ridge === 'held-out' ? heldOutSplit(data) : { train: data, heldOut: undefined };
  const top = topCells(data, options.cells, r);
  const s0sq = r.assignment !== 'soft' ? NaN : r.tau === 'within-cell' ? withinCellVariance(data, top) : r.tau;
  let cells = scaled(top, Math.exp(-times[0]!));
  const levels: PiecewiseLevel[] = [];
  const reports: PiecewiseLevelReport[] = [];
  for (let l = 0; l < L; l++) {
    const t = times[l]!;
    const where = `level ${l + 1} of ${L} (1-based, t = ${Number(t.toPrecision(4))})`;
    const notes: string[] = [];
    // The warm start: the level above's cells carried by a_t (docs/math.md section 13).
    if (l > 0) cells = scaled(cells, Math.exp(times[l - 1]! - t));
    // The shrinkage target: the level above's polynomials, carried to this level (none at the top).
    const above = r.shrink === 'level-above' && l > 0 ? { level: levels[l - 1]!, ratio: Math.exp(times[l - 1]! - t) } : undefined;
    const opts: MomentOptions = { t, degree, seed, draws, firstStep: l * draws };
    // The level fits on `fitted`: `cells` refined by Lloyd on this level's noisy points, less merged cells. The
    // next level starts from `cells` again, so neither a refinement nor a merge compounds down the ladder.
    let fitted = r.reassign > 0 ? lloyd(noisyPoints(data, t, seed, l * draws), cells, r.reassign) : cells;
    if (r.assignment === 'soft') {
      const a = Math.exp(-t);
      const tau = a * a * s0sq + -Math.expm1(-2 * t);
      const { level, report } = softLevel(split, fitted, tau, opts, { ...opts, firstStep: (L + l) * draws }, r, where, notes, above);
      levels.push(level);
      reports.push({ level: l, levels: L, ...report });
      options.onProgress?.(reports[reports.length - 1]!);
      continue;
    }
    let train: CellMoments;
    for (;;) {
      train = await moments(split.train, fitted, opts);
      const small = [...train.counts.keys()].filter((j) => train.counts[j]! < 2 * p);
      if (small.length === 0) break;
      const j0 = small[0]!;
      const what = `${where}: cell ${j0 + 1} (1-based) has ${train.counts[j0]} noisy points, fewer than 2 p = ${2 * p} for its ${p} x ${p} Gram matrix`;
      if (r.smallCells === 'refuse') throw new InputError(`${what}; use fewer cells, more data or draws, or smallCells 'merge'`);
      if (fitted.rows === 1) throw new InputError(`${what}, and it is the only cell left; use more data or more draws`);
      // Empty cells go at once (no point moves); otherwise only the smallest, since its points may fill a neighbour.
      const empty = small.filter((j) => train.counts[j] === 0);
      const drop = empty.length > 0 ? empty : [small.reduce((x, y) => (train.counts[y]! < train.counts[x]! ? y : x))];
      notes.push(`${where}: merged ${drop.length} cell(s) with fewer than ${2 * p} points (${drop.map((j) => `cell ${j + 1}: ${train.counts[j]}`).join(', ')}) into their neighbours`);
      fitted = withoutRows(fitted, new Set(drop));
    }
    let lambda: number;
    let heldOutLoss = NaN;
    let all = train;
    // The shrinkage target: fixed (the level above) or computed from the moments the system is solved on.
    const prior: Prior | undefined =
      r.shrink === 'cell-gaussian' ? (m) => cellGaussianPrior(m, p, d)
      : r.shrink === 'pooled' ? (m) => pooledPrior(m, p, d)
      : above === undefined ? undefined : levelPrior(above.level, fitted, above.ratio, p);
    const weights = rowWeights(p, d, r.slopeRidge);
    if (split.heldOut !== undefined) {
      // Held-out draws take counter steps after every level's fit draws: (L + l) R + r.
      const held = await moments(split.heldOut, fitted, { ...opts, firstStep: (L + l) * draws });
      const choice = chooseRidge(train, held, p, d, prior, weights);
      if (!Number.isFinite(choice.heldOutLoss)) throw new InputError(`${where}: no ridge value made every cell's system solvable; use fewer cells`);
      ({ lambda, heldOutLoss } = choice);
      all = addMoments(train, held);
    } else lambda = r.ridge as number;
    const coef = solveCells(all, p, d, lambda, prior, weights);
    if (coef === null) throw new InputError(`${where}: a cell's system is singular at the fixed ridge ${lambda}; pass ridge 'held-out' or a larger lambda such as 1e-6`);
    for (let j = 0; j < fitted.rows; j++) {
      if (!gramIsRegular(all, j, p)) notes.push(`${where}: cell ${j + 1} (1-based, ${all.counts[j]} points) has a singular Gram matrix; the ridge lambda = ${lambda} made it solvable`);
    }
    levels.push({ t, cells: fitted, coef: matrix(fitted.rows * p, d, coef) });
    const report: PiecewiseLevelReport = { level: l, levels: L, t, cells: fitted.rows, lambda, heldOutLoss, loss: momentLoss(all, coef, p, d), notes };
    reports.push(report);
    options.onProgress?.(report);
  }
  const model: PiecewiseModel = { kind: 'piecewise', d, degree, levels, interpolation: r.interpolation };
  return { model, reports, notes: reports.flatMap((x) => x.notes) };
}
