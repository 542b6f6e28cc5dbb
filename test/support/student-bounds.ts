// The derived float32 tolerance of the general student's GPU pass (shaders/student_lanes.wgsl and
// student_update.wgsl) against the float64 pass of src/training/general-reference.ts (docs/math.md section 14),
// with the accuracy rules of bounds.ts (every +, -, * is OP = 2u, a term touched by n operations of a sum in
// any order carries n OP; host conversions to f32 round to nearest, u; first order in u).
import { forwardCoefficients } from '../../src/math/forward.ts';
import { logWeightsOf, variancesOf, type StudentParams } from '../../src/training/student.ts';
import type { Matrix } from '../../src/types.ts';
import { FTZ, OP, U } from './bounds.ts';

export interface StudentBound {
  readonly loss: number;
  /** |dL/dm_gpu - dL/dm_ref| per entry (K x d), and the same for gamma (K x cols) and beta (K). */
  readonly gradM: Float64Array;
  readonly gradGamma: Float64Array;
  readonly gradBeta: Float64Array;
  /** The largest logit error: exp(dl) = 1 + dl to first order needs it far below 1. */
  readonly maxLogitError: number;
}

/**
 * The precisions and log-constants come from student_update.wgsl's deriveStudent, in f32 from gamma and beta (f32
 * uploads, u each): v = a^2 (floor + exp(gamma)) + sigma^2 carries (6 + 5|gamma|) u (exp of a rounded gamma),
 * 3 OP and 2u (a^2, sigma^2) relative; p = 1/v 5u more. log pi = beta - lse(beta): lse's exps (6 + 4|y|) u and
 * an OP each, its K-term sum, its log (logError) and the subtraction; (1/2) sum_j log v_ij: each log's logError
 * plus v's relative error, d OP on the sum; logConst's subtraction OP.
 * Per sample, first order, each line the absolute error it adds (the host uploads x0, z, m, a, sigma, 1/sigma as
 * f32: u each):
 *   x = a x0 + sigma z        6u (a|x0| + sigma|z|);  zeta = z / sigma: 4u |z| / sigma
 *   diff = m - x              u|m| + dx + OP|diff|;    e = diff p: p ddiff + (pRel + OP) |e|
 *   q_i = sum_j diff e        sum_j (|e| ddiff + |diff| de) + d OP sum_j |diff e|
 *   logit_i = logConst - q/2  dLogConst + dq/2 + OP (|logConst| + |q|/2)
 *   w = softmax               logit errors: w_i ((1 - 2 w_i) dl_i + sum_k w_k dl_k); its own rounding as bounds.ts
 *   s = sum_i w_i e_i         sum_i (dw_i |e_i| + w_i de_i) + K OP sum_i w_i |e_i|;  r = s + zeta: + OP (|s| + |zeta|)
 *   g_i = r . e_i             sum_j (|e| dr + |r| de) + d OP sum_j |r e|;  gbar = sum w g: likewise over K
 *   h_i = w_i (g_i - gbar)    dw |g - gbar| + w (dg + dgbar + OP |g - gbar|) + OP |h|
 *   term m = w r p - h e      propagated + 4 OP (|w r p| + |h e|)   (3 products and a subtraction; pRel on p)
 *   term v = -w r e p + h (e^2 - p)/2     propagated + 4 OP (|w r e p| + |h| (e^2 + p)/2)
 * Sums: each lane adds L samples, the reduction P partials, then 2/N (f32, u) times the total: (L + P + 2) OP
 * on the sum of the terms' magnitudes. gamma: a^2 exp(gamma) dL/dv, with gamma as f32 (|gamma| u through exp),
 * exp (6 + 4|gamma|) u, a^2 (u) and two products; spherical adds the d coordinates first (d OP).
 */
