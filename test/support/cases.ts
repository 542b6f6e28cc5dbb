// One table of engine cases (ONNX Runtime's operator-test style, docs/architecture.md) that every backend's tests
// iterate, the seeded problem each case stands for, and the float32 error analysis that turns a case
// into a DERIVED tolerance for the GPU engine against the float64 CPU reference.
//
// Sources of the per-operation bounds (WGSL spec, gpuweb/gpuweb wgsl/index.bs at commit 000adac1, section "Floating
// Point Accuracy", table "Accuracy of concrete floating point operations / built-in functions"):
//   x + y, x - y, x * y: "Correctly rounded", where WGSL's correctly rounded allows rounding up OR down
//     ("WGSL does not specify a rounding mode"), so the error is < 1 ULP <= 2^-23 |x| = 2u (u = 2^-24);
//   x / y: 2.5 ULP (= 5u relative);   exp(x): 3 + 2|x| ULP (= (6 + 4|x|) u relative);
//   inverseSqrt: 2 ULP; sqrt: "inherited from 1.0 / inverseSqrt(x)" (2 + 2.5 ULP = 9u relative);
//   log: absolute error 2^-21 on [0.5, 2], 3 ULP outside (sin and cos are the engine's own: COS_SIN_ERROR);
//   "An implementation may reassociate operations" and may fuse them when at least as accurate, so every
//     sum below is bounded whatever its order: n terms, each touched by <= n - 1 additions;
//   subnormal inputs and outputs "may be flushed to zero" (an absolute 2^-126 per value, negligible here).
// Host-side conversions (Float32Array) round to nearest: u = 2^-24 relative.
// The analysis is first order in u (Higham's gamma_n ~ n u): every test asserts c u <= 1e-2, where
// the neglected second-order terms are below 1% of the bound. float64 rounding of the reference is
// 2^-29 times smaller than u and is neglected.
import { ddpmGradMagnitude } from '../../src/training/cpu-reference.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import {
  noiseMatrix,
  philoxInto,
  seedKey,
  STREAM_DATA_GENERATOR,
  STREAM_TRAINING_NOISE,
  uniformFromWord,
} from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import type { SummationDepth } from './summation-depth.ts';

export { type SummationDepth, summationDepth } from './summation-depth.ts';

/** Unit roundoff of float32 round-to-nearest. */
export const U = 2 ** -24;
/** One WGSL +, -, * on f32: rounded up or down, < 1 ULP <= 2^-23 = 2u relative. */
const OP = 2 * U;
/** The smallest normal f32: what flush-to-zero may remove from any value. */
const FTZ = 2 ** -126;

// ---------------------------------------------------------------------------------------------
// The table

export interface EngineCase {
  readonly id: string;
  /** Components of the student (2 when tied; the tied centres are then 1 x d). */
  readonly k: number;
  readonly d: number;
  readonly n: number;
  /** Noise scale t. */
  readonly t: number;
  readonly tied: boolean;
  readonly seed: number;
}

function engineCase(k: number, d: number, n: number, t: number, tied: boolean, seed: number): EngineCase {
  return { id: `K${k}${tied ? 'tied' : ''}-d${d}-N${n}-t${t}`, k, d, n, t, tied, seed };
}

/**
 * A representative cross product of K in {1,2,3,8,16,33}, d in {1,3,5,16,64,100}, N in {1,63,64,65,1000,100003},
 * t in {0.05,0.5,3}, tied on and off: every value of each axis appears; d not a multiple of 4 and N not a
 * multiple of the tile (32 or 29 samples) appear many times; N = 100003 appears once (it is slow on SwiftShader).
 * (K, d) pairs repeat where they can, because each new pair compiles new pipelines (~1 to 5 s on SwiftShader).
 */
export const CASES: readonly EngineCase[] = [
  engineCase(1, 1, 1, 0.5, false, 11), // K = 1 and N = 1: one sample, one component
  engineCase(1, 3, 63, 0.05, false, 12),
  engineCase(1, 5, 1000, 3, false, 13),
  engineCase(2, 5, 64, 0.5, true, 14), // tied K = 2, d not a multiple of 4
  engineCase(2, 1, 63, 0.05, true, 15),
  engineCase(2, 64, 1000, 3, true, 16),
  engineCase(2, 16, 65, 3, false, 17),
  engineCase(3, 5, 1000, 0.05, false, 18),
  engineCase(3, 100, 65, 0.5, false, 19),
  engineCase(3, 100, 1000, 3, false, 20),
  engineCase(8, 16, 1000, 0.05, false, 21),
  engineCase(8, 3, 63, 3, false, 22),
  engineCase(16, 64, 65, 3, false, 23),
  engineCase(16, 64, 100003, 0.5, false, 24), // the one large case: N > 65,535 tiles' worth of workgroups walk several tiles
  engineCase(33, 3, 64, 0.05, false, 25),
  engineCase(33, 16, 1000, 0.5, false, 26),
];

