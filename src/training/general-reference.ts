// The float64 loss and gradients of the general student (docs/math.md section 14): one per-sample pass shared by
// the reference (noise from a matrix) and the CPU backend's GD (noise from Philox rows). The paper's student
// (identity covariance, equal weights) goes to today's reference, so its numbers keep their bits.
import { forwardCoefficients } from '../math/forward.ts';
import { matrix, type Matrix } from '../types.ts';
import { checkShapes, ddpmLossGradPerSample } from './cpu-reference.ts';
import { checkStudent, isPaperStudent, logWeightsOf, varianceColumns, VARIANCE_FLOOR, type StudentParams } from './student.ts';
import { shiftedExps } from '../math/softmax.ts';

/** L and its gradients in m (K x d), gamma (the shape of student.gamma) and beta (K). */
export interface StudentLossGrad {
  readonly loss: number;
  readonly gradM: Matrix;
  readonly gradGamma: Matrix;
  readonly gradBeta: Float64Array;
}

/** Reusable buffers of the pass, sized for K and d. */
export interface StudentScratch {
  readonly v: Float64Array;
  readonly p: Float64Array;
  readonly e: Float64Array;
  readonly gradV: Float64Array;
  readonly halfLogDet: Float64Array;
  readonly logPi: Float64Array;
  readonly logits: Float64Array;
  readonly w: Float64Array;
  readonly x: Float64Array;
  readonly r: Float64Array;
}

export function studentScratch(K: number, d: number): StudentScratch {
  const kd = () => new Float64Array(K * d);
  const k = () => new Float64Array(K);
  return { v: kd(), p: kd(), e: kd(), gradV: kd(), halfLogDet: k(), logPi: k(), logits: k(), w: k(), x: new Float64Array(d), r: new Float64Array(d) };
}

/**
 * One pass of docs/math.md section 14 over the N samples: L, and into gradM (K d), gradGamma (K cols) and
 * gradBeta (K) the gradients (zero where the student does not learn them). `noiseRow(n)` returns z_n (>= d entries).
 */
/** The pass's per-component terms at t: v_ij, 1 / v_ij, (1/2) sum_j log v_ij and log pi_i, into `sc`. */
export function studentTerms(s: StudentParams, t: number, d: number, sc: Pick<StudentScratch, 'v' | 'p' | 'halfLogDet' | 'logPi'>): void {
  const { a, sigma } = forwardCoefficients(t);
  const K = s.beta.length;
  const cols = varianceColumns(s.covariance, d);
  // v_ij = a_t^2 c_ij + sigma_t^2, exactly 1 for the identity covariance (section 14).
  for (let i = 0; i < K; i++) {
    let ld = 0;
    for (let j = 0; j < d; j++) {
      const c = cols === 0 ? 1 : VARIANCE_FLOOR + Math.exp(s.gamma.data[i * cols + (cols === 1 ? 0 : j)]!);
      const vij = cols === 0 ? 1 : a * a * c + sigma * sigma;
      sc.v[i * d + j] = vij;
      sc.p[i * d + j] = 1 / vij;
      ld += Math.log(vij);
    }
    sc.halfLogDet[i] = ld / 2;
  }
  sc.logPi.set(logWeightsOf(s.beta));
}

