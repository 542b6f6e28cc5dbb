// EM for a Gaussian mixture with full covariances (docs/math.md section 13), after scikit-learn's
// GaussianMixture(covariance_type='full'): k-means++ seeds, hard assignment for the first M-step, reg_covar
// added to every covariance's diagonal, stopping when the mean log-likelihood changes by less than tol.
// Float64 on the CPU: the baseline that knows the model class of the anisotropic experiments.
import { kmeansPlusPlus } from '../algorithms/seeding.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../matrix.ts';
import { requireFinite, requireSeed } from '../validate.ts';
import { gaussianMixture, mixtureAtTime, type GaussianMixture } from './mixture.ts';
import { forwardSolveInPlace } from '../piecewise/linalg.ts';

export interface EmFullOptions {
  /** Seed of k-means++ (restart r uses seed + r). Default 0. */
  readonly seed?: number;
  /** Stop when the mean log-likelihood changes by less than this. Default 1e-3 (scikit-learn's). */
  readonly tol?: number;
  /** Default 100. */
  readonly maxIter?: number;
  /** Added to each covariance's diagonal. Default 1e-6. */
  readonly regCovar?: number;
  /** Restarts; the best final mean log-likelihood wins. Default 1. */
  readonly nInit?: number;
}

export interface EmFullResult {
  readonly mixture: GaussianMixture;
  /** Mean log-likelihood of the data under `mixture`. */
  readonly logLikelihood: number;
  readonly nIter: number;
  readonly converged: boolean;
  /** The mean log-likelihood before each M-step of the winning restart. */
  readonly history: number[];
}

/** Responsibilities (N x K) of the data under m, and the mean log-likelihood. */
function eStep(data: Matrix, m: GaussianMixture, resp: Float64Array): number {
  const { rows: N, cols: d } = data;
  const q = mixtureAtTime(m, 0);
  const K = q.K;
  const v = new Float64Array(d);
  let total = 0;
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let i = 0; i < K; i++) {
      for (let c = 0; c < d; c++) v[c] = data.data[n * d + c]! - q.scaledMeans[i * d + c]!;
      forwardSolveInPlace(q.chol, d, v, i * d * d);
      let sq = 0;
      for (let c = 0; c < d; c++) sq += v[c]! * v[c]!;
      const l = q.logNorm[i]! - sq / 2;
      resp[n * K + i] = l;
      if (l > max) max = l;
    }
    let sum = 0;
    for (let i = 0; i < K; i++) sum += Math.exp(resp[n * K + i]! - max);
    const lse = max + Math.log(sum);
    for (let i = 0; i < K; i++) resp[n * K + i] = Math.exp(resp[n * K + i]! - lse);
    total += lse;
  }
  return total / N;
}

/** Weights, means and covariances (+ regCovar I) from responsibilities. */
function mStep(data: Matrix, resp: Float64Array, K: number, regCovar: number): GaussianMixture {
  const { rows: N, cols: d } = data;
  const nk = new Float64Array(K).fill(10 * Number.EPSILON);
  const means = new Float64Array(K * d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < K; i++) {
      const r = resp[n * K + i]!;
      nk[i] = nk[i]! + r;
      for (let c = 0; c < d; c++) means[i * d + c] = means[i * d + c]! + r * data.data[n * d + c]!;
    }
  }
  for (let i = 0; i < K; i++) for (let c = 0; c < d; c++) means[i * d + c] = means[i * d + c]! / nk[i]!;
  const cov = new Float64Array(K * d * d);
  const u = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < K; i++) {
      const r = resp[n * K + i]!;
      if (r === 0) continue;
      for (let c = 0; c < d; c++) u[c] = data.data[n * d + c]! - means[i * d + c]!;
      const o = i * d * d;
      for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) cov[o + a * d + b] = cov[o + a * d + b]! + r * u[a]! * u[b]!;
    }
  }
  for (let i = 0; i < K; i++) {
    const o = i * d * d;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        const v = cov[o + a * d + b]! / nk[i]! + (a === b ? regCovar : 0);
        cov[o + a * d + b] = v;
        cov[o + b * d + a] = v;
      }
    }
  }
  let total = 0;
  for (const v of nk) total += v;
  return gaussianMixture(Float64Array.from(nk, (v) => v / total), { rows: K, cols: d, data: means }, cov);
}

function runOnce(data: Matrix, K: number, seed: number, tol: number, maxIter: number, regCovar: number): EmFullResult {
  const { rows: N, cols: d } = data;
  const seeds = kmeansPlusPlus(data, K, seed);
  // The first M-step from the hard assignment to the nearest seed, as scikit-learn's k-means++ init.
  const resp = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestSq = Infinity;
    for (let i = 0; i < K; i++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += (data.data[n * d + c]! - seeds.data[i * d + c]!) ** 2;
      if (sq < bestSq) [best, bestSq] = [i, sq];
    }
    resp[n * K + best] = 1;
  }
  let m = mStep(data, resp, K, regCovar);
  const history: number[] = [];
  let converged = false;
  let nIter = 0;
  let prev = -Infinity;
  for (let it = 1; it <= maxIter; it++) {
    const ll = eStep(data, m, resp);
    history.push(ll);
    m = mStep(data, resp, K, regCovar);
    nIter = it;
    if (Math.abs(ll - prev) < tol) {
      converged = true;
      break;
    }
    prev = ll;
  }
  return { mixture: m, logLikelihood: eStep(data, m, resp), nIter, converged, history };
}

/** Full-covariance EM on the rows of `data` with K components (docs/math.md section 13). */
export function fitEmFull(data: Matrix, K: number, options: EmFullOptions = {}): EmFullResult {
  const { seed = 0, tol = 1e-3, maxIter = 100, regCovar = 1e-6, nInit = 1 } = options;
  if (data.rows < 1 || data.cols < 1) throw new InputError(`full-covariance EM needs data with at least one row and column (got ${data.rows} x ${data.cols})`);
  requireFinite(data, 'the data of full-covariance EM');
  if (!Number.isSafeInteger(K) || K < 1 || K > data.rows) throw new InputError(`full-covariance EM needs an integer K with 1 <= K <= N = ${data.rows} (got ${K})`);
  requireSeed(seed, "full-covariance EM's seed");
  if (!Number.isFinite(tol) || tol <= 0) throw new InputError(`full-covariance EM's tol must be a finite number > 0 (got ${tol})`);
  if (!Number.isSafeInteger(maxIter) || maxIter < 1) throw new InputError(`full-covariance EM's maxIter must be a positive integer (got ${maxIter})`);
  if (!Number.isFinite(regCovar) || regCovar < 0) throw new InputError(`full-covariance EM's regCovar must be a finite number >= 0 (got ${regCovar})`);
  if (!Number.isSafeInteger(nInit) || nInit < 1) throw new InputError(`full-covariance EM's nInit must be a positive integer (got ${nInit})`);
  let best: EmFullResult | undefined;
  for (let r = 0; r < nInit; r++) {
    const run = runOnce(data, K, seed + r, tol, maxIter, regCovar);
    if (best === undefined || run.logLikelihood > best.logLikelihood) best = run;
  }
  return best!;
}
