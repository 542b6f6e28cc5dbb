// A general Gaussian mixture sum_i w_i N(mu_i, Sigma_i) with full covariances (docs/math.md section 13): seeded
// draws, its exact score and log-density at forward time t, where q_t = sum_i w_i N(a_t mu_i, a_t^2 Sigma_i +
// sigma_t^2 I) (docs/math.md section 2), all in float64. The truth of the piecewise experiments and the
// model that full-covariance EM (full-covariance/em.ts) fits.
import { seededUniform } from '../algorithms/seeding.ts';
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { philoxNormals } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { backSolveInPlace, choleskyInto, forwardSolveInPlace, logDetFromCholesky } from '../piecewise/linalg.ts';

export interface GaussianMixture {
  readonly kind: 'gaussian-mixture';
  /** K positive weights summing to 1. */
  readonly weights: Float64Array;
  /** K x d means. */
  readonly means: Matrix;
  /** K d x d symmetric positive definite covariances, row-major, component i at i d^2. */
  readonly covariances: Float64Array;
}

/** A checked mixture: weights normalised to sum exactly 1 (they must sum to 1 within 1e-6 already). */
export function gaussianMixture(weights: ArrayLike<number>, means: Matrix, covariances: ArrayLike<number>): GaussianMixture {
  const K = means.rows;
  const d = means.cols;
  if (K < 1 || d < 1) throw new InputError(`a Gaussian mixture needs K >= 1 means with d >= 1 columns (got ${K} x ${d})`);
  if (weights.length !== K) throw new InputError(`a Gaussian mixture with K = ${K} means needs K weights (got ${weights.length})`);
  let sum = 0;
  for (let i = 0; i < K; i++) {
    const w = weights[i]!;
    if (!Number.isFinite(w) || w <= 0) throw new InputError(`mixture weight ${i + 1} (1-based) must be a finite number > 0 (got ${w})`);
    sum += w;
  }
  if (Math.abs(sum - 1) > 1e-6) throw new InputError(`the mixture weights must sum to 1 (got ${sum}); divide them by their sum`);
  if (!means.data.every(Number.isFinite)) throw new InputError('the mixture means must be finite');
  if (covariances.length !== K * d * d) {
    throw new InputError(`a mixture with K = ${K}, d = ${d} needs K d^2 = ${K * d * d} covariance entries (got ${covariances.length})`);
  }
  const cov = Float64Array.from(covariances);
  const L = new Float64Array(d * d);
  for (let i = 0; i < K; i++) {
    const o = i * d * d;
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < r; c++) {
        const x = cov[o + r * d + c]!;
        const y = cov[o + c * d + r]!;
        if (!(Math.abs(x - y) <= 1e-9 * (Math.abs(x) + Math.abs(y)) + 1e-300)) {
          throw new InputError(`covariance ${i + 1} (1-based) is not symmetric: entries (${r + 1}, ${c + 1}) and (${c + 1}, ${r + 1}) are ${x} and ${y}`);
        }
      }
    }
    if (!choleskyInto(cov, d, L, o)) throw new InputError(`covariance ${i + 1} (1-based) is not positive definite; add a small multiple of I`);
  }
  return { kind: 'gaussian-mixture', weights: Float64Array.from(weights, (w) => w / sum), means, covariances: cov };
}

/** K = means.rows, d = means.cols. */
export function mixtureShape(m: GaussianMixture): { K: number; d: number } {
  return { K: m.means.rows, d: m.means.cols };
}

/** n draws and their components: component by one Philox uniform (step choiceStep), then mu + chol(Sigma) z (step normalStep). */
function draw(m: GaussianMixture, n: number, seed: number, stream: number, normalStep: number, choiceStep: number): { data: Matrix; labels: Int32Array } {
  const { K, d } = mixtureShape(m);
  const chol = new Float64Array(K * d * d);
  for (let i = 0; i < K; i++) choleskyInto(m.covariances.subarray(i * d * d), d, chol.subarray(i * d * d));
  const out = matrix(n, d);
  const labels = new Int32Array(n);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const u = seededUniform(seed, r, stream, choiceStep);
    let comp = K - 1;
    let acc = 0;
    for (let i = 0; i < K - 1; i++) {
      acc += m.weights[i]!;
      if (u < acc) {
        comp = i;
        break;
      }
    }
    labels[r] = comp;
    philoxNormals(seed, normalStep, r, stream, z);
    const o = comp * d * d;
    for (let c = 0; c < d; c++) {
      let s = m.means.data[comp * d + c]!;
      for (let k = 0; k <= c; k++) s += chol[o + c * d + k]! * z[k]!;
      out.data[r * d + c] = s;
    }
  }
  return { data: out, labels };
}

/** Seeded data from the mixture (the generator's stream 1, counter steps 2 and 3, apart from generate.ts's 0 and 1). */
export function generateGaussianMixture(m: GaussianMixture, n: number, seed: number): { data: Matrix; labels: Int32Array } {
  return draw(m, n, seed, STREAMS.dataGenerator, 2, 3);
}

