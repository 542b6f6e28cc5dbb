// DERIVED float32 bounds for the GPU samplers (shaders/sample_step.wgsl) and the GPU energy distance
// (shaders/energy_distance.wgsl) against the float64 reference (src/sampling/), under the per-operation
// rules of test/support/bounds.ts (WGSL's accuracy table: +, -, * within 2u; x / y 5u; exp (6 + 4|x|) u;
// sqrt 9u; any order of a sum of n terms; host-side float32 conversions u), first order in u.
import { chunkRows } from '../../host/core/layout.ts';
import type { GpuBackend } from '../../host/engine.ts';
import { pairForm, segmentPlan } from '../../src/metrics/gpu-energy-distance.ts';
import { PAIR_WG } from '../../src/metrics/gpu-energy-distance.ts';
import { normalsFromWords, philoxInto, seedKey, uniformFromWord } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import { type SamplerStep, stepsToRun } from '../../src/sampling/grid.ts';
import type { SamplerOptions } from '../../src/sampling/options.ts';
import type { Matrix } from '../../src/types.ts';
import { U } from './bounds.ts';
import { normalBound } from './noise-bounds.ts';

const OP = 2 * U;
const FTZ = 2 ** -126;

/** The float64 trajectory's end and the entrywise bound on |y_gpu - y_ref| (n x d each). */
export interface SamplerBound {
  readonly y: Float64Array;
  readonly bound: Float64Array;
  /** The largest a sum_c |mu_jc| b_c over samples, steps and centres: how far the error moves a logit. */
  readonly maxLogitShift: number;
}

/** The sampler's N(0, I) draw of sample n at counter step `step` (float64) and the GPU's error on each (normalBound). */
export function noiseWithBound(key: [number, number], n: number, step: number, d: number): { z: Float64Array; dz: Float64Array } {
  const z = new Float64Array(d);
  const dz = new Float64Array(d);
  const words = new Uint32Array(4);
  const four = new Float64Array(4);
  for (let c4 = 0; 4 * c4 < d; c4++) {
    philoxInto(n, c4, step, STREAMS.sampler, key[0], key[1], words);
    normalsFromWords(words, four);
    for (let lane = 0; lane < 4 && 4 * c4 + lane < d; lane++) {
      const pair = lane >> 1;
      z[4 * c4 + lane] = four[lane]!;
      dz[4 * c4 + lane] = normalBound(uniformFromWord(words[2 * pair]!), uniformFromWord(words[2 * pair + 1]!), lane % 2 === 0 ? 'cos' : 'sin');
    }
  }
  return { z, dz };
}

interface MeanCentre {
  readonly mbar: Float64Array;
  /** The bound on the kernel's rounding of mbar at this y (its input taken as exact). */
  readonly dmbar: Float64Array;
  /** Cov_w(mu), d x d: d mbar / d y = a Cov. */
  readonly cov: Float64Array;
}

/**
 * mbar(y) = sum_j w_j mu_j at scale a (sample_step.wgsl meanCentre) and its local rounding bound:
 *   n2_j = ||mu_j||^2 from the host in float64, rounded to float32: u n2_j;
 *   dot_j = mu_j . y: (2d + 1) u A_j, A_j = sum_c |mu_jc y_c|;
 *   l_j = a dot_j - (a^2 / 2) n2_j: a rounded (u) and the product (2u), a^2/2 4u then its product 2u,
 *     the subtraction 2u: dl_j = a (2d + 1) u A_j + 5u a |dot_j| + 9u (a^2 / 2) n2_j;
 *   w = softmax(l), exactly as bounds.ts softmaxWithError: the logit errors move w_j by <= w_j ((1 - 2 w_j) dl_j + sum_i w_i dl_i),
 *     its rounding (l - max 2u|y_j|, exp (6 + 4|y_j|) u, K - 1 additions, 1 / total 5u, w * inv 2u), exp below -87 flushed;
 *   mbar_c: the logit parts of dw sum to zero, so they move mbar by sum_j dw_j |mu_jc - mbar_c|; the rounding parts by
 *     sum_j (dw_j + u w_j) |mu_jc| (mu rounded); K products and K - 1 additions: 2K u sum_j w_j |mu_jc|.
 */
