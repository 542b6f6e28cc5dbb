// The general student of docs/math.md section 14: per-component variances c_i (one per component or one per
// coordinate) and weights pi_i, learned by the same DDPM objective. Its parameters, their parametrisation
// c = floor + exp(gamma), pi = softmax(beta), and the floors; the paper's student is covariance 'identity'
// with weights 'equal', which takes no extra parameters and runs today's code.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

export const COVARIANCES = ['identity', 'spherical', 'diag'] as const;
export type Covariance = (typeof COVARIANCES)[number];
export const WEIGHTINGS = ['equal', 'learned'] as const;
export type Weights = (typeof WEIGHTINGS)[number];

/**
 * The floor added to every variance, c = VARIANCE_FLOOR + exp(gamma) (scikit-learn's reg_covar default): a
 * constant feature keeps c >= floor, so v, its log and 1/v stay finite at every t and at t = 0 (section 14).
 */
export const VARIANCE_FLOOR = 1e-6;
/**
 * The weight floor: after every step beta_i >= max_j beta_j + log(WEIGHT_FLOOR), so a component whose weight
 * collapses keeps pi_i >= WEIGHT_FLOOR / K and stays in the model with finite logits (section 14).
 */
export const WEIGHT_FLOOR = 1e-6;

/**
 * The lowest gamma: exp(GAMMA_MIN) = VARIANCE_FLOOR * 2^-53, below half a float64 (and float32) rounding unit of the
 * floor, so c = floor + exp(gamma) is the floor there and any lower gamma is the same model. Without it a variance at
 * the floor keeps stepping down (L's curvature in gamma vanishes with exp(gamma)^2), its inverse curvature overflows
 * and the step turns NaN (docs/math.md section 14, 'Floors').
 */
export const GAMMA_MIN = Math.log(VARIANCE_FLOOR) - 53 * Math.LN2;

/** Keeps every gamma >= min (default GAMMA_MIN; a student's own lowest gamma: lowestGamma). */
export function floorGamma(gamma: Float64Array, min = GAMMA_MIN): void {
  for (let q = 0; q < gamma.length; q++) if (gamma[q]! < min) gamma[q] = min;
}

/**
 * The lowest gamma that keeps every variance c = VARIANCE_FLOOR + exp(gamma) >= varianceFloor (docs/math.md
 * section 14, 'Floors'): GAMMA_MIN for a floor within a factor 2 of VARIANCE_FLOOR, else log(floor - VARIANCE_FLOOR).
 */
export function gammaMinFor(varianceFloor: number): number {
  if (!(varianceFloor >= 0) || !Number.isFinite(varianceFloor)) throw new InputError(`the variance floor must be a finite number >= 0, got ${varianceFloor}`);
  return varianceFloor <= 2 * VARIANCE_FLOOR ? GAMMA_MIN : Math.log(varianceFloor - VARIANCE_FLOOR);
}

/** The student's lowest gamma: its own floor where it has one, else GAMMA_MIN. */
export function lowestGamma(s: Pick<StudentParams, 'gammaMin'>): number {
  return s.gammaMin ?? GAMMA_MIN;
}

/** The smallest variance the student may take: VARIANCE_FLOOR + exp(lowestGamma). */
export function smallestVariance(s: Pick<StudentParams, 'gammaMin'>): number {
  return VARIANCE_FLOOR + Math.exp(lowestGamma(s));
}

/**
 * The trust region of one step in gamma: |delta gamma| <= 1, so a variance changes by at most a factor e per step
 * while the curvature-scaled step (gammaStepScale) is far from its fixed point (docs/math.md section 14, 'The step').
 */
export const GAMMA_TRUST = 1;

/**
 * The trust region of one step in m: |delta m_kj| <= M_TRUST sqrt(v_kj), one standard deviation of component k at t.
 * The v^2 scale is the inverse curvature where the component's samples are its own (weights 0 or 1), which holds
 * within about a standard deviation of the truth; there the step closes 2 eta f pi_k <= 1/2 of the error, so the cap
 * binds only outside it, where a v^2-scaled gradient of overlapping samples can throw a centre far off
 * (docs/math.md section 14, 'The step').
 */
