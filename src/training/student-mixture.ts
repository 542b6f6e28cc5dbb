// The general student as a mixture of the clean data (docs/math.md section 14 at t = 0, where v = c): its
// log-likelihood and responsibilities, for predict, score and bic, and EM's E- and M-steps for its
// variances and weights (docs/math.md section 9 with scikit-learn's spherical and diag M-steps).
import { matrix, type Matrix } from '../types.ts';
import { copyStudent, floorWeights, logWeightsOf, lowestGamma, varianceColumns, variancesOf, WEIGHT_FLOOR, type StudentParams } from './student.ts';

/** log q0(x_n) under sum_i pi_i N(mu_i, diag(c_i)), and optionally the responsibilities (N x K) into `proba`. */
export function studentLogLikelihood(data: Matrix, means: Matrix, s: StudentParams, proba?: Float64Array): Float64Array {
  const { rows: n, cols: d } = data;
  const K = means.rows;
  const c = variancesOf(s, d);
  const logPi = logWeightsOf(s.beta);
  const constant = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let ld = 0;
    for (let j = 0; j < d; j++) ld += Math.log(c.data[i * d + j]!);
    constant[i] = logPi[i]! - 0.5 * ld - 0.5 * d * Math.log(2 * Math.PI);
  }
  const out = new Float64Array(n);
  const logits = new Float64Array(K);
  for (let r = 0; r < n; r++) {
    let max = -Infinity;
    for (let i = 0; i < K; i++) {
      let q = 0;
      for (let j = 0; j < d; j++) q += (data.data[r * d + j]! - means.data[i * d + j]!) ** 2 / c.data[i * d + j]!;
      logits[i] = constant[i]! - q / 2;
      if (logits[i]! > max) max = logits[i]!;
    }
    // Log-sum-exp with the max subtracted (docs/math.md section 3).
    let sum = 0;
    for (let i = 0; i < K; i++) sum += Math.exp(logits[i]! - max);
    out[r] = max + Math.log(sum);
    if (proba) for (let i = 0; i < K; i++) proba[r * K + i] = Math.exp(logits[i]! - max) / sum;
  }
  return out;
}

/**
 * One EM step of the general student on the clean data: responsibilities at (mu, c, pi), then
 * mu_i = sum_n w_i x_n / N_i, c_ij = sum_n w_i (x_nj - mu_ij)^2 / N_i + floor (spherical: the mean over j;
 * identity: 1), pi_i = N_i / N when learned, held at the weight floor. A component with no weight keeps its parameters.
 */
export function studentEmStep(data: Matrix, means: Matrix, s: StudentParams): { centres: Matrix; student: StudentParams } {
  const { rows: N, cols: d } = data;
  const K = means.rows;
  const W = new Float64Array(N * K);
  studentLogLikelihood(data, means, s, W);
  const totals = new Float64Array(K);
  const centres = matrix(K, d, means.data.slice());
  const sums = new Float64Array(K * d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < K; i++) {
      const w = W[n * K + i]!;
      totals[i] += w;
      for (let j = 0; j < d; j++) sums[i * d + j] += w * data.data[n * d + j]!;
    }
  }
  for (let i = 0; i < K; i++) if (totals[i]! > 0) for (let j = 0; j < d; j++) centres.data[i * d + j] = sums[i * d + j]! / totals[i]!;
  const next = copyStudent(s);
  const cols = varianceColumns(s.covariance, d);
  if (cols > 0) {
    const spread = new Float64Array(K * d);
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < K; i++) {
        const w = W[n * K + i]!;
        for (let j = 0; j < d; j++) spread[i * d + j] += w * (data.data[n * d + j]! - centres.data[i * d + j]!) ** 2;
      }
    }
    for (let i = 0; i < K; i++) {
      if (!(totals[i]! > 0)) continue;
      for (let g = 0; g < cols; g++) {
        let raw = 0;
        if (cols === 1) for (let j = 0; j < d; j++) raw += spread[i * d + j]! / (d * totals[i]!);
        else raw = spread[i * d + g]! / totals[i]!;
        // c = floor + exp(gamma): gamma = log of the variance without its floor; a constant feature gives c = floor.
        next.gamma.data[i * cols + g] = Math.max(lowestGamma(s), Math.log(raw));
      }
    }
  }
  if (s.weights === 'learned') {
    for (let i = 0; i < K; i++) next.beta[i] = Math.log(Math.max(totals[i]! / N, WEIGHT_FLOOR / K));
    floorWeights(next.beta);
  }
  return { centres, student: next };
}

/** `steps` EM steps of a general student from `centres`, with the centres before the last step (Training.emSteps). */
export function studentEmSteps(data: Matrix, centres: Matrix, steps: number, student: StudentParams): { centres: Matrix; previous: Matrix; student: StudentParams } {
  let state = { centres, student };
  let previous = centres;
  for (let q = 0; q < steps; q++) [previous, state] = [state.centres, studentEmStep(data, state.centres, state.student)];
  return { centres: state.centres, previous, student: state.student };
}