function meanCentre(mu: Float64Array, k: number, d: number, y: Float64Array, a: number): MeanCentre {
  const logits = new Float64Array(k);
  const dl = new Float64Array(k);
  let max = -Infinity;
  for (let j = 0; j < k; j++) {
    let dot = 0;
    let abs = 0;
    let n2 = 0;
    for (let c = 0; c < d; c++) {
      const m = mu[j * d + c]!;
      dot += m * y[c]!;
      abs += Math.abs(m * y[c]!);
      n2 += m * m;
    }
    const half = (a * a) / 2;
    logits[j] = a * dot - half * n2;
    dl[j] = a * (2 * d + 1) * U * abs + 5 * U * a * Math.abs(dot) + 9 * U * half * n2;
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
  const mbar = new Float64Array(d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) mbar[c] += w[j]! * mu[j * d + c]!;
  const dmbar = new Float64Array(d);
  const cov = new Float64Array(d * d);
  for (let j = 0; j < k; j++) {
    const wj = w[j]!;
    const logitPart = wj * Math.max(0, (1 - 2 * wj) * dl[j]! + meanDl);
    const roundPart = wj * (expErr[j]! + relInverse + OP) + FTZ;
    for (let c = 0; c < d; c++) {
      const m = mu[j * d + c]!;
      dmbar[c] += logitPart * Math.abs(m - mbar[c]!) + (roundPart + U * wj + 2 * k * U * wj) * Math.abs(m);
      for (let e = 0; e < d; e++) cov[c * d + e] += wj * (m - mbar[c]!) * (mu[j * d + e]! - mbar[e]!);
    }
  }
  return { mbar, dmbar, cov };
}

/** |M| b for a d x d matrix M. */
function absTimes(m: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let c = 0; c < d; c++) for (let e = 0; e < d; e++) out[c] += Math.abs(m[c * d + e]!) * b[e]!;
  return out;
}

/**
 * Propagates b_{k+1} = |J_k| b_k + local_k along the float64 trajectory of each sample (first order: the Jacobian
 * J_k of the step at the reference point; the rounding of step k evaluated there). b_0: normalBound of the drawn start,
 * or u |start| for an uploaded one.
 *
 * SDE steps (exponential, Euler-Maruyama, Langevin), y' = y + (cy y + cs (a mbar - y) + cxi xi):
 *   J = (1 + cy - cs) I + cs a^2 Cov;
 *   local = |cs| ds + |cxi| dxi + 7u (|cy y| + |cs s| + |cxi xi|) + 2u (|y| + |inc|), with
 *   f = a mbar: df = a dmbar + 3u a |mbar| (a rounded, the product); s = f - y: ds = df + 2u (|f| + |y|);
 *   each product 3u (coefficient rounded u, product 2u), the increment's two additions 4u, then y + inc 2u;
 *   dxi = normalBound (the GPU's Box-Muller against float64 on the same Philox words).
 * Heun, p = y + (cy y + cs s_1), y' = y + (h/2)(f_1 + f_2(p)), f = a mbar:
 *   dp = 5u (|cy y| + |cs s_1|) + |cs| ds_1 + 2u (|y| + |inc_1|) (two products 3u, their sum 2u, y + inc_1 2u);
 *   df_2 = aNext (aNext |Cov_2| dp + dmbar_2) + 3u aNext |mbar_2|;
 *   local = (h/2)(df_1 + df_2 + 2u (|f_1| + |f_2|)) + 3u |(h/2) g| + 2u (|y| + |(h/2) g|), g = f_1 + f_2;
 *   J = I + (h/2)(a^2 Cov_1 + aNext^2 Cov_2 P), P = (1 + cy - cs) I + cs a^2 Cov_1.
 */
