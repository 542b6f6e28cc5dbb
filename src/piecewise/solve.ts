// The per-cell least squares of the piecewise fit from its moments (docs/math.md section 13): the ridge
// (G_j + lambda mean(diag G_j) I) B_j = X_j solved by Cholesky in float64, the loss of coefficients on any
// moments, and the held-out choice of lambda.
import type { CellMoments } from './moments.ts';
import { choleskyInto, choleskySolveInPlace } from './linalg.ts';

/** The relative ridge values tried by the held-out rule, smallest first. */
export const RIDGE_CANDIDATES: readonly number[] = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1];
/** With a prior (shrinkage toward the level above) the rule also tries these larger values: the prior may win outright. */
export const PRIOR_CANDIDATES: readonly number[] = [...RIDGE_CANDIDATES, 0.3, 1, 3, 10, 100];

/** Cell moments summed: a + b (the same cells). */
export function addMoments(a: CellMoments, b: CellMoments): CellMoments {
  const sum = (x: Float64Array, y: Float64Array): Float64Array => Float64Array.from(x, (v, i) => v + y[i]!);
  return { counts: sum(a.counts, b.counts), gram: sum(a.gram, b.gram), cross: sum(a.cross, b.cross), targetSquares: sum(a.targetSquares, b.targetSquares) };
}

/** Is cell j's Gram matrix G_j positive definite to working precision without a ridge? */
export function gramIsRegular(m: CellMoments, j: number, p: number): boolean {
  if (m.counts[j]! === 0) return false;
  return choleskyInto(m.gram.subarray(j * p * p, (j + 1) * p * p), p, new Float64Array(p * p));
}

/** A shrinkage target (J p) x d, fixed or computed from the moments the system is solved on. */
export type Prior = Float64Array | ((m: CellMoments) => Float64Array);

/**
 * B_j for every cell: (G_j + mu_j W) B_j = X_j + mu_j W P_j with mu_j = lambda mean(diag G_j), into (J p) x d;
 * W = diag(weights) (per feature row, default all 1: the same ridge on every row); P the (J p) x d prior, or 0
 * when absent. Returns null when a system is not positive definite even with the ridge (an empty cell, or
 * lambda too small for a singular G_j).
 */
export function solveCells(m: CellMoments, p: number, d: number, lambda: number, prior?: Prior, weights?: Float64Array): Float64Array | null {
  const J = m.counts.length;
  const P = typeof prior === 'function' ? prior(m) : prior;
  const coef = new Float64Array(J * p * d);
  const A = new Float64Array(p * p);
  const L = new Float64Array(p * p);
  for (let j = 0; j < J; j++) {
    const G = m.gram.subarray(j * p * p, (j + 1) * p * p);
    let trace = 0;
    for (let f = 0; f < p; f++) trace += G[f * p + f]!;
    const mu = (lambda * trace) / p;
    A.set(G);
    for (let f = 0; f < p; f++) A[f * p + f] = A[f * p + f]! + mu * (weights?.[f] ?? 1);
    if (!choleskyInto(A, p, L)) return null;
    const B = coef.subarray(j * p * d, (j + 1) * p * d);
    B.set(m.cross.subarray(j * p * d, (j + 1) * p * d));
    if (P !== undefined) for (let i = 0; i < p * d; i++) B[i] = B[i]! + mu * (weights?.[Math.floor(i / d)] ?? 1) * P[j * p * d + i]!;
    choleskySolveInPlace(L, p, B, d);
  }
  return coef;
}

/**
 * The cell-Gaussian target (shrink 'cell-gaussian', docs/math.md section 13): per cell, the score of the Gaussian
 * with the cell's own mean m_j and covariance C_j of x_t, -C_j^{-1} (x - m_j), in the cell's features: slope rows
 * -C_j^{-1}, offset row C_j^{-1} (m_j - c_j) (u = x - c_j), quadratic rows 0. From the Gram matrix alone:
 * n = G[p-1, p-1], sum u = G[0..d, p-1], sum u u^T = G[0..d, 0..d]. A cell whose C_j is not positive definite
 * gets the zero target.
 */
export function cellGaussianPrior(m: CellMoments, p: number, d: number): Float64Array {
  const J = m.counts.length;
  const prior = new Float64Array(J * p * d);
  const C = new Float64Array(d * d);
  const L = new Float64Array(d * d);
  const Cinv = new Float64Array(d * d);
  for (let j = 0; j < J; j++) {
    const G = m.gram.subarray(j * p * p, (j + 1) * p * p);
    const n = G[p * p - 1]!;
    if (!(n > d)) continue;
    const mean = Float64Array.from({ length: d }, (_, c) => G[c * p + p - 1]! / n);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C[a * d + b] = G[a * p + b]! / n - mean[a]! * mean[b]!;
    if (!choleskyInto(C, d, L)) continue;
    Cinv.fill(0);
    for (let c = 0; c < d; c++) Cinv[c * d + c] = 1;
    choleskySolveInPlace(L, d, Cinv, d);
    const B = prior.subarray(j * p * d, (j + 1) * p * d);
    // s(x) = sum_f phi_f B[f, :]: the slope rows hold A^T = -C^{-1} (symmetric), the offset row C^{-1} mean(u).
    for (let a = 0; a < d; a++) {
      let off = 0;
      for (let b = 0; b < d; b++) {
        B[a * d + b] = -Cinv[a * d + b]!;
        off += Cinv[b * d + a]! * mean[b]!;
      }
      B[(p - 1) * d + a] = off;
    }
  }
  return prior;
}

