// DERIVED float32 bounds for the general student's GPU sampler (shaders/student_sample.wgsl) against the float64
// CPU sampler (src/sampling/cpu-sampler.ts with a StudentScore), under the per-operation rules of
// test/support/bounds.ts (+, -, * within 2u; x / y 5u; exp (6 + 4|x|) u; any order of a sum of n terms;
// host-side float32 conversions u), first order in u, as test/support/sampling-bounds.ts does for the mixture.
import { seedKey } from '../../src/math/philox.ts';
import { type SamplerStep, stepsToRun } from '../../src/sampling/grid.ts';
import type { SamplerOptions } from '../../src/sampling/options.ts';
import { studentAtTimeInto, studentAtTimeScratch, type StudentScore } from '../../src/sampling/student-score.ts';
import { FTZ, OP, U } from './bounds.ts';
import { noiseWithBound, type SamplerBound } from './sampling-bounds.ts';

/** The score at y with its local rounding bound (input exact) and its Jacobian. */
interface ScoreAt {
  readonly s: Float64Array;
  readonly ds: Float64Array;
  /** d s / d y = Cov_w(e) - sum_j w_j diag(p_j), d x d. */
  readonly jac: Float64Array;
  /** max_j sum_c |e_jc| b_c: how far an error b of y moves a logit (d logit_j / d y = e_j). */
  logitShift(b: Float64Array): number;
}

/**
 * s(y) = sum_j w_j p_j (a mu_j - y) as student_sample.wgsl computes it, and its rounding bound:
 *   host: p, the log-constant lc, a and mu rounded to float32 (u each);
 *   m = a mu: 4u |m|; u_c = y_c - m_c: du = 2u |y_c| + 6u |m_c|;
 *   p u^2: p (2 |u| du + 5u u^2) (u^2 2u, p's u, the product 2u); q = their sum over 4 D4 lanes: 2u (4 D4) q more;
 *   l = lc - q / 2: dl = u |lc| + dq / 2 + 2u q / 2 + 2u (|lc| + q / 2);
 *   w = softmax(l) as sampling-bounds.ts meanCentre: the logit part w_j ((1 - 2 w_j) dl_j + sum_i w_i dl_i), whose
 *     sum over j is zero, moves s_c by sum_j dwL_j |e_jc - s_c|; the rounding part (exp, K - 1 additions, 1 / total,
 *     w * inv) by sum_j dwR_j |e_jc|;
 *   each term (w p)(m - y): 5u |w p (m - y)| (p's u, two products) plus w p du; K terms summed: 2u K sum_j |term|.
 */
function scoreAt(q: ReturnType<typeof studentAtTimeScratch>, k: number, d: number, y: Float64Array): ScoreAt {
  const d4 = Math.ceil(d / 4);
  const { scaled: m, precisions: p, logConst: lc } = q;
  const logits = new Float64Array(k);
  const dl = new Float64Array(k);
  let max = -Infinity;
  for (let j = 0; j < k; j++) {
    let sq = 0;
    let dq = 0;
    for (let c = 0; c < d; c++) {
      const e = j * d + c;
      const u = y[c]! - m[e]!;
      const du = 2 * U * Math.abs(y[c]!) + 6 * U * Math.abs(m[e]!);
      sq += p[e]! * u * u;
      dq += p[e]! * (2 * Math.abs(u) * du + 5 * U * u * u);
    }
    dq += OP * 4 * d4 * sq;
    logits[j] = lc[j]! - sq / 2;
    dl[j] = U * Math.abs(lc[j]!) + dq / 2 + OP * (sq / 2) + OP * (Math.abs(lc[j]!) + sq / 2);
    max = Math.max(max, logits[j]!);
  }
  const w = new Float64Array(k);
  const expErr = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) {
    const shifted = logits[j]! - max;
    w[j] = Math.exp(shifted);
    total += w[j]!;
    expErr[j] = shifted < -87 ? 1 : (6 + 6 * Math.abs(shifted)) * U;
  }
  let meanDl = 0;
  let meanExpErr = 0;
  for (let j = 0; j < k; j++) {
    w[j] = w[j]! / total;
    meanDl += w[j]! * dl[j]!;
    meanExpErr += w[j]! * expErr[j]!;
  }
  const relInverse = meanExpErr + 2 * (k - 1) * U + 5 * U;
  const e = new Float64Array(k * d);
  const s = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    for (let c = 0; c < d; c++) {
      e[j * d + c] = p[j * d + c]! * (m[j * d + c]! - y[c]!);
      s[c] += w[j]! * e[j * d + c]!;
    }
  }
  const ds = new Float64Array(d);
  const jac = new Float64Array(d * d);
  for (let j = 0; j < k; j++) {
    const wj = w[j]!;
    const logitPart = wj * Math.max(0, (1 - 2 * wj) * dl[j]! + meanDl);
    const roundPart = wj * (expErr[j]! + relInverse + OP) + FTZ;
    for (let c = 0; c < d; c++) {
      const ejc = e[j * d + c]!;
      const du = 2 * U * Math.abs(y[c]!) + 6 * U * Math.abs(m[j * d + c]!);
      ds[c] += logitPart * Math.abs(ejc - s[c]!) + roundPart * Math.abs(ejc) + wj * (5 * U * Math.abs(ejc) + p[j * d + c]! * du) + OP * k * wj * Math.abs(ejc);
      jac[c * d + c] -= wj * p[j * d + c]!;
      for (let f = 0; f < d; f++) jac[c * d + f] += wj * (ejc - s[c]!) * (e[j * d + f]! - s[f]!);
    }
  }
  const logitShift = (b: Float64Array): number => {
    let worst = 0;
    for (let j = 0; j < k; j++) {
      let t = 0;
      for (let c = 0; c < d; c++) t += Math.abs(e[j * d + c]!) * b[c]!;
      worst = Math.max(worst, t);
    }
    return worst;
  };
  return { s, ds, jac, logitShift };
}

