// The per-feature scaling inside the estimator (docs/math.md section 15): the model is fitted to
// z = (x - centre) / scale, and its centres are reported back in the user's units. 'within' divides by the
// pooled within-cluster standard deviation of a k-means pre-pass, the spread the identity model assumes;
// 'standard' by the overall one, which also holds the spread between the centres; 'none' is the paper's model
// on the data as given.
import { kmeansPlusPlus } from './algorithms/seeding.ts';
import { oneOf } from './options/declare.ts';
import { matrix, type Matrix } from './types.ts';
import { variancesOf, weightsOf, type StudentParams } from './training/student.ts';

export const SCALES = ['within', 'standard', 'none'] as const;
export type ScaleMethod = (typeof SCALES)[number];
export const SCALE_OPTION = oneOf(SCALES, 'the scaling', "per-feature scaling before the fit; centres are reported in the data's units", {
  default: 'within',
  flag: { name: 'scale', arg: 'S' },
});

/** What the fit learned about the features: z = (x - centre) / scale, column by column. */
export interface Scaling {
  readonly method: Exclude<ScaleMethod, 'none'>;
  readonly centre: Float64Array;
  readonly scale: Float64Array;
}

/** The fitted scaling and what it had to floor (constant or nearly constant features). */
export interface ScalingFit {
  readonly scaling: Scaling;
  readonly notes: string[];
}

/** A feature whose spread is below this fraction of its magnitude is constant up to rounding. */
const CONSTANT_RELATIVE = 1e-10;
/** The within-cluster spread is floored at this fraction of the feature's overall spread. */
const WITHIN_FLOOR = 1e-3;
/** Lloyd iterations, k-means++ starts and rounds of the 'within' pre-pass. */
const LLOYD_STEPS = 100;
const PREPASS_STARTS = 3;
const PREPASS_ROUNDS = 2;

/** The scaling of X (N x d) for K components; the pre-pass of 'within' is seeded by `seed`. */
export function fitScaling(X: Matrix, method: Exclude<ScaleMethod, 'none'>, k: number, seed: number): ScalingFit {
  const { rows: n, cols: d } = X;
  const centre = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) centre[c]! += X.data[i * d + c]!;
  for (let c = 0; c < d; c++) centre[c]! /= n;
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) sd[c]! += (X.data[i * d + c]! - centre[c]!) ** 2;
  const notes: string[] = [];
  const constant: number[] = [];
  const scale = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    sd[c] = Math.sqrt(sd[c]! / n);
    if (!(sd[c]! > CONSTANT_RELATIVE * Math.abs(centre[c]!)) || sd[c] === 0) {
      constant.push(c);
      // Centred, a constant feature is zero up to rounding: any positive scale keeps it so.
      scale[c] = Math.max(Math.abs(centre[c]!), 1);
    } else scale[c] = sd[c]!;
  }
  if (constant.length > 0) {
    notes.push(`${constant.length} constant feature${constant.length > 1 ? 's' : ''} (column${constant.length > 1 ? 's' : ''} ${constant.map((c) => c + 1).join(', ')}, 1-based): centred and left out of the scaling; they carry no information about the clusters`);
  }
  if (method === 'standard' || n <= k) return { scaling: { method, centre, scale }, notes };

  // Two rounds: the second pre-pass clusters in the coordinates the first round's within-cluster spread gives.
  const within = new Float64Array(d);
  let used = 0;
  for (let round = 0; round < PREPASS_ROUNDS; round++) {
    const z = toScaled(X, { method, centre, scale });
    const labels = kmeansLabels(z, k, seed);
    const centres = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let c = 0; c < d; c++) centres[labels[i]! * d + c]! += X.data[i * d + c]!;
    }
    for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) if (counts[j]! > 0) centres[j * d + c]! /= counts[j]!;
    within.fill(0);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) within[c]! += (X.data[i * d + c]! - centres[labels[i]! * d + c]!) ** 2;
    used = counts.filter((m) => m > 0).length;
    if (round < PREPASS_ROUNDS - 1) for (let c = 0; c < d; c++) if (!constant.includes(c)) scale[c] = Math.max(Math.sqrt(within[c]! / Math.max(1, n - used)), WITHIN_FLOOR * sd[c]!);
  }
  const floored: number[] = [];
  for (let c = 0; c < d; c++) {
    if (constant.includes(c)) continue;
    const w = Math.sqrt(within[c]! / Math.max(1, n - used));
    if (!(w >= WITHIN_FLOOR * sd[c]!)) floored.push(c);
    scale[c] = Math.max(w, WITHIN_FLOOR * sd[c]!);
  }
  if (floored.length > 0) {
    notes.push(`column${floored.length > 1 ? 's' : ''} ${floored.map((c) => c + 1).join(', ')} (1-based) barely vary within the pre-pass clusters: scaled by ${WITHIN_FLOOR} of ${floored.length > 1 ? 'their' : 'its'} overall spread instead`);
  }
  return { scaling: { method, centre, scale }, notes };
}