export const M_TRUST = 1;

/** The step of m_kj within the trust region: `step` clamped to +-M_TRUST sqrt(v). */
export function trustStepM(step: number, v: number): number {
  const r = M_TRUST * Math.sqrt(v);
  return Math.max(-r, Math.min(r, step));
}

/**
 * The inverse curvature of L in gamma_kj near the truth, v^3 / (n (a_t^2 exp(gamma))^2) with n the coordinates
 * that share gamma (spherical: d, diag: 1): with it, eta's contraction 1 - 2 eta pi_k is the centres' (section 14).
 */
export function gammaStepScale(v: number, a2: number, expGamma: number, shared: number): number {
  const dv = a2 * expGamma;
  return (v * v * v) / (shared * dv * dv);
}

/**
 * The factor min(1, 1 / (K pi_k)) on component k's steps in m and gamma: their contraction 1 - 2 eta pi_k stays
 * at most eta's at pi = 1/K, so a heavy component cannot overshoot at the step size meant for K equal ones.
 */
export function heavyFactor(logPi: number, k: number): number {
  return Math.min(1, 1 / (k * Math.exp(logPi)));
}

/** The general student's parameters beyond the centres (docs/math.md section 14). */
export interface StudentParams {
  readonly covariance: Covariance;
  readonly weights: Weights;
  /** gamma with c = VARIANCE_FLOOR + exp(gamma): K x 1 (spherical), K x d (diag), K x 0 (identity: v = 1). */
  readonly gamma: Matrix;
  /** beta with pi = softmax(beta): K entries (all zero when the weights are equal). */
  readonly beta: Float64Array;
  /** The lowest gamma, from the fit's variance floor (gammaMinFor); GAMMA_MIN when absent. */
  readonly gammaMin?: number;
}

/** The paper's student (identity covariance, equal weights) needs none of the general path. */
export function isPaperStudent(s: { readonly covariance: Covariance; readonly weights: Weights } | undefined): boolean {
  return s === undefined || (s.covariance === 'identity' && s.weights === 'equal');
}

/** Columns of gamma: 0 (identity), 1 (spherical) or d (diag). */
export function varianceColumns(covariance: Covariance, d: number): number {
  return covariance === 'identity' ? 0 : covariance === 'spherical' ? 1 : d;
}

/** gamma = log(c - floor) for unscaled variances c (c must exceed the floor). */
export function gammaOf(c: number): number {
  if (!(c > VARIANCE_FLOOR) || !Number.isFinite(c)) {
    throw new InputError(`a variance must be a finite number above the floor ${VARIANCE_FLOOR}, got ${c}`);
  }
  return Math.log(c - VARIANCE_FLOOR);
}

/** The start of a general student: every c_i = c0 (default 1, the paper's model at every t) and equal weights. */
export function initialStudent(covariance: Covariance, weights: Weights, K: number, d: number, c0 = 1, gammaMin?: number): StudentParams {
  const gamma = matrix(K, varianceColumns(covariance, d));
  gamma.data.fill(covariance === 'identity' ? 0 : Math.max(gammaOf(c0), gammaMin ?? GAMMA_MIN));
  return { covariance, weights, gamma, beta: new Float64Array(K), ...(gammaMin !== undefined && gammaMin !== GAMMA_MIN ? { gammaMin } : {}) };
}

/** The unscaled variances c (K x d: a spherical c repeated over the coordinates; identity: ones). */
export function variancesOf(s: StudentParams, d: number): Matrix {
  const K = s.beta.length;
  const out = matrix(K, d);
  const cols = s.gamma.cols;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < d; j++) {
      out.data[i * d + j] = cols === 0 ? 1 : VARIANCE_FLOOR + Math.exp(s.gamma.data[i * cols + (cols === 1 ? 0 : j)]!);
    }
  }
  return out;
}

