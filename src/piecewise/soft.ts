// The soft assignment of the piecewise score model (docs/math.md section 13): gates r_j(x) = softmax_j(-||x -
// c_j||^2 / (2 tau)), truncated below SOFT_CUTOFF of the largest, the score sum_j r_j B_j^T phi(x - c_j), and
// its DDPM least squares as one joint system in all J p coefficient rows, in float64 on the CPU.
import { noiseRowInto, seedKey } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import type { Matrix } from '../matrix.ts';
import { choleskyInto, choleskySolveInPlace } from './linalg.ts';
import type { MomentOptions } from './moments.ts';
import { PRIOR_CANDIDATES, RIDGE_CANDIDATES } from './solve.ts';
import { featureCount, featuresInto } from './model.ts';

/** Gates below this fraction of the largest are dropped (and the rest renormalised): ln(1e-6) in the logits. */
export const SOFT_CUTOFF = 1e-6;
const LOG_CUTOFF = Math.log(SOFT_CUTOFF);

/**
 * The gates of x[xOff ..] over the J rows of `cells` at width tau: the active cells into `active` (returned
 * count) and their normalised weights into `weight`, in the same order.
 */
export function softGatesInto(x: Float64Array, xOff: number, cells: Matrix, tau: number, logit: Float64Array, active: Int32Array, weight: Float64Array): number {
  const { rows: J, cols: d, data } = cells;
  let best = -Infinity;
  for (let j = 0; j < J; j++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += (x[xOff + c]! - data[j * d + c]!) ** 2;
    const l = -sq / (2 * tau);
    logit[j] = l;
    if (l > best) best = l;
  }
  let m = 0;
  let sum = 0;
  for (let j = 0; j < J; j++) {
    const l = logit[j]! - best;
    if (l < LOG_CUTOFF) continue;
    const w = Math.exp(l);
    active[m] = j;
    weight[m++] = w;
    sum += w;
  }
  for (let i = 0; i < m; i++) weight[i] = weight[i]! / sum;
  return m;
}

/** The sums of the joint least squares over all points: the features are Phi = [r_1 phi_1; ...; r_J phi_J]. */
export interface JointMoments {
  /** Per cell: sum r_j (the cell's effective point count). */
  readonly counts: Float64Array;
  /** The number of points. */
  readonly n: number;
  /** (J p) x (J p): sum Phi Phi^T (both triangles). */
  readonly gram: Float64Array;
  /** (J p) x d: sum Phi y^T. */
  readonly cross: Float64Array;
  /** sum ||y||^2. */
  readonly targetSquares: number;
}

/** The joint moments of the level's noisy points x_t (the draws of cellMoments) at gate width tau. */
export function softMoments(data: Matrix, cells: Matrix, tau: number, options: MomentOptions): JointMoments {
  const { rows: N, cols: d } = data;
  const J = cells.rows;
  const { t, degree, draws, firstStep } = options;
  const p = featureCount(d, degree);
  const P = J * p;
  const a = Math.exp(-t);
  const sigma = Math.sqrt(-Math.expm1(-2 * t));
  const [k0, k1] = seedKey(options.seed);
  const counts = new Float64Array(J);
  const gram = new Float64Array(P * P);
  const cross = new Float64Array(P * d);
  let targetSquares = 0;
  const words = new Uint32Array(4);
  const z = new Float64Array(((d + 3) >>> 2) * 4);
  const x = new Float64Array(d);
  const y = new Float64Array(d);
  const logit = new Float64Array(J);
  const active = new Int32Array(J);
  const weight = new Float64Array(J);
  const phi = new Float64Array(J * p);
  for (let r = 0; r < draws; r++) {
    for (let n = 0; n < N; n++) {
      noiseRowInto(k0, k1, firstStep + r, n, d, STREAMS.piecewise, words, z);
      for (let c = 0; c < d; c++) {
        x[c] = a * data.data[n * d + c]! + sigma * z[c]!;
        y[c] = -z[c]! / sigma;
        targetSquares += y[c]! * y[c]!;
      }
      const m = softGatesInto(x, 0, cells, tau, logit, active, weight);
      // phi holds r_j phi(x - c_j) for the active cells, packed in the order of `active`.
      for (let i = 0; i < m; i++) {
        const j = active[i]!;
        counts[j] = counts[j]! + weight[i]!;
        const f0 = i * p;
        featuresInto(x, 0, cells.data, j * d, d, degree, phi.subarray(f0, f0 + p));
        for (let f = 0; f < p; f++) phi[f0 + f] = phi[f0 + f]! * weight[i]!;
        for (let f = 0; f < p; f++) for (let c = 0; c < d; c++) cross[(j * p + f) * d + c] = cross[(j * p + f) * d + c]! + phi[f0 + f]! * y[c]!;
      }
      // The upper triangle of the active blocks; mirrored once at the end.
      for (let i = 0; i < m; i++) {
        const rj = active[i]! * p;
        for (let k = i; k < m; k++) {
          const ck = active[k]! * p;
          const [row0, col0, fi, fk] = rj <= ck ? [rj, ck, i * p, k * p] : [ck, rj, k * p, i * p];
          for (let f = 0; f < p; f++) {
            const pf = phi[fi + f]!;
            const base = (row0 + f) * P + col0;
            for (let h = 0; h < p; h++) gram[base + h] = gram[base + h]! + pf * phi[fk + h]!;
          }
        }
      }
    }
  }
  for (let i = 0; i < P; i++) for (let k = 0; k < i; k++) gram[i * P + k] = gram[k * P + i]!;
  return { counts, n: N * draws, gram, cross, targetSquares };
}

