// The float64 reference of the student score, the DDPM loss and gradient, and the EM baselines
// (docs/math.md sections 3, 4, 5 and 9). Written for clarity, checked against finite differences;
// the GPU engine and the fast CPU backend are tested against it.
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { matrix, type Matrix } from '../types.ts';
import { shiftedExps } from '../math/softmax.ts';

export interface LossAndGrad {
  /** L of docs/math.md section 4. */
  readonly loss: number;
  /** dL/dm (K x d; 1 x d in tied mode), docs/math.md section 5. */
  readonly grad: Matrix;
}

export function checkShapes(x0: Matrix, m: Matrix, z?: Matrix): void {
  if (m.cols !== x0.cols) {
    throw new InputError(`centres have ${m.cols} columns but the data has ${x0.cols}: both must have d columns`);
  }
  if (m.rows < 1) throw new InputError('at least one centre is needed (K >= 1)');
  if (x0.rows < 1) throw new InputError('the data has no rows: at least one sample is needed');
  if (z !== undefined && (z.rows !== x0.rows || z.cols !== x0.cols)) {
    throw new InputError(
      `noise matrix must be ${x0.rows} x ${x0.cols} to match the data (got ${z.rows} x ${z.cols})`,
    );
  }
}

/** Softmax of logits[0..K) into w, the max subtracted first so nothing overflows (docs/math.md section 3). */
function softmaxInto(logits: Float64Array, w: Float64Array, K: number): void {
  let max = -Infinity;
  for (let j = 0; j < K; j++) if (logits[j]! > max) max = logits[j]!;
  const sum = shiftedExps(logits, K, max, w);
  for (let j = 0; j < K; j++) w[j] = w[j]! / sum;
}

/** logit_j = m_j.x - ||m_j||^2/2: the same softmax as -||x - m_j||^2/2 without ||x||^2 (docs/math.md section 3). */
function logitsInto(x: Float64Array, xOff: number, m: Matrix, halfNorms: Float64Array, logits: Float64Array): void {
  const d = m.cols;
  for (let j = 0; j < m.rows; j++) {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += m.data[j * d + k]! * x[xOff + k]!;
    logits[j] = dot - halfNorms[j]!;
  }
}

function halfSquaredNorms(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let j = 0; j < m.rows; j++) {
    let s = 0;
    for (let k = 0; k < m.cols; k++) s += m.data[j * m.cols + k]! ** 2;
    out[j] = s / 2;
  }
  return out;
}

/** w_j(x_n) for every row of x at (scaled) centres m: N x K (docs/math.md section 3). */
export function responsibilities(x: Matrix, m: Matrix): Matrix {
  checkShapes(x, m);
  const K = m.rows;
  const out = matrix(x.rows, K);
  const halfNorms = halfSquaredNorms(m);
  const logits = new Float64Array(K);
  const w = new Float64Array(K);
  for (let n = 0; n < x.rows; n++) {
    logitsInto(x.data, n * x.cols, m, halfNorms, logits);
    softmaxInto(logits, w, K);
    out.data.set(w, n * K);
  }
  return out;
}

/** The student score s(x) = mbar(x) - x for every row of x (docs/math.md section 3). */
export function studentScore(x: Matrix, m: Matrix): Matrix {
  const W = responsibilities(x, m);
  const { rows: N, cols: d } = x;
  const K = m.rows;
  const out = matrix(N, d);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < d; k++) {
      let mbar = 0;
      for (let j = 0; j < K; j++) mbar += W.data[n * K + j]! * m.data[j * d + k]!;
      out.data[n * d + k] = mbar - x.data[n * d + k]!;
    }
  }
  return out;
}

