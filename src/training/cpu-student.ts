// The CPU backend's GD for the general student (docs/math.md sections 6 and 14), in float64: the reference's
// per-sample pass (studentPass) with the noise rows of cpu.ts, and one step in m, gamma and beta.
import { DivergenceError, InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { matrix, type Matrix } from '../types.ts';
import type { GdOptions, GdResult, HistoryEntry } from './capability.ts';
import { studentPass, studentScratch } from './general-reference.ts';
import { checkStudent, copyStudent, floorGamma, floorWeights, GAMMA_TRUST, lowestGamma, gammaStepScale, heavyFactor, trustStepM, type StudentParams } from './student.ts';

/** Where the rows of step `step`'s noise come from: z_n for row n (cpu.ts's Philox rows or a matrix). */
export type NoiseRows = (step: number) => (n: number) => Float64Array;

/** Refuses what the general student does not take: the tied K = 2 student and the projection of section 6. */
export function checkGeneralGd(options: Pick<GdOptions, 'tied' | 'projectRadius'>): void {
  if (options.tied || options.projectRadius !== undefined) {
    throw new InputError(
      "the tied K = 2 student (schedules two-stage and projected) has identity covariance and equal weights: use --schedule annealed, single or warm with --covariance spherical|diag or --weights learned",
    );
  }
}

/** H GD steps of m = a_t mu, gamma and beta at scale t (docs/math.md section 14), logged as gdSteps logs. */
/**
 * One step of the general student from its gradients, in place (docs/math.md section 14, 'The step'): each parameter's
 * step scaled by its inverse curvature, m by v^2 and gamma by gammaStepScale, each within its trust region, gamma
 * above the student's lowest gamma, beta at its own step size; then the weight floor. v and log pi are the pass's.
 */
export function applyStudentStep(
  m: Float64Array,
  s: StudentParams,
  grad: { readonly m: Float64Array; readonly gamma: Float64Array; readonly beta: Float64Array },
  terms: { readonly v: Float64Array; readonly logPi: Float64Array },
  o: { readonly lr: number; readonly betaLr: number; readonly a2: number; readonly gammaMin: number; readonly d: number },
): void {
  const { lr, betaLr, a2, gammaMin, d } = o;
  const K = s.beta.length;
  const cols = s.gamma.cols;
  for (let q = 0; q < m.length; q++) m[q] = m[q]! - trustStepM(lr * heavyFactor(terms.logPi[Math.floor(q / d)]!, K) * terms.v[q]! * terms.v[q]! * grad.m[q]!, terms.v[q]!);
  for (let q = 0; q < grad.gamma.length; q++) {
    const i = cols === 1 ? q : Math.floor(q / d);
    const v = terms.v[cols === 1 ? q * d : q]!;
    // A zero gradient is no step, even where the inverse curvature is huge (gamma at GAMMA_MIN, a_t tiny).
    const step = grad.gamma[q] === 0 ? 0 : lr * heavyFactor(terms.logPi[i]!, K) * gammaStepScale(v, a2, Math.exp(s.gamma.data[q]!), cols === 1 ? d : 1) * grad.gamma[q]!;
    s.gamma.data[q] = Math.max(gammaMin, s.gamma.data[q]! - Math.max(-GAMMA_TRUST, Math.min(GAMMA_TRUST, step)));
  }
  if (s.weights === 'learned') {
    for (let q = 0; q < K; q++) s.beta[q] = s.beta[q]! - betaLr * grad.beta[q]!;
    floorWeights(s.beta);
  }
}

export function studentGdSteps(data: Matrix, centres: Matrix, start: StudentParams, options: GdOptions, logEvery: number, noiseAt: NoiseRows): GdResult {
  checkGeneralGd(options);
  const { rows: K, cols: d } = centres;
  checkStudent(start, K, d);
  const { a } = forwardCoefficients(options.noiseScale);
  const { steps, lr } = options;
  const betaLr = options.betaLr ?? lr;
  const a2 = a * a;
  const cols = start.gamma.cols;
  const startStep = options.startStep ?? 0;
  const m = centres.data.map((v) => a * v);
  let s = copyStudent(start);
  const gammaMin = lowestGamma(start);
  floorGamma(s.gamma.data, gammaMin);
  const gradM = new Float64Array(K * d);
  const gradGamma = new Float64Array(s.gamma.data.length);
  const gradBeta = new Float64Array(K);
  const scratch = studentScratch(K, d);
  const history: HistoryEntry[] = [];
  let reported: Matrix | undefined;
  for (let i = 0; i < steps; i++) {
    const step = startStep + i;
    const loss = studentPass(data, m, s, options.noiseScale, noiseAt(step), gradM, gradGamma, gradBeta, scratch);
    if (!Number.isFinite(loss)) throw divergence(step, `loss is ${loss}`, lr);
    applyStudentStep(m, s, { m: gradM, gamma: gradGamma, beta: gradBeta }, scratch, { lr, betaLr, a2, gammaMin, d });
    if (![...m, ...s.gamma.data, ...s.beta].every(Number.isFinite)) throw divergence(step, 'parameters are not finite', lr);
    if ((i + 1) % logEvery === 0 || i === steps - 1) {
      const gradNorm = Math.hypot(...gradM, ...gradGamma, ...(s.weights === 'learned' ? gradBeta : []));
      const last: HistoryEntry = { step, loss, gradNorm };
      history.push(last);
      reported = matrix(K, d, m.map((v) => v / a));
      // Go on from the reported centres, as a new call would (cpu.ts's gdSteps does the same).
      for (let q = 0; q < m.length; q++) m[q] = a * reported.data[q]!;
      const snapshot = copyStudent(s);
      options.onProgress?.({ done: i + 1, total: steps, centres: reported, last, student: snapshot });
    }
  }
  s = copyStudent(s);
  return { centres: reported ?? matrix(K, d, m.map((v) => v / a)), history, nIter: steps, student: s };
}

function divergence(step: number, what: string, lr: number): DivergenceError {
  return new DivergenceError(step, `training diverged at step ${step} (${what}): lower the step size --lr, for example to ${lr / 10}`);
}
