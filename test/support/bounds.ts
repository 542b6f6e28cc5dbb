// The float32 error analysis that turns an engine case (cases.ts) into a DERIVED tolerance for the GPU engine's
// fused pass and EM pass against the float64 CPU reference, and the accuracy rules every bound in test/support uses.
//
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
import { matrix, type Matrix } from '../../src/types.ts';
import type { SummationDepth } from './summation-depth.ts';

/** Unit roundoff of float32 round-to-nearest. */
export const U = 2 ** -24;
/** One WGSL +, -, * on f32: rounded up or down, < 1 ULP <= 2^-23 = 2u relative. */
export const OP = 2 * U;
/** The smallest normal f32: what flush-to-zero may remove from any value. */
export const FTZ = 2 ** -126;

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
// The float32 squared distance of the nearest-centre search (shaders/centre_search.wgsl)

/**
 * A bound on |fl32(||x - mu||^2) - ||x - mu||^2| for row xo of x and row mo of mu (d columns), as
 * shaders/centre_search.wgsl computes it, with s_c = |x_c| + |mu_c|:
 *  - upload: x_c and mu_c rounded to float32 (u |x_c| + u |mu_c| = u s_c on their difference);
 *  - the subtraction: 2u |x_c - mu_c| <= 2u s_c, so the float32 difference is within 3u s_c of the exact one;
 *  - the square: (x_c - mu_c)^2 moves by <= 2 s_c 3u s_c = 6u s_c^2, and its own rounding adds 2u s_c^2: 8u s_c^2;
 *  - the sum of the d squares (the vec4 lanes and their tree, or any reassociation): each term touched by
 *    <= d - 1 additions of 2u each: 2 (d - 1) u sum_c s_c^2;
 *  - flush to zero: each square and partial sum may lose FTZ: 2 d FTZ.
 * In all (2d + 6) u sum_c s_c^2 + 2 d FTZ. The zero padding of the last vec4 adds nothing: its differences,
 * squares and additions are exact. (gamma_d times the sum of squared differences alone is too small: it leaves
 * out the rounding of the inputs and of the subtraction, which are relative to s_c, not to |x_c - mu_c|, and
 * WGSL's 2u per operation.)
 */
export function squaredDistanceError(x: Float64Array, xo: number, mu: Float64Array, mo: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += (Math.abs(x[xo * d + c]!) + Math.abs(mu[mo * d + c]!)) ** 2;
  return (2 * d + 6) * U * s + 2 * d * FTZ;
}