/** The noisy points x_t = a_t x0 + sigma_t z (docs/math.md section 2). */
export function noisyPoints(x0: Matrix, t: number, z: Matrix): Matrix {
  checkShapes(x0, matrix(1, x0.cols), z);
  const { a, sigma } = forwardCoefficients(t);
  const out = matrix(x0.rows, x0.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a * x0.data[i]! + sigma * z.data[i]!;
  return out;
}

/** Per-sample form of docs/math.md sections 4 and 5: dL/dm_j = (2/N) sum_n w_j (r + ((m_j - mbar).r)(x - m_j)). */
export function ddpmLossGradPerSample(x0: Matrix, m: Matrix, t: number, z: Matrix): LossAndGrad {
  checkShapes(x0, m, z);
  const { sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const X = noisyPoints(x0, t, z);
  const halfNorms = halfSquaredNorms(m);
  const logits = new Float64Array(K);
  const w = new Float64Array(K);
  const mbar = new Float64Array(d);
  const residual = new Float64Array(d);
  const grad = matrix(K, d);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const off = n * d;
    logitsInto(X.data, off, m, halfNorms, logits);
    softmaxInto(logits, w, K);
    mbar.fill(0);
    for (let j = 0; j < K; j++) for (let k = 0; k < d; k++) mbar[k] += w[j]! * m.data[j * d + k]!;
    for (let k = 0; k < d; k++) {
      residual[k] = mbar[k]! - X.data[off + k]! + z.data[off + k]! / sigma;
      loss += residual[k]! ** 2;
    }
    for (let j = 0; j < K; j++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += (m.data[j * d + k]! - mbar[k]!) * residual[k]!;
      for (let k = 0; k < d; k++) {
        grad.data[j * d + k] += w[j]! * (residual[k]! + p * (X.data[off + k]! - m.data[j * d + k]!));
      }
    }
  }
  for (let i = 0; i < grad.data.length; i++) grad.data[i] = (2 / N) * grad.data[i]!;
  return { loss: loss / N, grad };
}

/** The intermediate matrices of docs/math.md section 5: X, W, R, and C = W * P elementwise. */
function ddpmMatrices(x0: Matrix, m: Matrix, t: number, z: Matrix): { X: Matrix; W: Matrix; R: Matrix; C: Matrix } {
  const { sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const X = noisyPoints(x0, t, z);
  const W = responsibilities(X, m);
  const R = matrix(N, d);
  const C = matrix(N, K);
  const mbar = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    mbar.fill(0);
    for (let j = 0; j < K; j++) for (let k = 0; k < d; k++) mbar[k] += W.data[n * K + j]! * m.data[j * d + k]!;
    for (let k = 0; k < d; k++) R.data[n * d + k] = mbar[k]! - X.data[n * d + k]! + z.data[n * d + k]! / sigma;
    for (let j = 0; j < K; j++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += (m.data[j * d + k]! - mbar[k]!) * R.data[n * d + k]!;
      C.data[n * K + j] = W.data[n * K + j]! * p;
    }
  }
  return { X, W, R, C };
}

/** Matrix form of docs/math.md section 5: dL/dM = (2/N)(W^T R + C^T X - diag(colsum C) M). */
export function ddpmLossGradMatrixForm(x0: Matrix, m: Matrix, t: number, z: Matrix): LossAndGrad {
  checkShapes(x0, m, z);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const { X, W, R, C } = ddpmMatrices(x0, m, t, z);
  let loss = 0;
  for (let i = 0; i < R.data.length; i++) loss += R.data[i]! ** 2;
  const grad = matrix(K, d);
  for (let j = 0; j < K; j++) {
    let colsum = 0;
    for (let n = 0; n < N; n++) colsum += C.data[n * K + j]!;
    for (let k = 0; k < d; k++) {
      let wtr = 0;
      let ctx = 0;
      for (let n = 0; n < N; n++) {
        wtr += W.data[n * K + j]! * R.data[n * d + k]!;
        ctx += C.data[n * K + j]! * X.data[n * d + k]!;
      }
      grad.data[j * d + k] = (2 / N) * (wtr + ctx - colsum * m.data[j * d + k]!);
    }
  }
  return { loss: loss / N, grad };
}

/**
 * The size of the gradient sum, A[j,k] = (2/N) sum_n (|w_j r_k| + |C_nj||x_k| + |C_nj||m_jk|):
 * a float32 or float64 evaluation of dL/dm has error about (terms) * eps * A (docs/math.md section 5).
 */
export function ddpmGradMagnitude(x0: Matrix, m: Matrix, t: number, z: Matrix): Matrix {
  checkShapes(x0, m, z);
  const { rows: N, cols: d } = x0;
  const K = m.rows;
  const { X, W, R, C } = ddpmMatrices(x0, m, t, z);
  const out = matrix(K, d);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < K; j++) {
      const w = Math.abs(W.data[n * K + j]!);
      const c = Math.abs(C.data[n * K + j]!);
      for (let k = 0; k < d; k++) {
        out.data[j * d + k] +=
          w * Math.abs(R.data[n * d + k]!) + c * Math.abs(X.data[n * d + k]!) + c * Math.abs(m.data[j * d + k]!);
      }
    }
  }
  for (let i = 0; i < out.data.length; i++) out.data[i] = (2 / N) * out.data[i]!;
  return out;
}