export function samplerBound(centres: Matrix, n: number, options: SamplerOptions): SamplerBound {
  const { rows: k, cols: d, data: mu } = centres;
  // The steps the run takes: a stopAfter prefix is bounded as its own (shorter) run.
  const steps = stepsToRun(options);
  const key = seedKey(options.seed);
  const start = options.method === 'langevin' ? options.start : undefined;
  const out = new Float64Array(n * d);
  const bound = new Float64Array(n * d);
  let maxLogitShift = 0;
  const logitShift = (b: Float64Array, a: number): number => {
    let worst = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += Math.abs(mu[j * d + c]!) * b[c]!;
      worst = Math.max(worst, a * s);
    }
    return worst;
  };
  for (let r = 0; r < n; r++) {
    let y: Float64Array;
    let b: Float64Array;
    if (start) {
      y = start.data.slice(r * d, (r + 1) * d);
      b = y.map((v) => U * Math.abs(v));
    } else {
      const s = noiseWithBound(key, r, 0, d);
      y = s.z;
      b = s.dz;
    }
    steps.forEach((step, kk) => {
      maxLogitShift = Math.max(maxLogitShift, logitShift(b, step.a));
      [y, b] = options.method === 'ode' ? heunStep(mu, k, d, y, b, step) : sdeStep(mu, k, d, y, b, step, noiseWithBound(key, r, kk + 1, d));
    });
    out.set(y, r * d);
    bound.set(b, r * d);
  }
  return { y: out, bound, maxLogitShift };
}

function sdeStep(mu: Float64Array, k: number, d: number, y: Float64Array, b: Float64Array, st: SamplerStep, xi: { z: Float64Array; dz: Float64Array }): [Float64Array, Float64Array] {
  const { a, cy, cs, cxi } = st;
  const m = meanCentre(mu, k, d, y, a);
  const propagated = absTimes(m.cov, b, d);
  const next = new Float64Array(d);
  const nb = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const f = a * m.mbar[c]!;
    const s = f - y[c]!;
    const inc = cy * y[c]! + cs * s + cxi * xi.z[c]!;
    next[c] = y[c]! + inc;
    const ds = a * m.dmbar[c]! + 3 * U * Math.abs(f) + OP * (Math.abs(f) + Math.abs(y[c]!));
    const local = Math.abs(cs) * ds + Math.abs(cxi) * xi.dz[c]! + 7 * U * (Math.abs(cy * y[c]!) + Math.abs(cs * s) + Math.abs(cxi * xi.z[c]!)) + OP * (Math.abs(y[c]!) + Math.abs(inc));
    nb[c] = Math.abs(1 + cy - cs) * b[c]! + Math.abs(cs) * a * a * propagated[c]! + local;
  }
  return [next, nb];
}

function heunStep(mu: Float64Array, k: number, d: number, y: Float64Array, b: Float64Array, st: SamplerStep): [Float64Array, Float64Array] {
  const { a, aNext, cy, cs, h } = st;
  const half = h / 2;
  const m1 = meanCentre(mu, k, d, y, a);
  const p = new Float64Array(d);
  const dp = new Float64Array(d);
  const f1 = new Float64Array(d);
  const df1 = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    f1[c] = a * m1.mbar[c]!;
    df1[c] = a * m1.dmbar[c]! + 3 * U * Math.abs(f1[c]!);
    const s1 = f1[c]! - y[c]!;
    const ds1 = df1[c]! + OP * (Math.abs(f1[c]!) + Math.abs(y[c]!));
    const inc = cy * y[c]! + cs * s1;
    p[c] = y[c]! + inc;
    dp[c] = 5 * U * Math.abs(cy * y[c]!) + Math.abs(cs) * ds1 + 5 * U * Math.abs(cs * s1) + OP * (Math.abs(y[c]!) + Math.abs(inc));
  }
  const m2 = meanCentre(mu, k, d, p, aNext);
  const moved = absTimes(m2.cov, dp, d);
  // J = I + (h/2)(a^2 Cov_1 + aNext^2 Cov_2 P), P = (1 + cy - cs) I + cs a^2 Cov_1.
  const jac = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let e = 0; e < d; e++) {
      let c2p = 0;
      for (let l = 0; l < d; l++) c2p += m2.cov[c * d + l]! * ((l === e ? 1 + cy - cs : 0) + cs * a * a * m1.cov[l * d + e]!);
      jac[c * d + e] = (c === e ? 1 : 0) + half * (a * a * m1.cov[c * d + e]! + aNext * aNext * c2p);
    }
  }
  const propagated = absTimes(jac, b, d);
  const next = new Float64Array(d);
  const nb = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const f2 = aNext * m2.mbar[c]!;
    const df2 = aNext * (aNext * moved[c]! + m2.dmbar[c]!) + 3 * U * Math.abs(f2);
    const g = f1[c]! + f2;
    const step = half * g;
    next[c] = y[c]! + step;
    const local = Math.abs(half) * (df1[c]! + df2 + OP * (Math.abs(f1[c]!) + Math.abs(f2))) + 3 * U * Math.abs(step) + OP * (Math.abs(y[c]!) + Math.abs(step));
    nb[c] = propagated[c]! + local;
  }
  return [next, nb];
}

