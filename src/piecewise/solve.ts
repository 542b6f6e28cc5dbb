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

/**
 * B_j for every cell: (G_j + mu_j I) B_j = X_j + mu_j P_j with mu_j = lambda mean(diag G_j), into (J p) x d;
 * P the (J p) x d prior (the level above's coefficients), or 0 when absent. Returns null when a system is not
 * positive definite even with the ridge (an empty cell, or lambda too small for a singular G_j).
 */
export function solveCells(m: CellMoments, p: number, d: number, lambda: number, prior?: Float64Array): Float64Array | null {
  const J = m.counts.length;
  const coef = new Float64Array(J * p * d);
  const A = new Float64Array(p * p);
  const L = new Float64Array(p * p);
  for (let j = 0; j < J; j++) {
    const G = m.gram.subarray(j * p * p, (j + 1) * p * p);
    let trace = 0;
    for (let f = 0; f < p; f++) trace += G[f * p + f]!;
    A.set(G);
    for (let f = 0; f < p; f++) A[f * p + f] = A[f * p + f]! + (lambda * trace) / p;
    if (!choleskyInto(A, p, L)) return null;
    const B = coef.subarray(j * p * d, (j + 1) * p * d);
    B.set(m.cross.subarray(j * p * d, (j + 1) * p * d));
    if (prior !== undefined) for (let i = 0; i < p * d; i++) B[i] = B[i]! + ((lambda * trace) / p) * prior[j * p * d + i]!;
    choleskySolveInPlace(L, p, B, d);
  }
  return coef;
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
export function chooseRidge(train: CellMoments, heldOut: CellMoments, p: number, d: number, prior?: Float64Array): RidgeChoice {
  const candidates = prior === undefined ? RIDGE_CANDIDATES : PRIOR_CANDIDATES;
  let best: RidgeChoice = { lambda: candidates[candidates.length - 1]!, heldOutLoss: Infinity };
  for (const lambda of candidates) {
    const coef = solveCells(train, p, d, lambda, prior);
    if (coef === null) continue;
    const loss = momentLoss(heldOut, coef, p, d);
    if (loss < best.heldOutLoss) best = { lambda, heldOutLoss: loss };
  }
  return best;
}