/** The cases that the seeded-noise check re-runs (small, and with d not a multiple of 4 so padding noise would show). */
export const SEEDED_CASE_IDS: readonly string[] = ['K1-d1-N1-t0.5', 'K2tied-d5-N64-t0.5', 'K3-d5-N1000-t0.05', 'K8-d3-N63-t3'];

export function caseById(id: string): EngineCase {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id} in test/support/cases.ts`);
  return c;
}

export interface Problem {
  /** N x d data X0: a balanced mixture around the true centres. */
  readonly data: Matrix;
  /** The (unscaled) centres mu at which the loss and gradient are evaluated: K x d, or 1 x d tied. */
  readonly centres: Matrix;
  /** An explicit N x d noise matrix Z. */
  readonly z: Matrix;
}

/**
 * The seeded problem of a case, all from Philox (docs/math.md section 7): true centres (stream 1, step 1) with norm
 * about 3, data = true centre (n mod K) + a standard normal (stream 1, step 0), evaluation centres = truth + a
 * perturbation of norm about 1 (stream 1, step 2), and Z from the training stream 0 under another seed.
 */
export function makeProblem(c: EngineCase): Problem {
  const { k, d, n, seed } = c;
  const scale = 3 / Math.sqrt(d);
  const base = noiseMatrix(seed, 1, k, d, STREAM_DATA_GENERATOR);
  const truth = matrix(k, d, base.data.map((v) => scale * v));
  if (c.tied) for (let i = 0; i < d; i++) truth.data[d + i] = -truth.data[i]!; // symmetric pair, docs/math.md section 1
  const data = noiseMatrix(seed, 0, n, d, STREAM_DATA_GENERATOR);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) data.data[r * d + i] += truth.data[(r % k) * d + i]!;
  const rows = c.tied ? 1 : k;
  const jitter = noiseMatrix(seed, 2, rows, d, STREAM_DATA_GENERATOR);
  const centres = matrix(rows, d, jitter.data.map((v, i) => truth.data[i]! + v / Math.sqrt(d)));
  const z = noiseMatrix(seed + 1000, 0, n, d, STREAM_TRAINING_NOISE);
  return { data, centres, z };
}

/** m = a_t mu, the parameters the engine works with (docs/math.md section 3); tied: the K = 2 rows [m; -m] the GPU stores. */
export function scaledCentres(centres: Matrix, t: number, tied: boolean): Matrix {
  const { a } = forwardCoefficients(t);
  const d = centres.cols;
  if (!tied) return matrix(centres.rows, d, centres.data.map((v) => a * v));
  const m = matrix(2, d);
  for (let i = 0; i < d; i++) {
    m.data[i] = a * centres.data[i]!;
    m.data[d + i] = -a * centres.data[i]!;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The summation parts of the bounds, from the depth of the engine's sums (test/summation-depth.ts)

/**
 * The summation part of c (in units of u) for dL/dm = (2/N)(sum_n W^T R + C^T X - diag(colsum C) M):
 * each workgroup thread adds 2 L1 products (L1 = samplesPerAccumulator): <= 2 L1 roundings per term (the product
 * and <= 2 L1 - 1 additions, in any order); the reduction adds P partials (<= P - 1 more); the update does
 * colsum*m, a subtraction and the multiplication by 2/N (3 more, and 2/N rounded to f32: u). Each rounding is 2u:
 * 2 (2 L1 + P - 1 + 3) + 1 <= 4 L1 + 2 P + 7, relative to A = (2/N) sum_n (|w r| + |C||x| + |C||m|).
 * Tied: the GPU forms g_1 - g_2, one more subtraction: + 2 on A_1 + A_2.
 */
export function gradientSumFactor(depth: SummationDepth, tied: boolean): number {
  return 4 * depth.samplesPerAccumulator + 2 * depth.partials + 7 + (tied ? 2 : 0);
}

/**
 * The summation part of the loss bound (units of u, relative to L = (1/N) sum ||r||^2): each thread adds the
 * d squares of each of its samples (lossTermsPerThread), the workgroup sum adds its values (WG for the tiled
 * kernel, none for the lane kernel), the reduction P partials, then one multiplication by 1/N (rounded to f32:
 * u): 2 (chain + workgroup + P + 1) + 1.
 */
export function lossSumFactor(depth: SummationDepth): number {
  return 2 * (depth.lossTermsPerThread + depth.workgroupSumTerms + depth.partials + 1) + 1;
}

// ---------------------------------------------------------------------------------------------
// The per-sample first-order error analysis of the fused pass (shaders/tile.wgsl, shaders/ddpm_pass.wgsl)

/** Scratch for one sample's softmax with its error (K entries each). */
interface SoftmaxScratch {
  readonly logits: Float64Array;
  readonly logitErr: Float64Array;
  readonly w: Float64Array;
  /** Bound on the part of |dw_j| caused by the logit errors (these parts sum to zero over j, to first order). */
  readonly wErrLogit: Float64Array;
  /** Bound on the part of |dw_j| from the softmax's own rounding. */
  readonly wErrRound: Float64Array;
}

function softmaxScratch(k: number): SoftmaxScratch {
  return {
    logits: new Float64Array(k),
    logitErr: new Float64Array(k),
    w: new Float64Array(k),
    wErrLogit: new Float64Array(k),
    wErrRound: new Float64Array(k),
  };
}

/**
 * Logits l_j = m_j . x - ||m_j||^2 / 2 and responsibilities w = softmax(l) of one point x (offset xo in xs) with
 * absolute input errors dx, and their first-order float32 error bounds (written into s):
 *  - dot m_j . x over d terms: sum_k |m_jk| dx_k + u sum |m_jk x_k| (m rounded on upload) + 2d u sum |m_jk x_k|
 *    (d products, d - 1 additions, 2u each);
 *  - h_j = ||m_j||^2 / 2: (2 + 2d) u h_j (m rounded: 2u on a square; d products and d - 1 additions);
 *  - the subtraction: 2u (|dot| + h_j);
 *  - softmax: the logit errors move w_j by at most w_j ((1 - w_j) dl_j + sum_{i != j} w_i dl_i), since
 *    dw_j/dl_i = w_j (delta_ij - w_i) (the logits' magnitudes enter through dl; K = 1 is insensitive);
 *    its own rounding: y_j = l_j - max (2u |y_j|, which exp turns into 2u |y_j| relative), exp (6 + 4|y_j|) u,
 *    the sum of K positive terms 2 (K - 1) u, 1 / total 5u, the product 2u; exp(y) below 2^-126 (y < -87) may be
 *    flushed to zero: relative error 1 there.
 */
function softmaxWithError(
  xs: Float64Array,
  xo: number,
  dx: Float64Array,
  m: Float64Array,
  k: number,
  d: number,
  halfNorms: Float64Array,
  s: SoftmaxScratch,
): void {
  const { logits, logitErr, w, wErrLogit, wErrRound } = s;
  let max = -Infinity;
  for (let j = 0; j < k; j++) {
    let dot = 0;
    let absDot = 0;
    let propagated = 0;
    const mo = j * d;
    for (let i = 0; i < d; i++) {
      const mv = m[mo + i]!;
      const p = mv * xs[xo + i]!;
      dot += p;
      absDot += Math.abs(p);
      propagated += Math.abs(mv) * dx[i]!;
    }
    const h = halfNorms[j]!;
    logits[j] = dot - h;
    logitErr[j] = propagated + (1 + 2 * d) * U * absDot + (2 + 2 * d) * U * h + OP * (Math.abs(dot) + h);
    if (logits[j]! > max) max = logits[j]!;
  }
  let total = 0;
  for (let j = 0; j < k; j++) {
    w[j] = Math.exp(logits[j]! - max);
    total += w[j]!;
  }
  let meanLogitErr = 0;
  let meanExpErr = 0;
  const expErr = wErrRound; // holds the relative error of exp(y_j) until the last loop
  for (let j = 0; j < k; j++) {
    w[j] = w[j]! / total;
    const y = logits[j]! - max;
    expErr[j] = y < -87 ? 1 : (6 + 6 * Math.abs(y)) * U;
    meanLogitErr += w[j]! * logitErr[j]!;
    meanExpErr += w[j]! * expErr[j]!;
  }
  const relInverse = meanExpErr + 2 * (k - 1) * U + 5 * U;
  for (let j = 0; j < k; j++) {
    const wj = w[j]!;
    wErrLogit[j] = wj * Math.max(0, (1 - 2 * wj) * logitErr[j]! + meanLogitErr);
    wErrRound[j] = wj * (expErr[j]! + relInverse + OP) + FTZ;
  }
}

function halfSquaredNorms(m: Float64Array, k: number, d: number): Float64Array {
  const h = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += m[j * d + i]! ** 2;
    h[j] = s / 2;
  }
  return h;
}

export interface GradientBound {
  /** A = ddpmGradMagnitude: the size of the sum behind each entry of dL/dm (K x d; tied 1 x d: A_1 + A_2). */
  readonly magnitude: Float64Array;
  /** The per-entry factor c (units of u): |g_gpu - g_ref| <= c u A. */
  readonly c: Float64Array;
  /** c u A, entry by entry. */
  readonly grad: Float64Array;
  /** Bound on |L_gpu - L_ref|. */
  readonly loss: number;
  /** The summation part of c (gradientSumFactor) and the largest per-sample part. */
  readonly sumFactor: number;
  readonly maxSampleFactor: number;
  /**
   * max of c u over the entries whose sum is not down at the flush-to-zero floor (A >= 2^-100; below it the bound
   * is the absolute FTZ term): the first-order analysis needs it far below 1.
   */
  readonly maxRelative: number;
  /** The largest logit error bound over all samples: exp(dl) = 1 + dl to first order needs it far below 1. */
  readonly maxLogitError: number;
}

/**
 * The derived bound on |GPU - float64| for L and dL/dm at scaled centres m (the K rows the GPU stores; tied: [m; -m])
 * with noise z, where the GPU's noise may differ from z by zError (absolute, per entry; omit for an explicit Z).
 *
 * Per sample, first order, the float32 pass computes (each line: what it adds to the absolute error):
 *   x = a x0 + sigma z        6u (a|x0| + sigma|z|)   [x0, z, a, sigma rounded on upload: u each; 2 products, 1 sum: 2u each]
 *                             + sigma dz
 *   zeta = (1/sigma) z        4u |z| / sigma + dz / sigma
 *   logits, w                 softmaxWithError (the logit error is amplified by the logit magnitudes through the softmax)
 *   mbar = sum_j w_j m_j      sum_j (dw_j + u w_j) |m_jk| + 2K u sum_j w_j |m_jk|
 *   r = mbar - x + zeta       dmbar + dx + dzeta + 4u (|mbar| + |x| + |zeta|)-sized terms
 *   q_j = m_j . r             sum_k |m_jk| dr_k + (1 + 2d) u sum_k |m_jk r_k|
 *   mr = sum_i w_i q_i        sum_i (dw_i |q_i| + w_i dq_i) + 2K u sum_i w_i |q_i|
 *   C_j = w_j (q_j - mr)      dw_j |P_j| + w_j (dq_j + dmr + 2u (|q_j| + |mr|)) + 2u w_j |P_j|
 *   term_jk = w_j r_k + C_j x_k - C_j m_jk:   dw_j |r_k| + w_j dr_k + dC_j (|x_k| + |m_jk|) + |C_j| (dx_k + u |m_jk|)
 * The per-sample part of c is (2/N) sum_n term errors / (u A); the summation part is gradientSumFactor.
 */
export function gradientBound(
  x0: Matrix,
  m: Matrix,
  t: number,
  z: Matrix,
  depth: SummationDepth,
  tied: boolean,
  zError?: Float64Array,
): GradientBound {
  const { a, sigma } = forwardCoefficients(t);
  const { rows: n, cols: d } = x0;
  const k = m.rows;
  const md = m.data;
  const absM = md.map(Math.abs);
  const halfNorms = halfSquaredNorms(md, k, d);
  const sm = softmaxScratch(k);
  const x = new Float64Array(d);
  const dx = new Float64Array(d);
  const r = new Float64Array(d);
  const dr = new Float64Array(d);
  const q = new Float64Array(k);
  const dq = new Float64Array(k);
  const cc = new Float64Array(k);
  const dcc = new Float64Array(k);
  const errSum = new Float64Array(k * d);
  let loss = 0;
  let lossErr = 0;
  let maxLogitError = 0;
  for (let row = 0; row < n; row++) {
    const off = row * d;
    for (let i = 0; i < d; i++) {
      const x0v = x0.data[off + i]!;
      const zv = z.data[off + i]!;
      const dz = zError ? zError[off + i]! : 0;
      x[i] = a * x0v + sigma * zv;
      dx[i] = 6 * U * (a * Math.abs(x0v) + sigma * Math.abs(zv)) + sigma * dz;
    }
    softmaxWithError(x, 0, dx, md, k, d, halfNorms, sm);
    const { w, wErrLogit, wErrRound } = sm;
    for (let j = 0; j < k; j++) maxLogitError = Math.max(maxLogitError, sm.logitErr[j]!);
    for (let i = 0; i < d; i++) {
      let mbar = 0;
      let mbarAbs = 0;
      for (let j = 0; j < k; j++) {
        mbar += w[j]! * md[j * d + i]!;
        mbarAbs += w[j]! * absM[j * d + i]!;
      }
      // The logit parts of dw sum to zero over j, so they move mbar by sum_j dw_j (m_jk - mbar_k).
      let mbarErr = 2 * k * U * mbarAbs;
      for (let j = 0; j < k; j++) {
        const mv = md[j * d + i]!;
        mbarErr += wErrLogit[j]! * Math.abs(mv - mbar) + (wErrRound[j]! + U * w[j]!) * Math.abs(mv);
      }
      const zv = z.data[off + i]!;
      const dz = zError ? zError[off + i]! : 0;
      const zeta = zv / sigma;
      const zetaErr = (4 * U * Math.abs(zv)) / sigma + dz / sigma;
      r[i] = mbar - x[i]! + zeta;
      dr[i] = mbarErr + dx[i]! + zetaErr + 2 * OP * (mbarAbs + Math.abs(x[i]!) + Math.abs(zeta));
      loss += r[i]! ** 2;
      lossErr += 2 * Math.abs(r[i]!) * dr[i]!;
    }
    let mr = 0;
    let mrAbs = 0;
    let meanDq = 0;
    for (let j = 0; j < k; j++) {
      let dot = 0;
      let absDot = 0;
      let propagated = 0;
      for (let i = 0; i < d; i++) {
        const p = md[j * d + i]! * r[i]!;
        dot += p;
        absDot += Math.abs(p);
        propagated += absM[j * d + i]! * dr[i]!;
      }
      q[j] = dot;
      dq[j] = propagated + (1 + 2 * d) * U * absDot;
      mr += w[j]! * dot;
      mrAbs += w[j]! * Math.abs(dot);
      meanDq += w[j]! * dq[j]!;
    }
    // mr = sum_i w_i q_i: the w errors (logit parts about mr, as above), its 2K u rounding; the q errors enter P below.
    let mrErr = 2 * k * U * mrAbs;
    for (let j = 0; j < k; j++) mrErr += wErrLogit[j]! * Math.abs(q[j]! - mr) + wErrRound[j]! * Math.abs(q[j]!);
    for (let j = 0; j < k; j++) {
      const p = q[j]! - mr;
      cc[j] = w[j]! * p;
      // P_j = q_j - sum_i w_i q_i moves with the q errors by (1 - w_j) dq_j + sum_{i != j} w_i dq_i.
      const pErr = Math.max(0, (1 - 2 * w[j]!) * dq[j]! + meanDq) + mrErr + OP * (Math.abs(q[j]!) + Math.abs(mr));
      dcc[j] = (wErrLogit[j]! + wErrRound[j]!) * Math.abs(p) + w[j]! * pErr + OP * w[j]! * Math.abs(p);
    }
    for (let j = 0; j < k; j++) {
      const wj = w[j]!;
      const dwj = wErrLogit[j]! + wErrRound[j]!;
      const cj = Math.abs(cc[j]!);
      const dcj = dcc[j]!;
      const o = j * d;
      for (let i = 0; i < d; i++) {
        const am = absM[o + i]!;
        errSum[o + i] += dwj * Math.abs(r[i]!) + wj * dr[i]! + dcj * (Math.abs(x[i]!) + am) + cj * (dx[i]! + U * am);
      }
    }
  }
  const sumFactor = gradientSumFactor(depth, tied);
  const untiedMagnitude = ddpmGradMagnitude(x0, m, t, z).data;
  const rows = tied ? 1 : k;
  const magnitude = new Float64Array(rows * d);
  const sampleErr = new Float64Array(rows * d);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < d; i++) {
      const target = (tied ? 0 : j) * d + i;
      magnitude[target] += untiedMagnitude[j * d + i]!;
      sampleErr[target] += ((2 / n) * errSum[j * d + i]!);
    }
  }
  const c = new Float64Array(rows * d);
  const grad = new Float64Array(rows * d);
  let maxSampleFactor = 0;
  let maxRelative = 0;
  for (let e = 0; e < c.length; e++) {
    const sample = sampleErr[e]! / (U * magnitude[e]!);
    if (magnitude[e]! >= 2 ** -100) maxSampleFactor = Math.max(maxSampleFactor, sample);
    c[e] = sumFactor + sample;
    grad[e] = sampleErr[e]! + sumFactor * U * magnitude[e]!; // = c u A, also where A underflows to 0
    if (magnitude[e]! >= 2 ** -100) maxRelative = Math.max(maxRelative, c[e]! * U);
  }
  const meanLoss = loss / n;
  const lossBound = lossErr / n + lossSumFactor(depth) * U * meanLoss;
  return { magnitude, c, grad, loss: lossBound, sumFactor, maxSampleFactor, maxRelative, maxLogitError };
}

/** Responsibilities w(x_t) (N x K) at noisy points a x0 + sigma z and the bound on each entry's float32 error (softmaxWithError). */
export function responsibilitiesBound(x0: Matrix, m: Matrix, t: number, z: Matrix): { w: Matrix; bound: Matrix } {
  const { a, sigma } = forwardCoefficients(t);
  const { rows: n, cols: d } = x0;
  const k = m.rows;
  const halfNorms = halfSquaredNorms(m.data, k, d);
  const sm = softmaxScratch(k);
  const x = new Float64Array(d);
  const dx = new Float64Array(d);
  const w = matrix(n, k);
  const bound = matrix(n, k);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < d; i++) {
      const x0v = x0.data[row * d + i]!;
      const zv = z.data[row * d + i]!;
      x[i] = a * x0v + sigma * zv;
      dx[i] = 6 * U * (a * Math.abs(x0v) + sigma * Math.abs(zv));
    }
    softmaxWithError(x, 0, dx, m.data, k, d, halfNorms, sm);
    w.data.set(sm.w, row * k);
    for (let j = 0; j < k; j++) bound.data[row * k + j] = sm.wErrLogit[j]! + sm.wErrRound[j]!;
  }
  return { w, bound };
}

/**
 * Bound on the GPU's EM step (mode 'em': mu <- S / n) or gradient-EM step (mode 'gradient': mu <- mu + lr (1/N)(S - n mu))
 * against float64 (docs/math.md section 9; shaders/em_pass.wgsl, update.wgsl emUpdate), first order:
 *   x = x0 rounded on upload (u |x0|); w, dw from softmaxWithError at the rounded centres;
 *   S_jk = sum_n w_j x_k: sum_n (dw_j + u w_j)|x_k| + 2u (L1 + P) sum_n w_j |x_k| (1 product, L1 - 1 + P - 1 additions);
 *   n_j = sum_n w_j: sum_n dw_j + 2u (L1 + P) n_j;
 *   em: S / n (5u): (dS + |mu'| dn) / n + 5u |mu'|;
 *   gradient: n mu (u on mu, 2u), S - n mu (2u), times lr and 1/N (u each on upload, 2u each), mu + that (u on mu, 2u).
 */
export function emBound(x0: Matrix, mu: Matrix, depth: SummationDepth, mode: 'em' | 'gradient', lr = 0): { next: Matrix; bound: Matrix } {
  const { rows: n, cols: d } = x0;
  const k = mu.rows;
  const halfNorms = halfSquaredNorms(mu.data, k, d);
  const sm = softmaxScratch(k);
  const dx = new Float64Array(d);
  const sums = new Float64Array(k * d);
  const sumsAbs = new Float64Array(k * d);
  const sumsErr = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const countsErr = new Float64Array(k);
  for (let row = 0; row < n; row++) {
    const off = row * d;
    for (let i = 0; i < d; i++) dx[i] = U * Math.abs(x0.data[off + i]!);
    softmaxWithError(x0.data, off, dx, mu.data, k, d, halfNorms, sm);
    for (let j = 0; j < k; j++) {
      const wj = sm.w[j]!;
      const dwj = sm.wErrLogit[j]! + sm.wErrRound[j]!;
      counts[j] += wj;
      countsErr[j] += dwj;
      for (let i = 0; i < d; i++) {
        const xv = x0.data[off + i]!;
        sums[j * d + i] += wj * xv;
        sumsAbs[j * d + i] += wj * Math.abs(xv);
        sumsErr[j * d + i] += (dwj + U * wj) * Math.abs(xv);
      }
    }
  }
  const depthOps = OP * (depth.samplesPerAccumulator + depth.partials);
  const next = matrix(k, d);
  const bound = matrix(k, d);
  for (let j = 0; j < k; j++) {
    const cnt = counts[j]!;
    const dCnt = countsErr[j]! + depthOps * cnt;
    for (let i = 0; i < d; i++) {
      const e = j * d + i;
      const dS = sumsErr[e]! + depthOps * sumsAbs[e]!;
      const m0 = mu.data[e]!;
      if (mode === 'em') {
        const v = sums[e]! / cnt;
        next.data[e] = v;
        bound.data[e] = (dS + Math.abs(v) * dCnt) / cnt + 5 * U * Math.abs(v);
      } else {
        const diff = sums[e]! - cnt * m0;
        const step = (lr / n) * diff;
        next.data[e] = m0 + step;
        const dProduct = dCnt * Math.abs(m0) + cnt * (U + OP) * Math.abs(m0);
        const dDiff = dS + dProduct + OP * (Math.abs(sums[e]!) + cnt * Math.abs(m0));
        const dStep = (lr / n) * (dDiff + (2 * U + 2 * OP) * Math.abs(diff));
        bound.data[e] = U * Math.abs(m0) + dStep + OP * (Math.abs(m0) + Math.abs(step));
      }
    }
  }
  return { next, bound };
}

// ---------------------------------------------------------------------------------------------
// The GPU noise against the CPU noise (docs/math.md section 7; shaders/philox.wgsl boxMuller)

/** f32 ULP of |x| (normal range): 2^(floor(log2 |x|) - 23). */
export function ulp32(x: number): number {
  const ax = Math.abs(x);
  if (ax < FTZ) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(ax)) - 23);
}

/**
 * Bound on |angle_gpu - angle| for angle = 2 pi u2 - pi: the literals 2 pi and pi become f32 values within 1 ULP
 * (conversion may pick either neighbour), the product and the difference are each within 1 ULP of their result.
 */
function angleError(u2: number, angle: number): number {
  return ulp32(2 * Math.PI) * u2 + ulp32(2 * Math.PI * u2) + ulp32(Math.PI) + ulp32(angle);
}

/**
 * |cos_gpu(x) - cos(x)| (and sin) for the engine's own cosSin (shaders/philox.wgsl), |x| <= pi: the reduction
 * y = ((x - q P1) - q P2) - q P3 with q <= 2 has an exact first step (Sterbenz) and two roundings of values below
 * pi/4 + (2u each under WGSL's either-way rounding: 3.2u) plus the three-part pi/2's own error (below 1e-14);
 * Cephes' minimax polynomials are within 2u on [-pi/4, pi/4]; their evaluation adds at most 4u (the leading term
 * y or 1 - z/2 rounds once, the small tail a few times at < 0.1 of the size). Under 10u; 16u leaves margin.
 */
const COS_SIN_ERROR = 16 * U;

/**
 * The bound on |z_gpu - z_cpu| for one normal z = r cos(theta) (or r sin) with r = sqrt(v), v = -2 log u1:
 *   log u1: WGSL's log, absolute 2^-21 for u1 in [0.5, 2], 3 ULP below 0.5, so dv = 2 dlog (-2.0 * is exact);
 *   sqrt = 1 / inverseSqrt: 2 ULP then 2.5 ULP, 4.5 ULP (9u) relative, after
 *     |sqrt(v + dv) - sqrt(v)| <= min(dv / sqrt(v), sqrt(dv)) (exact, not first order: r is tiny when u1 ~ 1);
 *   cos, sin: the engine's cosSin, COS_SIN_ERROR absolute; the angle's own error dtheta moves them by <= dtheta;
 *   the product r * cos: < 1 ULP.
 *   |dz| <= (r + dr) COS_SIN_ERROR + |cos or sin| dr + (r + dr) dtheta + 1 ULP(|z|).
 */
export function normalBound(u1: number, u2: number, trig: 'cos' | 'sin'): number {
  const v = -2 * Math.log(u1);
  const r = Math.sqrt(v);
  const dLog = u1 >= 0.5 ? 2 ** -21 : 3 * ulp32(Math.log(u1));
  const dv = 2 * dLog;
  const sqrtMoved = Math.min(dv / r, Math.sqrt(dv));
  const dr = sqrtMoved + 9 * U * (r + sqrtMoved);
  const angle = 2 * Math.PI * u2 - Math.PI;
  const t = trig === 'cos' ? Math.cos(angle) : Math.sin(angle);
  const rr = r + dr;
  return rr * COS_SIN_ERROR + Math.abs(t) * dr + rr * angleError(u2, angle) + ulp32(rr * (Math.abs(t) + COS_SIN_ERROR));
}

/** Per-entry spec bounds (normalBound) on |z_gpu - z_cpu| of the N x d noise of (seed, step) on `stream` (the training noise by default). */
export function noiseBound(seed: number, step: number, rows: number, cols: number, stream = STREAM_TRAINING_NOISE): Float64Array {
  const [k0, k1] = seedKey(seed);
  const out = new Float64Array(rows * cols);
  const words = new Uint32Array(4);
  for (let n = 0; n < rows; n++) {
    for (let c4 = 0; 4 * c4 < cols; c4++) {
      philoxInto(n, c4, step, stream, k0, k1, words);
      for (let lane = 0; lane < 4 && 4 * c4 + lane < cols; lane++) {
        const pair = lane >> 1;
        const u1 = uniformFromWord(words[2 * pair]!);
        const u2 = uniformFromWord(words[2 * pair + 1]!);
        out[n * cols + 4 * c4 + lane] = normalBound(u1, u2, lane % 2 === 0 ? 'cos' : 'sin');
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Propagating per-step gradient bounds through gradient descent (docs/math.md section 6)

export interface GdPropagation {
  /** The float64 iterates m_0 .. m_H (scaled), flattened K x d. */
  readonly iterates: Float64Array[];
  /** Entrywise bounds on |m_gpu - m_ref| after each step (index s: after s steps). */
  readonly bounds: Float64Array[];
}

/**
 * Linearised propagation of the GPU's per-step errors along the float64 trajectory m_{s+1} = m_s - lr g_s(m_s):
 *   b_{s+1} = |J_s| b_s + lr gradBound_s + 3u lr |g_s| + 2u |m_{s+1}|
 * with J_s = I - lr H_s, the Jacobian of one step, measured by central differences of the float64 gradient
 * (the GPU's lr is rounded (u), lr * g is one product (2u), the subtraction 2u); b_0 = u |m_0| (upload rounding).
 * With a projection radius (scaled), a row projected onto the ball gets the projection's Jacobian
 * (radius / |m|)(I - m m^T / |m|^2) and the rounding of the GPU's projection: the norm (d terms: 2d u relative,
 * halved by the sqrt), the sqrt (9u), radius / norm (5u, radius rounded: u), the product (2u): (d + 17) u |m|.
 * First order: valid while the bounds stay far below the distance to the projection's kink (checked).
 */
export function propagateGd(options: {
  readonly m0: Float64Array;
  readonly rows: number;
  readonly steps: number;
  readonly lr: number;
  readonly gradient: (m: Float64Array, step: number) => Float64Array;
  readonly gradientBound: (m: Float64Array, step: number) => Float64Array;
  readonly projectRadius?: number;
}): GdPropagation {
  const { rows, steps, lr } = options;
  const p = options.m0.length;
  const d = p / rows;
  let m = Float64Array.from(options.m0);
  let b = m.map((v) => U * Math.abs(v));
  const iterates = [Float64Array.from(m)];
  const bounds = [Float64Array.from(b)];
  const jac = new Float64Array(p * p);
  for (let s = 0; s < steps; s++) {
    const g = options.gradient(m, s);
    const gb = options.gradientBound(m, s);
    // J = I - lr H with H's columns by central differences (h = 1e-5: truncation ~1e-10, rounding ~1e-11 relative).
    for (let col = 0; col < p; col++) {
      const h = 1e-5 * Math.max(1, Math.abs(m[col]!));
      const plus = Float64Array.from(m);
      const minus = Float64Array.from(m);
      plus[col] += h;
      minus[col] -= h;
      const gp = options.gradient(plus, s);
      const gm = options.gradient(minus, s);
      for (let row = 0; row < p; row++) jac[row * p + col] = (row === col ? 1 : 0) - (lr * (gp[row]! - gm[row]!)) / (2 * h);
    }
    const next = new Float64Array(p);
    const nb = new Float64Array(p);
    for (let row = 0; row < p; row++) {
      next[row] = m[row]! - lr * g[row]!;
      let acc = 0;
      for (let col = 0; col < p; col++) acc += Math.abs(jac[row * p + col]!) * b[col]!;
      nb[row] = acc + lr * gb[row]! + 3 * U * lr * Math.abs(g[row]!) + OP * Math.abs(next[row]!);
    }
    if (options.projectRadius !== undefined) {
      const radius = options.projectRadius;
      for (let j = 0; j < rows; j++) {
        let norm2 = 0;
        let boundNorm2 = 0;
        for (let i = 0; i < d; i++) {
          norm2 += next[j * d + i]! ** 2;
          boundNorm2 += nb[j * d + i]! ** 2;
        }
        const norm = Math.sqrt(norm2);
        if (Math.abs(norm - radius) <= 10 * Math.sqrt(boundNorm2)) {
          throw new Error(`propagateGd: step ${s} row ${j} lies within the error bound of the projection's kink`);
        }
        if (norm <= radius) continue;
        const f = radius / norm;
        const projected = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          let acc = 0;
          for (let l = 0; l < d; l++) {
            const jpl = f * ((i === l ? 1 : 0) - (next[j * d + i]! * next[j * d + l]!) / norm2);
            acc += Math.abs(jpl) * nb[j * d + l]!;
          }
          projected[i] = acc + (d + 17) * U * Math.abs(f * next[j * d + i]!);
        }
        for (let i = 0; i < d; i++) {
          next[j * d + i] = f * next[j * d + i]!;
          nb[j * d + i] = projected[i]!;
        }
      }
    }
    m = next;
    b = nb;
    iterates.push(Float64Array.from(m));
    bounds.push(Float64Array.from(b));
  }
  return { iterates, bounds };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export function frobenius(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

/** ||a - b|| / ||b||. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** The largest |a_i - b_i| / bound_i and the index where it occurs. */
export function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, bound: ArrayLike<number>): { ratio: number; index: number } {
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < b.length; i++) {
    const q = Math.abs(a[i]! - b[i]!) / bound[i]!;
    if (Number.isNaN(q)) return { ratio: Infinity, index: i }; // a NaN on either side fails every bound
    if (q > ratio) {
      ratio = q;
      index = i;
    }
  }
  return { ratio, index };
}