export function studentPass(
  x0: Matrix,
  m: Float64Array,
  s: StudentParams,
  t: number,
  noiseRow: (n: number) => Float64Array,
  gradM: Float64Array,
  gradGamma: Float64Array,
  gradBeta: Float64Array,
  sc: StudentScratch,
): number {
  const { a, sigma } = forwardCoefficients(t);
  const { rows: N, cols: d } = x0;
  const K = s.beta.length;
  const cols = varianceColumns(s.covariance, d);
  const { v, p, e, gradV, halfLogDet, logPi, logits, w, x, r } = sc;
  studentTerms(s, t, d, sc);
  gradM.fill(0);
  gradV.fill(0);
  gradBeta.fill(0);
  const invSigma = 1 / sigma;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const z = noiseRow(n);
    for (let j = 0; j < d; j++) x[j] = a * x0.data[n * d + j]! + sigma * z[j]!;
    // logit_i = log pi_i - (1/2) sum_j log v_ij - (1/2) sum_j (x_j - m_ij)^2 / v_ij; softmax with the max first.
    let max = -Infinity;
    for (let i = 0; i < K; i++) {
      let q = 0;
      for (let j = 0; j < d; j++) {
        const diff = m[i * d + j]! - x[j]!;
        e[i * d + j] = diff * p[i * d + j]!;
        q += diff * diff * p[i * d + j]!;
      }
      logits[i] = logPi[i]! - halfLogDet[i]! - q / 2;
      if (logits[i]! > max) max = logits[i]!;
    }
    const sum = shiftedExps(logits, K, max, w);
    for (let i = 0; i < K; i++) w[i] = w[i]! / sum;
    // s_j = sum_i w_i e_ij with e_ij = (m_ij - x_j) / v_ij; r = s + z / sigma_t.
    for (let j = 0; j < d; j++) {
      let sj = 0;
      for (let i = 0; i < K; i++) sj += w[i]! * e[i * d + j]!;
      r[j] = sj + z[j]! * invSigma;
      loss += r[j]! ** 2;
    }
    // g_i = r . e_i, h_i = w_i (g_i - sum_k w_k g_k): the softmax's share of every gradient.
    let gbar = 0;
    for (let i = 0; i < K; i++) {
      let g = 0;
      for (let j = 0; j < d; j++) g += r[j]! * e[i * d + j]!;
      logits[i] = g;
      gbar += w[i]! * g;
    }
    for (let i = 0; i < K; i++) {
      const wi = w[i]!;
      const h = wi * (logits[i]! - gbar);
      gradBeta[i] += h;
      for (let j = 0; j < d; j++) {
        const q = i * d + j;
        const eij = e[q]!;
        gradM[q] += wi * r[j]! * p[q]! - h * eij;
        gradV[q] += -wi * r[j]! * eij * p[q]! + (h * (eij * eij - p[q]!)) / 2;
      }
    }
  }
  const scale = 2 / N;
  for (let q = 0; q < K * d; q++) gradM[q] = scale * gradM[q]!;
  // dv/dgamma = a_t^2 exp(gamma); spherical sums over the coordinates (section 14).
  gradGamma.fill(0);
  for (let i = 0; i < K && cols > 0; i++) {
    for (let j = 0; j < d; j++) {
      const g = cols === 1 ? i : i * d + j;
      const eg = Math.exp(s.gamma.data[g]!);
      gradGamma[g] += scale * a * a * eg * gradV[i * d + j]!;
    }
  }
  for (let i = 0; i < K; i++) gradBeta[i] = s.weights === 'learned' ? scale * gradBeta[i]! : 0;
  return loss / N;
}

/**
 * L and the gradients of the general student at scaled centres m (K x d), scale t and noise z (N x d)
 * (docs/math.md section 14). The paper's student returns today's reference (ddpmLossGradPerSample) unchanged.
 */
export function studentLossGrad(x0: Matrix, m: Matrix, s: StudentParams, t: number, z: Matrix): StudentLossGrad {
  const K = m.rows;
  const d = m.cols;
  checkShapes(x0, m, z);
  checkStudent(s, K, d);
  if (isPaperStudent(s)) {
    const { loss, grad } = ddpmLossGradPerSample(x0, m, t, z);
    return { loss, gradM: grad, gradGamma: matrix(K, 0), gradBeta: new Float64Array(K) };
  }
  const gradM = matrix(K, d);
  const gradGamma = matrix(s.gamma.rows, s.gamma.cols);
  const gradBeta = new Float64Array(K);
  const loss = studentPass(x0, m.data, s, t, (n) => z.data.subarray(n * d, (n + 1) * d), gradM.data, gradGamma.data, gradBeta, studentScratch(K, d));
  return { loss, gradM, gradGamma, gradBeta };
}
