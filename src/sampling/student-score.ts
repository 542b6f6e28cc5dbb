// The score of the general student (docs/math.md sections 11 and 14) at forward time t: the mixture
// q_t = sum_i pi_i N(a_t mu_i, diag(v_i)), v_ij = a_t^2 c_ij + sigma_t^2, as a sampler's score source. Its
// per-time numbers (precisions 1/v and log-constants) are computed once per time in float64 and shared by the
// CPU evaluator and the GPU step table (src/sampling/gpu-student-sampler.ts).
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { logWeightsOf, variancesOf, type StudentParams } from '../training/student.ts';
import { requireFinite } from '../validate.ts';
import { shiftedExps } from '../math/softmax.ts';

/** The general student as a score: K x d centres and variances (unscaled, c) and K log weights. */
export interface StudentScore {
  readonly kind: 'student';
  /** K x d centres mu. */
  readonly means: Matrix;
  /** K x d variances c > 0 (a spherical c repeated over the coordinates). */
  readonly variances: Matrix;
  /** log pi_i; only their differences matter to the score. */
  readonly logWeights: Float64Array;
}

export function isStudentScore(s: unknown): s is StudentScore {
  return (s as { kind?: unknown }).kind === 'student';
}

/** The score of a fitted general student (docs/math.md section 14) with centres `means`. */
export function studentScoreOf(means: Matrix, student: StudentParams): StudentScore {
  return { kind: 'student', means, variances: variancesOf(student, means.cols), logWeights: logWeightsOf(student.beta) };
}

/** Checks the shapes and values, naming the fix; returns d. */
export function checkStudentScore(s: StudentScore, what: string): number {
  const { rows: K, cols: d } = s.means;
  if (K < 1 || d < 1) throw new InputError(`${what}: the student needs K >= 1 centres with d >= 1 columns (got ${K} x ${d})`);
  requireFinite(s.means, `${what}'s centres`);
  if (s.variances.rows !== K || s.variances.cols !== d) {
    throw new InputError(`${what}: the variances are ${s.variances.rows} x ${s.variances.cols} but the centres ${K} x ${d}: give one variance per centre and coordinate`);
  }
  for (const c of s.variances.data) {
    if (!(c > 0) || !Number.isFinite(c)) throw new InputError(`${what}: every variance must be a finite number > 0 (got ${c})`);
  }
  if (s.logWeights.length !== K || !s.logWeights.every(Number.isFinite)) {
    throw new InputError(`${what}: give K = ${K} finite log weights (got ${s.logWeights.length}${s.logWeights.every(Number.isFinite) ? '' : ', not all finite'})`);
  }
  return d;
}

/** The student's q_t at one time: m = a mu, precisions 1/v and log-constants log pi_i - (1/2) sum_j log v_ij. */
export interface StudentAtTime {
  readonly scaled: Float64Array;
  readonly precisions: Float64Array;
  readonly logConst: Float64Array;
}

export function studentAtTimeScratch(K: number, d: number): StudentAtTime {
  return { scaled: new Float64Array(K * d), precisions: new Float64Array(K * d), logConst: new Float64Array(K) };
}

/**
 * Fills q for time t with a = e^{-t} (the sampler's own a): v = a^2 c + sigma_t^2, sigma_t^2 = -expm1(-2t)
 * (docs/math.md section 2; 0 at t = 0, where v = c).
 */
export function studentAtTimeInto(s: StudentScore, t: number, a: number, q: StudentAtTime): void {
  const { rows: K, cols: d } = s.means;
  const a2 = a * a;
  const sigma2 = -Math.expm1(-2 * t);
  for (let i = 0; i < K; i++) {
    let logDet = 0;
    for (let j = 0; j < d; j++) {
      const e = i * d + j;
      const v = a2 * s.variances.data[e]! + sigma2;
      q.scaled[e] = a * s.means.data[e]!;
      q.precisions[e] = 1 / v;
      logDet += Math.log(v);
    }
    q.logConst[i] = s.logWeights[i]! - 0.5 * logDet;
  }
}

/**
 * s(y) = sum_i w_i(y) (m_i - y) / v_i with w = softmax(logConst_i - (1/2) sum_j (y_j - m_ij)^2 / v_ij), the
 * largest logit subtracted first (docs/math.md section 14), for y[yOff .. yOff + d) into out[outOff ..).
 */
export function studentScoreRowInto(
  q: StudentAtTime,
  K: number,
  d: number,
  logits: Float64Array,
  y: Float64Array,
  yOff: number,
  out: Float64Array,
  outOff: number,
): void {
  const { scaled: m, precisions: p, logConst } = q;
  let max = -Infinity;
  for (let i = 0; i < K; i++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += p[i * d + c]! * (y[yOff + c]! - m[i * d + c]!) ** 2;
    const l = logConst[i]! - sq / 2;
    logits[i] = l;
    if (l > max) max = l;
  }
  const sum = shiftedExps(logits, K, max, logits);
  for (let c = 0; c < d; c++) out[outOff + c] = 0;
  for (let i = 0; i < K; i++) {
    const w = logits[i]! / sum;
    for (let c = 0; c < d; c++) out[outOff + c] += w * p[i * d + c]! * (m[i * d + c]! - y[yOff + c]!);
  }
}

/** The student's score at every row of x at forward time t >= 0. */
export function studentScore(s: StudentScore, x: Matrix, t: number): Matrix {
  if (!Number.isFinite(t) || t < 0) throw new InputError(`the score's time t must be a finite number >= 0 (got ${t})`);
  const d = checkStudentScore(s, 'the score');
  if (x.cols !== d) throw new InputError(`the points have ${x.cols} columns but the student d = ${d}`);
  const K = s.means.rows;
  const q = studentAtTimeScratch(K, d);
  studentAtTimeInto(s, t, Math.exp(-t), q);
  const logits = new Float64Array(K);
  const out = matrix(x.rows, d);
  for (let n = 0; n < x.rows; n++) studentScoreRowInto(q, K, d, logits, x.data, n * d, out.data, n * d);
  return out;
}