/** log pi_i = beta_i - logsumexp(beta), the max subtracted first. */
export function logWeightsOf(beta: Float64Array): Float64Array {
  let max = -Infinity;
  for (const b of beta) if (b > max) max = b;
  let sum = 0;
  for (const b of beta) sum += Math.exp(b - max);
  const lse = max + Math.log(sum);
  return beta.map((b) => b - lse);
}

/** pi = softmax(beta). */
export function weightsOf(beta: Float64Array): Float64Array {
  return logWeightsOf(beta).map(Math.exp);
}

/** Keeps beta_i >= max beta + log(WEIGHT_FLOOR) (see WEIGHT_FLOOR). */
export function floorWeights(beta: Float64Array): void {
  let max = -Infinity;
  for (const b of beta) if (b > max) max = b;
  const low = max + Math.log(WEIGHT_FLOOR);
  for (let i = 0; i < beta.length; i++) if (beta[i]! < low) beta[i] = low;
}

/**
 * Notes on what the floors hold (docs/math.md section 14, 'Floors'): variances within a factor 2 of the student's floor
 * (a coordinate a component does not vary in) and weights within a factor 2 of WEIGHT_FLOOR / K (a component that
 * holds almost no data). Empty when nothing is at a floor.
 */
export function studentFloorNotes(s: StudentParams, d: number): string[] {
  const K = s.beta.length;
  const c = variancesOf(s, d);
  const atVariance: string[] = [];
  const floor = smallestVariance(s);
  for (let i = 0; i < K && s.gamma.cols > 0; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) if (c.data[i * d + j]! < 2 * floor) n++;
    if (n > 0) atVariance.push(s.gamma.cols === 1 ? `component ${i + 1}` : `component ${i + 1} (${n} of ${d} coordinates)`);
  }
  const notes: string[] = [];
  if (atVariance.length > 0) {
    notes.push(`variance at the floor ${Number(floor.toPrecision(6))} (in the fit's coordinates) for ${atVariance.join(', ')}: the data does not vary there within the component`);
  }
  const pi = weightsOf(s.beta);
  const light = [...pi.keys()].filter((i) => s.weights === 'learned' && pi[i]! < (2 * WEIGHT_FLOOR) / K);
  if (light.length > 0) {
    notes.push(`weight at the floor ${WEIGHT_FLOOR} / K for component${light.length > 1 ? 's' : ''} ${light.map((i) => i + 1).join(', ')}: it holds almost no data; fewer components may fit as well`);
  }
  return notes;
}

/** A copy that shares nothing with `s`. */
export function copyStudent(s: StudentParams): StudentParams {
  return { ...s, gamma: matrix(s.gamma.rows, s.gamma.cols, s.gamma.data.slice()), beta: s.beta.slice() };
}

/** Checks a student's shapes against K and d, naming the fix. */
export function checkStudent(s: StudentParams, K: number, d: number): void {
  if (!COVARIANCES.includes(s.covariance) || !WEIGHTINGS.includes(s.weights)) {
    throw new InputError(`covariance must be one of ${COVARIANCES.join(', ')} and weights ${WEIGHTINGS.join(' or ')}, got '${String(s.covariance)}' and '${String(s.weights)}'`);
  }
  const cols = varianceColumns(s.covariance, d);
  if (s.gamma.rows !== K || s.gamma.cols !== cols || s.beta.length !== K) {
    throw new InputError(
      `a ${s.covariance} student with ${s.weights} weights takes gamma K x ${cols} and beta of K = ${K} entries, got ${s.gamma.rows} x ${s.gamma.cols} and ${s.beta.length}; build it with initialStudent`,
    );
  }
  for (const v of [...s.gamma.data, ...s.beta]) {
    if (!Number.isFinite(v)) throw new InputError(`the student's variance and weight parameters must be finite, got ${v}`);
  }
}