/**
 * The pooled target (shrink 'pooled'): one slope shared by the level's cells, the within-cell least squares
 * A = (sum_j S_j)^{-1} sum_j T_j with S_j, T_j the cell's centred sums of u u^T and u y^T; each cell's offset
 * then the mean of y - A^T u in the cell; quadratic rows 0. The zero target where sum_j S_j is singular.
 */
export function pooledPrior(m: CellMoments, p: number, d: number): Float64Array {
  const J = m.counts.length;
  const S = new Float64Array(d * d);
  const T = new Float64Array(d * d);
  for (let j = 0; j < J; j++) {
    const G = m.gram.subarray(j * p * p, (j + 1) * p * p);
    const X = m.cross.subarray(j * p * d, (j + 1) * p * d);
    const n = G[p * p - 1]!;
    if (!(n > 0)) continue;
    for (let a = 0; a < d; a++) {
      const su = G[a * p + p - 1]!;
      for (let b = 0; b < d; b++) {
        S[a * d + b] = S[a * d + b]! + G[a * p + b]! - (su * G[b * p + p - 1]!) / n;
        T[a * d + b] = T[a * d + b]! + X[a * d + b]! - (su * X[(p - 1) * d + b]!) / n;
      }
    }
  }
  const prior = new Float64Array(J * p * d);
  const L = new Float64Array(d * d);
  if (!choleskyInto(S, d, L)) return prior;
  choleskySolveInPlace(L, d, T, d);
  for (let j = 0; j < J; j++) {
    const G = m.gram.subarray(j * p * p, (j + 1) * p * p);
    const X = m.cross.subarray(j * p * d, (j + 1) * p * d);
    const n = G[p * p - 1]!;
    const B = prior.subarray(j * p * d, (j + 1) * p * d);
    B.set(T.subarray(0, d * d), 0);
    if (!(n > 0)) continue;
    for (let b = 0; b < d; b++) {
      let s = X[(p - 1) * d + b]!;
      for (let a = 0; a < d; a++) s -= G[a * p + p - 1]! * T[a * d + b]!;
      B[(p - 1) * d + b] = s / n;
    }
  }
  return prior;
}

/** The mean squared residual (1/n) sum ||y - B_j^T phi||^2 of coefficients on moments: yy - 2 tr(B^T X) + tr(B^T G B). */
export function momentLoss(m: CellMoments, coef: Float64Array, p: number, d: number): number {
  let total = 0;
  let count = 0;
  const J = m.counts.length;
  for (let j = 0; j < J; j++) {
    count += m.counts[j]!;
    let s = m.targetSquares[j]!;
    const g = j * p * p;
    const b = j * p * d;
    for (let c = 0; c < d; c++) {
      for (let f = 0; f < p; f++) {
        const bf = coef[b + f * d + c]!;
        s -= 2 * bf * m.cross[b + f * d + c]!;
        let gb = 0;
        for (let h = 0; h < p; h++) gb += m.gram[g + f * p + h]! * coef[b + h * d + c]!;
        s += bf * gb;
      }
    }
    total += s;
  }
  return count > 0 ? total / count : NaN;
}

export interface RidgeChoice {
  readonly lambda: number;
  /** The held-out loss at lambda of the fit on the training moments. */
  readonly heldOutLoss: number;
}

/** The candidate whose fit on `train` (toward `prior`, if given) has the smallest loss on `heldOut` (ties: the smaller lambda). */
export function chooseRidge(train: CellMoments, heldOut: CellMoments, p: number, d: number, prior?: Prior, weights?: Float64Array): RidgeChoice {
  const fixed = typeof prior === 'function' ? prior(train) : prior;
  const candidates = prior === undefined ? RIDGE_CANDIDATES : PRIOR_CANDIDATES;
  let best: RidgeChoice = { lambda: candidates[candidates.length - 1]!, heldOutLoss: Infinity };
  for (const lambda of candidates) {
    const coef = solveCells(train, p, d, lambda, fixed, weights);
    if (coef === null) continue;
    const loss = momentLoss(heldOut, coef, p, d);
    if (loss < best.heldOutLoss) best = { lambda, heldOutLoss: loss };
  }
  return best;
}
