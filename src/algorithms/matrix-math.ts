// Float64 helpers that run on the host from the data: the sample mean, the radius estimate R
// (docs/math.md section 6), the balanced spherical log-likelihood (docs/math.md section 9) and small vector
// algebra. They cost O(N K d) at most and run once per fit or per logged step, never per GD step.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

/** The sample mean xbar (1 x d). */
export function sampleMean(data: Matrix): Float64Array {
  const { rows: n, cols: d } = data;
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out[c] += data.data[i * d + c]!;
  for (let c = 0; c < d; c++) out[c] = out[c]! / n;
  return out;
}

/** X - xbar: the symmetric K = 2 problem of docs/math.md section 1. */
export function centred(data: Matrix, mean: Float64Array): Matrix {
  const { rows: n, cols: d } = data;
  const out = matrix(n, d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out.data[i * d + c] = data.data[i * d + c]! - mean[c]!;
  return out;
}

/** R = sqrt(max(0, (1/N) sum ||x_n - xbar||^2 - d)), the data estimate of ||mu*|| (docs/math.md section 6). */
export function radiusEstimate(data: Matrix, mean: Float64Array = sampleMean(data)): number {
  const { rows: n, cols: d } = data;
  let s = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) s += (data.data[i * d + c]! - mean[c]!) ** 2;
  return Math.sqrt(Math.max(0, s / n - d));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** cos(a, b); 0 when either is the zero vector. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = norm(a);
  const nb = norm(b);
  return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : 0;
}

/** Row i of a matrix (a view). */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** The largest row-wise distance ||a_i - b_i|| between two K x d matrices. */
export function maxRowChange(a: Matrix, b: Matrix): number {
  let best = 0;
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let c = 0; c < a.cols; c++) s += (a.data[i * a.cols + c]! - b.data[i * b.cols + c]!) ** 2;
    best = Math.max(best, Math.sqrt(s));
  }
  return best;
}

/** The smallest |cos| between corresponding rows: 1 when every row kept its direction (up to sign). */
export function minRowAbsCosine(a: Matrix, b: Matrix): number {
  let worst = 1;
  for (let i = 0; i < a.rows; i++) worst = Math.min(worst, Math.abs(cosine(row(a, i), row(b, i))));
  return worst;
}

/** The largest | ||a_i|| - ||b_i|| | / ||b_i|| over rows. */
export function maxRelativeNormChange(a: Matrix, b: Matrix): number {
  let worst = 0;
  for (let i = 0; i < a.rows; i++) {
    const nb = norm(row(b, i));
    worst = Math.max(worst, nb > 0 ? Math.abs(norm(row(a, i)) - nb) / nb : Infinity);
  }
  return worst;
}

/** The tied centre m (1 x d) as the two centres xbar + m, xbar - m in data coordinates (docs/math.md section 1). */
export function symmetricMeans(m: Matrix, mean: Float64Array): Matrix {
  const d = m.cols;
  const out = matrix(2, d);
  for (let c = 0; c < d; c++) {
    out.data[c] = mean[c]! + m.data[c]!;
    out.data[d + c] = mean[c]! - m.data[c]!;
  }
  return out;
}

/**
 * Per-sample log-likelihood terms under the balanced spherical mixture (1/K) sum_i N(mu_i, I) (docs/math.md
 * section 1), and optionally the responsibilities (N x K) on the clean data (docs/math.md section 9).
 */
export function mixtureLogLikelihood(data: Matrix, means: Matrix, proba?: Float64Array): Float64Array {
  const { rows: n, cols: d } = data;
  const k = means.rows;
  const out = new Float64Array(n);
  const logits = new Float64Array(k);
  const constant = -0.5 * d * Math.log(2 * Math.PI) - Math.log(k);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (data.data[i * d + c]! - means.data[j * d + c]!) ** 2;
      logits[j] = -s / 2;
      if (logits[j]! > max) max = logits[j]!;
    }
    // Log-sum-exp with the max subtracted: no underflow for far-away points (docs/math.md section 3).
    if (!Number.isFinite(max)) {
      // Every squared distance overflowed: the log-likelihood is below float64's range; the responsibilities are not.
      out[i] = -Infinity;
      if (proba) farResponsibilities(data, means, i, logits, proba);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[j]! - max);
    out[i] = constant + max + Math.log(sum);
    if (proba) for (let j = 0; j < k; j++) proba[i * k + j] = Math.exp(logits[j]! - max) / sum;
  }
  return out;
}

/**
 * Row i's responsibilities when its squared distances overflow: distances by scaled norms (s r_j), and
 * r_j^2 - r_min^2 = s^2 (r_j - r_min)(r_j + r_min), whose exponentials stay finite (0 for the far centres).
 */
function farResponsibilities(data: Matrix, means: Matrix, i: number, r: Float64Array, proba: Float64Array): void {
  const { cols: d } = data;
  const k = means.rows;
  let scale = 0;
  for (let c = 0; c < d; c++) scale = Math.max(scale, Math.abs(data.data[i * d + c]!));
  for (let v = 0; v < k * d; v++) scale = Math.max(scale, Math.abs(means.data[v]!));
  let rMin = Infinity;
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (data.data[i * d + c]! / scale - means.data[j * d + c]! / scale) ** 2;
    r[j] = Math.sqrt(s);
    rMin = Math.min(rMin, r[j]!);
  }
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const gap = r[j]! - rMin;
    sum += proba[i * k + j] = gap === 0 ? 1 : Math.exp(-((scale * gap) / 2) * (scale * (r[j]! + rMin)));
  }
  for (let j = 0; j < k; j++) proba[i * k + j] = proba[i * k + j]! / sum;
}

/** Throws InputError naming the first row whose log-likelihood is not a float64 (too far from every centre). */
export function requireFiniteLogLikelihood(ll: Float64Array, what: string): void {
  const i = ll.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) {
    throw new InputError(`row ${i + 1} (1-based) of ${what} is so far from every centre that its log-likelihood -||x - mu||^2/2 is beyond float64's range: rescale the data and the centres (e.g. standardise the columns)`);
  }
}


/** The average log-likelihood (1/N) sum_n log q(x_n). */
export function averageLogLikelihood(data: Matrix, means: Matrix, what = 'the data'): number {
  return meanLogLikelihood(mixtureLogLikelihood(data, means), what);
}

/** The mean of per-row log-likelihoods, refused when one is not finite (the row named in `what`'s terms). */
export function meanLogLikelihood(ll: Float64Array, what: string): number {
  requireFiniteLogLikelihood(ll, what);
  let s = 0;
  for (const v of ll) s += v;
  if (Number.isFinite(s)) return s / ll.length;
  // The sum overflowed although each term is finite: average the terms scaled by 1/N instead.
  s = 0;
  for (const v of ll) s += v / ll.length;
  return s;
}