export function studentBound(x0: Matrix, m: Matrix, s: StudentParams, t: number, z: Matrix, lanes: number, partials: number): StudentBound {
  const { a, sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const c = variancesOf(s, d);
  const cols = s.gamma.cols;
  const v = c.data.map((ci) => (cols === 0 ? 1 : a * a * ci + sigma * sigma));
  const p = v.map((vi) => 1 / vi);
  const logPi = logWeightsOf(s.beta);
  const logConst = new Float64Array(K);
  const dLogConst = new Float64Array(K);
  const pRel = new Float64Array(K * d);
  const maxBeta = Math.max(...s.beta);
  const lse = logPi.length > 0 ? s.beta[0]! - logPi[0]! : 0;
  let dLse = logError(Math.exp(lse - maxBeta)) + K * OP + OP * Math.abs(lse);
  for (const b of s.beta) dLse += Math.exp(b - lse) * ((6 + 4 * Math.abs(b - maxBeta)) * U + OP + U * Math.abs(b));
  for (let i = 0; i < K; i++) {
    let ld = 0, dld = 0, absld = 0;
    for (let j = 0; j < d; j++) {
      const k = i * d + j;
      const gammaValue = cols === 0 ? 0 : s.gamma.data[i * cols + (cols === 1 ? 0 : j)]!;
      const vRel = cols === 0 ? 0 : (6 + 5 * Math.abs(gammaValue)) * U + 3 * OP + 2 * U;
      pRel[k] = cols === 0 ? 0 : vRel + 5 * U;
      const lv = Math.log(v[k]!);
      ld += lv;
      absld += Math.abs(lv);
      dld += (cols === 0 ? 0 : logError(v[k]!)) + vRel;
    }
    logConst[i] = logPi[i]! - ld / 2;
    const halfErr = (dld + d * OP * absld) / 2;
    dLogConst[i] = U * Math.abs(s.beta[i]!) + dLse + OP * (Math.abs(s.beta[i]!) + Math.abs(lse)) + halfErr + OP * (Math.abs(logPi[i]!) + absld / 2);
  }
  const L = Math.ceil(N / lanes);
  const sumFactor = (L + partials + 2) * OP;
  const errM = new Float64Array(K * d), magM = new Float64Array(K * d);
  const errV = new Float64Array(K * d), magV = new Float64Array(K * d);
  const errB = new Float64Array(K), magB = new Float64Array(K);
  let lossErr = 0, lossMag = 0, maxLogitError = 0;
  const x = new Float64Array(d), dx = new Float64Array(d), zeta = new Float64Array(d), dzeta = new Float64Array(d);
  const diff = new Float64Array(K * d), ddiff = new Float64Array(K * d), e = new Float64Array(K * d), de = new Float64Array(K * d);
  const logit = new Float64Array(K), dl = new Float64Array(K), w = new Float64Array(K), dw = new Float64Array(K);
  const r = new Float64Array(d), dr = new Float64Array(d), g = new Float64Array(K), dg = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < d; j++) {
      const x0j = x0.data[n * d + j]!, zj = z.data[n * d + j]!;
      x[j] = a * x0j + sigma * zj;
      dx[j] = 6 * U * (a * Math.abs(x0j) + sigma * Math.abs(zj));
      zeta[j] = zj / sigma;
      dzeta[j] = (4 * U * Math.abs(zj)) / sigma;
    }
    let max = -Infinity;
    for (let i = 0; i < K; i++) {
      let q = 0, dq = 0, absq = 0;
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        diff[k] = m.data[k]! - x[j]!;
        ddiff[k] = U * Math.abs(m.data[k]!) + dx[j]! + OP * Math.abs(diff[k]!);
        e[k] = diff[k]! * p[k]!;
        de[k] = p[k]! * ddiff[k]! + (pRel[k]! + OP) * Math.abs(e[k]!);
        q += diff[k]! * e[k]!;
        absq += Math.abs(diff[k]! * e[k]!);
        dq += Math.abs(e[k]!) * ddiff[k]! + Math.abs(diff[k]!) * de[k]!;
      }
      logit[i] = logConst[i]! - q / 2;
      dl[i] = dLogConst[i]! + (dq + d * OP * absq) / 2 + OP * (Math.abs(logConst[i]!) + Math.abs(q) / 2);
      maxLogitError = Math.max(maxLogitError, dl[i]!);
      if (logit[i]! > max) max = logit[i]!;
    }
    softmaxError(logit, dl, max, w, dw);
    let loss = 0, dloss = 0;
    for (let j = 0; j < d; j++) {
      let sj = 0, ds = 0, abss = 0;
      for (let i = 0; i < K; i++) {
        const k = i * d + j;
        sj += w[i]! * e[k]!;
        ds += dw[i]! * Math.abs(e[k]!) + w[i]! * de[k]!;
        abss += w[i]! * Math.abs(e[k]!);
      }
      r[j] = sj + zeta[j]!;
      dr[j] = ds + K * OP * abss + dzeta[j]! + OP * (Math.abs(sj) + Math.abs(zeta[j]!));
      loss += r[j]! ** 2;
      dloss += 2 * Math.abs(r[j]!) * dr[j]!;
    }
    lossErr += dloss + d * OP * loss;
    lossMag += loss;
    let gbar = 0, dgbar = 0, absgbar = 0;
    for (let i = 0; i < K; i++) {
      let gi = 0, dgi = 0, absg = 0;
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        gi += r[j]! * e[k]!;
        absg += Math.abs(r[j]! * e[k]!);
        dgi += Math.abs(e[k]!) * dr[j]! + Math.abs(r[j]!) * de[k]!;
      }
      g[i] = gi;
      dg[i] = dgi + d * OP * absg;
      gbar += w[i]! * gi;
      absgbar += w[i]! * Math.abs(gi);
      dgbar += dw[i]! * Math.abs(gi) + w[i]! * dg[i]!;
    }
    dgbar += K * OP * absgbar;
    for (let i = 0; i < K; i++) {
      const gap = Math.abs(g[i]! - gbar);
      const h = w[i]! * (g[i]! - gbar);
      const dh = dw[i]! * gap + w[i]! * (dg[i]! + dgbar + OP * gap) + OP * Math.abs(h);
      errB[i] += dh;
      magB[i] += Math.abs(h);
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        const ae = Math.abs(e[k]!), ar = Math.abs(r[j]!), pk = p[k]!;
        const wrp = w[i]! * ar * pk;
        errM[k] += dw[i]! * ar * pk + w[i]! * dr[j]! * pk + pRel[k]! * wrp + dh * ae + Math.abs(h) * de[k]! + 4 * OP * (wrp + Math.abs(h) * ae);
        magM[k] += wrp + Math.abs(h) * ae;
        const quad = (e[k]! ** 2 + pk) / 2;
        errV[k] += dw[i]! * ar * ae * pk + w[i]! * (dr[j]! * ae * pk + ar * de[k]! * pk + pRel[k]! * ar * ae * pk) +
          (dh * Math.abs(e[k]! ** 2 - pk)) / 2 + Math.abs(h) * (2 * ae * de[k]! + pRel[k]! * pk) / 2 + 4 * OP * (wrp * ae + Math.abs(h) * quad);
        magV[k] += wrp * ae + Math.abs(h) * quad;
      }
    }
  }
  const scale = 2 / N;
  const gradM = errM.map((err, k) => scale * (err + sumFactor * magM[k]!) + FTZ);
  const gradV = errV.map((err, k) => scale * (err + sumFactor * magV[k]!));
  const vMag = magV.map((mag) => scale * mag);
  const gradBeta = errB.map((err, i) => (s.weights === 'learned' ? scale * (err + sumFactor * magB[i]!) + FTZ : 0));
  const gradGamma = new Float64Array(s.gamma.data.length);
  for (let i = 0; i < K && cols > 0; i++) {
    const sphericalErr = cols === 1 ? Array.from({ length: d }, (_, j) => gradV[i * d + j]!).reduce((q, w) => q + w, 0) : 0;
    const sphericalMag = cols === 1 ? Array.from({ length: d }, (_, j) => vMag[i * d + j]!).reduce((q, w) => q + w, 0) : 0;
    for (let col = 0; col < cols; col++) {
      const gk = i * cols + col;
      const gammaValue = s.gamma.data[gk]!;
      const factor = a * a * Math.exp(gammaValue);
      const rel = (6 + 5 * Math.abs(gammaValue)) * U + U + 2 * OP;
      const [err, mag] = cols === 1 ? [sphericalErr, sphericalMag] : [gradV[i * d + col]!, vMag[i * d + col]!];
      // Spherical: the d coordinates' dL/dv are added first (d OP on their magnitudes).
      gradGamma[gk] = factor * (err + (rel + (cols === 1 ? d * OP : 0)) * mag) + FTZ;
    }
  }
  return { loss: (lossErr + (L + partials + 1) * OP * lossMag) / N + FTZ, gradM, gradGamma, gradBeta, maxLogitError };
}