/** a + b (the same cells and width). */
export function addJointMoments(a: JointMoments, b: JointMoments): JointMoments {
  const sum = (x: Float64Array, y: Float64Array): Float64Array => Float64Array.from(x, (v, i) => v + y[i]!);
  return { counts: sum(a.counts, b.counts), n: a.n + b.n, gram: sum(a.gram, b.gram), cross: sum(a.cross, b.cross), targetSquares: a.targetSquares + b.targetSquares };
}

/**
 * The (J p) x d coefficients of (G + lambda D) B = X + lambda D P, D block-diagonal with cell j's block
 * tr(G_jj) / p W (the hard fit's relative ridge per cell, W = diag(weights) per feature row, default I; P the
 * prior, default 0); null when not positive definite.
 */
export function solveJoint(m: JointMoments, p: number, d: number, lambda: number, prior?: Float64Array, weights?: Float64Array): Float64Array | null {
  const P = m.cross.length / d;
  const A = Float64Array.from(m.gram);
  const B = Float64Array.from(m.cross);
  for (let j = 0; j < P / p; j++) {
    let trace = 0;
    for (let f = 0; f < p; f++) trace += m.gram[(j * p + f) * (P + 1)]!;
    for (let f = 0; f < p; f++) A[(j * p + f) * (P + 1)] = A[(j * p + f) * (P + 1)]! + ((lambda * trace) / p) * (weights?.[f] ?? 1);
    if (prior !== undefined) for (let i = j * p * d; i < (j + 1) * p * d; i++) B[i] = B[i]! + ((lambda * trace) / p) * (weights?.[Math.floor(i / d) % p] ?? 1) * prior[i]!;
  }
  const L = new Float64Array(P * P);
  if (!choleskyInto(A, P, L)) return null;
  choleskySolveInPlace(L, P, B, d);
  return B;
}

/** The mean squared residual of coefficients on joint moments: (Y - 2 tr(B^T X) + tr(B^T G B)) / n. */
export function jointLoss(m: JointMoments, coef: Float64Array, d: number): number {
  const P = m.cross.length / d;
  let s = m.targetSquares;
  for (let c = 0; c < d; c++) {
    for (let f = 0; f < P; f++) {
      const bf = coef[f * d + c]!;
      if (bf === 0) continue;
      let gb = 0;
      for (let h = 0; h < P; h++) gb += m.gram[f * P + h]! * coef[h * d + c]!;
      s += bf * (gb - 2 * m.cross[f * d + c]!);
    }
  }
  return m.n > 0 ? s / m.n : NaN;
}

/** The ridge candidate (RIDGE_CANDIDATES) whose fit on `train` has the smallest loss on `heldOut`. */
export function chooseJointRidge(train: JointMoments, heldOut: JointMoments, p: number, d: number, prior?: Float64Array, weights?: Float64Array): { lambda: number; heldOutLoss: number } {
  const candidates = prior === undefined ? RIDGE_CANDIDATES : PRIOR_CANDIDATES;
  let best = { lambda: candidates[candidates.length - 1]!, heldOutLoss: Infinity };
  for (const lambda of candidates) {
    const coef = solveJoint(train, p, d, lambda, prior, weights);
    if (coef === null) continue;
    const loss = jointLoss(heldOut, coef, d);
    if (loss < best.heldOutLoss) best = { lambda, heldOutLoss: loss };
  }
  return best;
}