// ---------------------------------------------------------------------------------------------
// The energy distance

/**
 * The longest float32 chain behind one partial of sum_ij ||a_i - b_j|| as `gpu` plans it: a row's segment of B, then
 * the invocation's ROWS row totals, then the workgroup's WG thread sums.
 */
export function pairSumDepth(gpu: GpuBackend, kind: 'tiled' | 'lanes', rowsA: number, rowsB: number, d: number): number {
  const form = pairForm(kind, d, gpu.limits, gpu.maxChunkRows);
  let depth = 0;
  for (const a of chunkRows(rowsA, form.rowsPerChunk)) {
    for (const b of chunkRows(rowsB, form.rowsPerChunk)) depth = Math.max(depth, segmentPlan(a.rows, b.rows, form).segmentRows + form.rows + PAIR_WG);
  }
  return depth;
}

/**
 * sum_ij ||a_i - b_j|| in float64 and the bound on the GPU's error, for chains of at most `depth` terms:
 *   per pair, delta_c = a_c - b_c: the upload rounds a and b (u each) and the subtraction 2u, so
 *   |d delta_c| <= u (|a_c| + |b_c|) + 2u |delta_c|; squaring doubles that relative error and adds 2u; the d squares'
 *   sum adds 2u (d - 1) S: dS <= 2u sum_c |delta_c| (|a_c| + |b_c|) + (6 + 2 (d - 1)) u S;
 *   sqrt: |sqrt(S + dS) - sqrt(S)| <= min(dS / sqrt(S), sqrt(dS)), then its own 9u (identical rows give exactly 0);
 *   the sum: each distance passes through < depth additions (its segment's chain, then the workgroup's), 2u each.
 *   The host adds the partials in float64 (2^-29 times smaller than u; neglected).
 */
export function pairSumBound(a: Matrix, b: Matrix, depth: number): { sum: number; bound: number } {
  const d = a.cols;
  let sum = 0;
  let bound = 0;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      let cross = 0;
      for (let c = 0; c < d; c++) {
        const x = a.data[i * d + c]!;
        const y = b.data[j * d + c]!;
        s += (x - y) ** 2;
        cross += Math.abs(x - y) * (Math.abs(x) + Math.abs(y));
      }
      const dist = Math.sqrt(s);
      const dS = OP * cross + (6 + 2 * (d - 1)) * U * s;
      const moved = dist > 0 ? Math.min(dS / dist, Math.sqrt(dS)) : Math.sqrt(dS);
      sum += dist;
      bound += moved + 9 * U * (dist + moved) + OP * depth * dist;
    }
  }
  return { sum, bound };
}

/** The bound on |D_gpu - D_ref| from the three sums' bounds: E on D^2, then min(E / D, sqrt(E)) through the square root. */
export function energyBound(x: Matrix, y: Matrix, depth: { xy: number; xx: number; yy: number }): { distance: number; bound: number } {
  const n = x.rows;
  const m = y.rows;
  const xy = pairSumBound(x, y, depth.xy);
  const xx = pairSumBound(x, x, depth.xx);
  const yy = pairSumBound(y, y, depth.yy);
  const distance = Math.sqrt(Math.max(0, (2 * xy.sum) / (n * m) - xx.sum / (n * n) - yy.sum / (m * m)));
  const e = (2 * xy.bound) / (n * m) + xx.bound / (n * n) + yy.bound / (m * m);
  return { distance, bound: distance > 0 ? Math.min(e / distance, Math.sqrt(e)) : Math.sqrt(e) };
}