/** WGSL's log(y): absolute 2^-21 on [0.5, 2], 3 ULP (6u relative) outside. */
function logError(y: number): number {
  return y >= 0.5 && y <= 2 ? 2 ** -21 : 6 * U * Math.abs(Math.log(y));
}

/** w = softmax(logit) and |dw|: the logit errors' share and the softmax's own rounding (as bounds.ts). */
function softmaxError(logit: Float64Array, dl: Float64Array, max: number, w: Float64Array, dw: Float64Array): void {
  const K = logit.length;
  let total = 0;
  for (let i = 0; i < K; i++) total += (w[i] = Math.exp(logit[i]! - max));
  let meanDl = 0, meanExp = 0;
  const expErr = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    w[i] = w[i]! / total;
    const y = logit[i]! - max;
    expErr[i] = y < -87 ? 1 : (6 + 6 * Math.abs(y)) * U;
    meanDl += w[i]! * dl[i]!;
    meanExp += w[i]! * expErr[i]!;
  }
  const relInverse = meanExp + 2 * (K - 1) * U + 5 * U;
  for (let i = 0; i < K; i++) {
    dw[i] = w[i]! * Math.max(0, (1 - 2 * w[i]!) * dl[i]! + meanDl) + w[i]! * (expErr[i]! + relInverse + OP) + FTZ;
  }
}