/** Direct samples from a (fitted) mixture, on the `sample` stream like DdpmGmm.sampleDirect (docs/math.md section 11). */
export function sampleGaussianMixture(m: GaussianMixture, n: number, seed: number): Matrix {
  return draw(m, n, seed, STREAMS.sample, 0, 1).data;
}

/** The mixture q_t at one forward time, ready for row-by-row scores and densities. */
export interface MixtureAtTime {
  readonly K: number;
  readonly d: number;
  /** a_t mu_i, K x d. */
  readonly scaledMeans: Float64Array;
  /** Cholesky factors of C_i = a_t^2 Sigma_i + sigma_t^2 I, K d x d. */
  readonly chol: Float64Array;
  /** ln w_i - (1/2) ln det C_i - (d/2) ln(2 pi). */
  readonly logNorm: Float64Array;
  /** Scratch of mixtureScoreRowInto: K d residuals and K logits. */
  readonly u: Float64Array;
  readonly logits: Float64Array;
}

export function mixtureAtTime(m: GaussianMixture, t: number): MixtureAtTime {
  if (!Number.isFinite(t) || t < 0) throw new InputError(`the mixture's time t must be a finite number >= 0 (got ${t})`);
  const { K, d } = mixtureShape(m);
  const { a, sigma } = t === 0 ? { a: 1, sigma: 0 } : forwardCoefficients(t);
  const scaledMeans = Float64Array.from(m.means.data, (v) => a * v);
  const chol = new Float64Array(K * d * d);
  const logNorm = new Float64Array(K);
  const C = new Float64Array(d * d);
  for (let i = 0; i < K; i++) {
    for (let e = 0; e < d * d; e++) C[e] = a * a * m.covariances[i * d * d + e]!;
    for (let c = 0; c < d; c++) C[c * d + c] = C[c * d + c]! + sigma * sigma;
    const L = chol.subarray(i * d * d, (i + 1) * d * d);
    if (!choleskyInto(C, d, L)) throw new InputError(`the covariance of component ${i + 1} at t = ${t} is not positive definite`);
    logNorm[i] = Math.log(m.weights[i]!) - 0.5 * logDetFromCholesky(L, d) - 0.5 * d * Math.log(2 * Math.PI);
  }
  return { K, d, scaledMeans, chol, logNorm, u: new Float64Array(K * d), logits: new Float64Array(K) };
}

/** ln q_t(y) for y = y[yOff .. yOff + d); leaves L_i^{-1}(y - a mu_i) in q.u (log-sum-exp, the largest first). */
function logDensityRow(q: MixtureAtTime, y: Float64Array, yOff: number): number {
  const { K, d, u, logits } = q;
  let max = -Infinity;
  for (let i = 0; i < K; i++) {
    const v = u.subarray(i * d, (i + 1) * d);
    for (let c = 0; c < d; c++) v[c] = y[yOff + c]! - q.scaledMeans[i * d + c]!;
    forwardSolveInPlace(q.chol, d, v, i * d * d);
    let sq = 0;
    for (let c = 0; c < d; c++) sq += v[c]! * v[c]!;
    const l = q.logNorm[i]! - sq / 2;
    logits[i] = l;
    if (l > max) max = l;
  }
  let sum = 0;
  for (let i = 0; i < K; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

/** grad ln q_t(y) = -sum_i r_i(y) C_i^{-1} (y - a mu_i), r the posterior of the components, into out[outOff ..]. */
export function mixtureScoreRowInto(q: MixtureAtTime, y: Float64Array, yOff: number, out: Float64Array, outOff: number): void {
  const { K, d, u, logits } = q;
  const lse = logDensityRow(q, y, yOff);
  for (let c = 0; c < d; c++) out[outOff + c] = 0;
  for (let i = 0; i < K; i++) {
    const r = Math.exp(logits[i]! - lse);
    const v = u.subarray(i * d, (i + 1) * d);
    backSolveInPlace(q.chol, d, v, i * d * d);
    for (let c = 0; c < d; c++) out[outOff + c] -= r * v[c]!;
  }
}

/** ln q_t(x_n) for every row of x (t = 0: the mixture itself). */
export function mixtureLogDensities(m: GaussianMixture, x: Matrix, t = 0): Float64Array {
  const q = mixtureAtTime(m, t);
  const out = new Float64Array(x.rows);
  for (let n = 0; n < x.rows; n++) out[n] = logDensityRow(q, x.data, n * x.cols);
  return out;
}

/** The exact score of q_t at every row of x. */
export function gaussianMixtureScore(m: GaussianMixture, x: Matrix, t: number): Matrix {
  const q = mixtureAtTime(m, t);
  const out = matrix(x.rows, x.cols);
  for (let n = 0; n < x.rows; n++) mixtureScoreRowInto(q, x.data, n * x.cols, out.data, n * x.cols);
  return out;
}

/** A balanced spherical mixture (the paper's q0, docs/math.md section 1) as a general one. */
export function sphericalMixture(centres: Matrix): GaussianMixture {
  const { rows: K, cols: d } = centres;
  const cov = new Float64Array(K * d * d);
  for (let i = 0; i < K; i++) for (let c = 0; c < d; c++) cov[i * d * d + c * d + c] = 1;
  return gaussianMixture(new Float64Array(K).fill(1 / K), centres, cov);
}