/** Lloyd's k-means from the best of a few k-means++ starts (lowest within-cluster sum of squares). */
function kmeansLabels(z: Matrix, k: number, seed: number): Int32Array {
  let best: Int32Array | undefined;
  let bestInertia = Infinity;
  for (let s = 0; s < PREPASS_STARTS; s++) {
    const centres = kmeansPlusPlus(z, k, seed + s).data;
    const { labels, inertia } = lloyd(z, Float64Array.from(centres), k);
    if (inertia < bestInertia) {
      best = labels;
      bestInertia = inertia;
    }
  }
  return best!;
}

function lloyd(z: Matrix, centres: Float64Array, k: number): { labels: Int32Array; inertia: number } {
  const { rows: n, cols: d } = z;
  const labels = new Int32Array(n).fill(-1);
  let inertia = 0;
  for (let step = 0; step < LLOYD_STEPS; step++) {
    let moved = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bestJ = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += (z.data[i * d + c]! - centres[j * d + c]!) ** 2;
        if (s < bestD) {
          bestD = s;
          bestJ = j;
        }
      }
      if (labels[i] !== bestJ) moved++;
      labels[i] = bestJ;
      inertia += bestD;
    }
    if (moved === 0) break;
    const counts = new Float64Array(k);
    const sums = new Float64Array(k * d);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let c = 0; c < d; c++) sums[labels[i]! * d + c]! += z.data[i * d + c]!;
    }
    // An empty cluster keeps its centre.
    for (let j = 0; j < k; j++) if (counts[j]! > 0) for (let c = 0; c < d; c++) centres[j * d + c] = sums[j * d + c]! / counts[j]!;
  }
  return { labels, inertia };
}

/** (x - centre) / scale, row by row: the data the model is fitted to. */
export function toScaled(X: Matrix, s: Scaling): Matrix {
  const { rows: n, cols: d } = X;
  const out = matrix(n, d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out.data[i * d + c] = (X.data[i * d + c]! - s.centre[c]!) / s.scale[c]!;
  return out;
}

/** centre + scale z, row by row: centres and samples back in the data's units. */
export function fromScaled(Z: Matrix, s: Scaling): Matrix {
  const { rows: n, cols: d } = Z;
  const out = matrix(n, d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out.data[i * d + c] = s.centre[c]! + s.scale[c]! * Z.data[i * d + c]!;
  return out;
}

/** A direction (a tied K = 2 start m, relative to the data's centre) in the scaled coordinates: m / scale. */
export function directionToScaled(M: Matrix, s: Scaling): Matrix {
  return matrix(M.rows, M.cols, M.data.map((v, i) => v / s.scale[i % M.cols]!));
}

/** The estimator's init and truth, given in the data's units, in the scaled coordinates of the fit. */
export function scaledStarts(o: { readonly init?: Matrix; readonly truth?: Matrix }, k: number, s: Scaling): { init?: Matrix; truth?: Matrix } {
  // A one-row init of K = 2 is the tied start m of +-m about the data's mean: a direction.
  const init = o.init && (o.init.rows === 1 && k === 2 ? directionToScaled(o.init, s) : toScaled(o.init, s));
  return { ...(init ? { init } : {}), ...(o.truth ? { truth: toScaled(o.truth, s) } : {}) };
}

/** sum_c log scale_c: log q_x(x) = log q_z(z) - this, the change of variables. */
export function logScaleSum(s: Scaling): number {
  let t = 0;
  for (const v of s.scale) t += Math.log(v);
  return t;
}

/**
 * A general student's variances (K x d: spherical ones repeated per coordinate) and weights in the data's units:
 * a variance c in the scaled coordinates is c scale_j^2 in coordinate j (docs/math.md section 15).
 */
export function studentInUnits(student: StudentParams, d: number, scaling: Scaling | undefined): { variances: Matrix; weights: Float64Array } {
  const variances = variancesOf(student, d);
  if (scaling) for (let i = 0; i < variances.data.length; i++) variances.data[i]! *= scaling.scale[i % d]! ** 2;
  return { variances, weights: weightsOf(student.beta) };
}