/** |M| b for a d x d matrix M. */
function absTimes(m: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let c = 0; c < d; c++) for (let f = 0; f < d; f++) out[c] += Math.abs(m[c * d + f]!) * b[f]!;
  return out;
}

/**
 * Propagates b_{k+1} = |J_k| b_k + local_k along the float64 trajectory of each sample, as samplerBound does, with
 * the student's score: flow f = y + s rounds 2u (|y| + |s|), and the loop's s = f - y 2u (|f| + |y|).
 * SDE steps, y' = y + (cy y + cs s + cxi xi): J = (1 + cy) I + cs J_s;
 *   local = |cs| ds' + |cxi| dxi + 7u (|cy y| + |cs s| + |cxi xi|) + 2u (|y| + |inc|), ds' = ds + 2u (|y| + |s|) + 2u (|f| + |y|).
 * Heun, p = y + (cy y + cs s_1), y' = y + (h/2)(f_1 + f_2(p)):
 *   dp = 5u (|cy y| + |cs s_1|) + |cs| ds_1' + 2u (|y| + |inc_1|);
 *   df_1 = ds_1 + 2u (|y| + |s_1|); df_2 = |I + J_s2| dp + ds_2 + 2u (|p| + |s_2|);
 *   local = (h/2)(df_1 + df_2 + 2u (|f_1| + |f_2|)) + 3u |(h/2) g| + 2u (|y| + |(h/2) g|), g = f_1 + f_2;
 *   J = I + (h/2)((I + J_s1) + (I + J_s2) P), P = (1 + cy) I + cs J_s1.
 */
export function studentSamplerBound(score: StudentScore, n: number, options: SamplerOptions): SamplerBound {
  const { rows: k, cols: d } = score.means;
  const steps = stepsToRun(options);
  const key = seedKey(options.seed);
  const start = options.method === 'langevin' ? options.start : undefined;
  const out = new Float64Array(n * d);
  const bound = new Float64Array(n * d);
  let maxLogitShift = 0;
  // The per-time numbers in float64, once per step (and per next time for Heun).
  const times = steps.map((st) => {
    const now = studentAtTimeScratch(k, d);
    studentAtTimeInto(score, st.t, st.a, now);
    const next = studentAtTimeScratch(k, d);
    studentAtTimeInto(score, st.tNext, st.aNext, next);
    return { now, next };
  });
  for (let r = 0; r < n; r++) {
    let y: Float64Array;
    let b: Float64Array;
    if (start) {
      y = start.data.slice(r * d, (r + 1) * d);
      b = y.map((v) => U * Math.abs(v));
    } else {
      const s0 = noiseWithBound(key, r, 0, d);
      y = s0.z;
      b = s0.dz;
    }
    steps.forEach((step, kk) => {
      const { now, next } = times[kk]!;
      const at = scoreAt(now, k, d, y);
      maxLogitShift = Math.max(maxLogitShift, at.logitShift(b));
      [y, b] = options.method === 'ode' ? heunStep(at, (p) => scoreAt(next, k, d, p), d, y, b, step) : sdeStep(at, d, y, b, step, noiseWithBound(key, r, kk + 1, d));
    });
    out.set(y, r * d);
    bound.set(b, r * d);
  }
  return { y: out, bound, maxLogitShift };
}