/** Tied K = 2 student, m_2 = -m_1 = -m: mbar = tanh(m.x) m (docs/math.md sections 3 and 5). */
export function ddpmLossGradTied(x0: Matrix, m: Matrix, t: number, z: Matrix): LossAndGrad {
  checkShapes(x0, m, z);
  if (m.rows !== 1) throw new InputError(`tied mode takes one centre (1 x d), got ${m.rows} x ${m.cols}`);
  const { sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const X = noisyPoints(x0, t, z);
  const residual = new Float64Array(d);
  const grad = matrix(1, d);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const off = n * d;
    let u = 0;
    for (let k = 0; k < d; k++) u += m.data[k]! * X.data[off + k]!;
    const th = Math.tanh(u);
    let mr = 0;
    for (let k = 0; k < d; k++) {
      residual[k] = th * m.data[k]! - X.data[off + k]! + z.data[off + k]! / sigma;
      loss += residual[k]! ** 2;
      mr += m.data[k]! * residual[k]!;
    }
    const coef = (1 - th * th) * mr;
    for (let k = 0; k < d; k++) grad.data[k] += th * residual[k]! + coef * X.data[off + k]!;
  }
  for (let k = 0; k < d; k++) grad.data[k] = (2 / N) * grad.data[k]!;
  return { loss: loss / N, grad };
}

/** Weighted sums for EM: S_i = sum_n w_i x_n and T_i = sum_n w_i on the clean data at mu (docs/math.md section 9). */
export function emSums(x0: Matrix, mu: Matrix): { weighted: Float64Array; totals: Float64Array } {
  const W = responsibilities(x0, mu);
  const { rows: N, cols: d } = x0;
  const K = mu.rows;
  const weighted = new Float64Array(K * d);
  const totals = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < K; j++) {
      const w = W.data[n * K + j]!;
      totals[j] += w;
      for (let k = 0; k < d; k++) weighted[j * d + k] += w * x0.data[n * d + k]!;
    }
  }
  return { weighted, totals };
}

/** One EM step (the paper's Fact 5): mu_i <- sum_n w_i x_n / sum_n w_i; a component with no weight keeps its centre. */
export function emStep(x0: Matrix, mu: Matrix): Matrix {
  checkShapes(x0, mu);
  const { weighted, totals } = emSums(x0, mu);
  const d = mu.cols;
  const out = matrix(mu.rows, d, Float64Array.from(mu.data));
  for (let j = 0; j < mu.rows; j++) {
    if (totals[j]! > 0) for (let k = 0; k < d; k++) out.data[j * d + k] = weighted[j * d + k]! / totals[j]!;
  }
  return out;
}

/** One gradient-EM step (the paper's Fact 6): mu_i <- mu_i + eta (1/N) sum_n w_i (x_n - mu_i). */
export function gradientEmStep(x0: Matrix, mu: Matrix, eta: number): Matrix {
  checkShapes(x0, mu);
  if (!Number.isFinite(eta)) throw new InputError(`gradient-EM step size must be a finite number (got ${eta}): pass --lr such as 0.5`);
  const { weighted, totals } = emSums(x0, mu);
  const N = x0.rows;
  const d = mu.cols;
  const out = matrix(mu.rows, d);
  for (let j = 0; j < mu.rows; j++) {
    for (let k = 0; k < d; k++) {
      const i = j * d + k;
      out.data[i] = mu.data[i]! + (eta / N) * (weighted[i]! - totals[j]! * mu.data[i]!);
    }
  }
  return out;
}