function sdeStep(at: ScoreAt, d: number, y: Float64Array, b: Float64Array, st: SamplerStep, xi: { z: Float64Array; dz: Float64Array }): [Float64Array, Float64Array] {
  const { cy, cs, cxi } = st;
  const propagated = absTimes(at.jac, b, d);
  const next = new Float64Array(d);
  const nb = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const s = at.s[c]!;
    const f = y[c]! + s;
    const inc = cy * y[c]! + cs * s + cxi * xi.z[c]!;
    next[c] = y[c]! + inc;
    const ds = at.ds[c]! + OP * (Math.abs(y[c]!) + Math.abs(s)) + OP * (Math.abs(f) + Math.abs(y[c]!));
    const local = Math.abs(cs) * ds + Math.abs(cxi) * xi.dz[c]! + 7 * U * (Math.abs(cy * y[c]!) + Math.abs(cs * s) + Math.abs(cxi * xi.z[c]!)) + OP * (Math.abs(y[c]!) + Math.abs(inc));
    // J = (1 + cy) I + cs J_s: the diagonal's 1 + cy with cs J_s's own diagonal, the rest through |cs J_s|.
    const jDiag = 1 + cy + cs * at.jac[c * d + c]!;
    nb[c] = Math.abs(jDiag) * b[c]! + Math.abs(cs) * (propagated[c]! - Math.abs(at.jac[c * d + c]!) * b[c]!) + local;
  }
  return [next, nb];
}

function heunStep(at1: ScoreAt, scoreNext: (p: Float64Array) => ScoreAt, d: number, y: Float64Array, b: Float64Array, st: SamplerStep): [Float64Array, Float64Array] {
  const { cy, cs, h } = st;
  const half = h / 2;
  const p = new Float64Array(d);
  const dp = new Float64Array(d);
  const f1 = new Float64Array(d);
  const df1 = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const s1 = at1.s[c]!;
    f1[c] = y[c]! + s1;
    df1[c] = at1.ds[c]! + OP * (Math.abs(y[c]!) + Math.abs(s1));
    const ds1 = df1[c]! + OP * (Math.abs(f1[c]!) + Math.abs(y[c]!));
    const inc = cy * y[c]! + cs * s1;
    p[c] = y[c]! + inc;
    dp[c] = 5 * U * (Math.abs(cy * y[c]!) + Math.abs(cs * s1)) + Math.abs(cs) * ds1 + OP * (Math.abs(y[c]!) + Math.abs(inc));
  }
  const at2 = scoreNext(p);
  const jf2 = at2.jac.slice();
  for (let c = 0; c < d; c++) jf2[c * d + c] += 1;
  const moved = absTimes(jf2, dp, d);
  // J = I + (h/2)((I + J_s1) + (I + J_s2) P), P = (1 + cy) I + cs J_s1.
  const jac = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let e = 0; e < d; e++) {
      let fp = 0;
      for (let l = 0; l < d; l++) fp += jf2[c * d + l]! * ((l === e ? 1 + cy : 0) + cs * at1.jac[l * d + e]!);
      jac[c * d + e] = (c === e ? 1 : 0) + half * ((c === e ? 1 : 0) + at1.jac[c * d + e]! + fp);
    }
  }
  const propagated = absTimes(jac, b, d);
  const next = new Float64Array(d);
  const nb = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const f2 = p[c]! + at2.s[c]!;
    const df2 = moved[c]! + at2.ds[c]! + OP * (Math.abs(p[c]!) + Math.abs(at2.s[c]!));
    const g = f1[c]! + f2;
    const step = half * g;
    next[c] = y[c]! + step;
    const local = Math.abs(half) * (df1[c]! + df2 + OP * (Math.abs(f1[c]!) + Math.abs(f2))) + 3 * U * Math.abs(step) + OP * (Math.abs(y[c]!) + Math.abs(step));
    nb[c] = propagated[c]! + local;
  }
  return [next, nb];
}
