// One run of the estimator's method (docs/architecture.md, scikit-learn anchor): the ddpm schedules through the loop,
// EM and gradient EM, power iteration; the kept run's fields; and the defaults the front doors share.
import { averageLogLikelihood, fitEm, fitSchedule, kmeansPlusPlus, meanLogLikelihood, powerIteration, type HistoryRow, type LoopOptions, type ScheduleName, type ScheduleOptions } from './algorithms/index.ts';
import type { Backend } from './backend.ts';
import { centreError } from './centre-error.ts';
import type { Method } from './methods.ts';
import type { Covariance, StudentParams, Weights } from './training/student.ts';
import { fitReads } from './options/index.ts';
import { studentLogLikelihood } from './training/student-mixture.ts';
import { InputError } from './errors.ts';
import type { Matrix } from './types.ts';

/** What fit(X) returns: the kept run. */
export interface FitOutput {
  readonly means: Matrix;
  /** The general student's variances and weights (docs/math.md section 14); absent for the paper's student. */
  readonly student?: StudentParams;
  readonly history: HistoryRow[];
  readonly converged: boolean;
  readonly nIter: number;
  /** The screened schedule: which of its starts was kept (0-based) and each start's log-likelihood on the subsample. */
  readonly screen?: { readonly kept: number; readonly logLikelihoods: readonly number[] };
  /** nInit > 1: the restart kept (0-based), each one's average log-likelihood of X, and how many ran together per pass. */
  readonly restarts?: { readonly kept: number; readonly logLikelihoods: readonly number[]; readonly together: number };
}

/** One restart of fit(X) and the average log-likelihood of X under its fitted mixture. */
export interface RestartResult {
  readonly seed: number;
  /** ddpm's training-noise seed; the other methods draw no noise. */
  readonly noiseSeed: number;
  readonly logLikelihood: number;
  readonly converged: boolean;
  readonly nIter: number;
}

/**
 * The ddpm schedule when none is given: warm from given centres, two-stage for the paper's K = 2 student, screened
 * otherwise (a general student, docs/math.md section 14, is untied, so it gets screened for K = 2 too).
 */
export function defaultSchedule(nComponents: number, hasInit: boolean, general = false): ScheduleName {
  if (hasInit) return 'warm';
  return nComponents === 2 && !general ? 'two-stage' : 'screened';
}

/**
 * The student a fit learns when its options name none: diagonal variances and learned weights (docs/decisions/
 * 2026-12-06-default-student.md). The paper's student is covariance 'identity' with weights 'equal'.
 */
export const DEFAULT_STUDENT = { covariance: 'diag', weights: 'learned' } as const;

/**
 * The schedule, covariance and weights a fit runs: those given, the rest DEFAULT_STUDENT's where the method (ddpm:
 * the schedule) learns them. A fit that learns the paper's student only, given neither, runs the paper's; so does
 * chunked EM (chunkRows, memoryBudget), whose chunk sums are the paper's M-step's (src/training/chunked.ts).
 */
export function resolveFit(
  method: Method,
  schedule: ScheduleName | undefined,
  k: number,
  hasInit: boolean,
  o: { readonly covariance?: Covariance; readonly weights?: Weights; readonly chunkRows?: number; readonly memoryBudget?: number },
): { readonly schedule: ScheduleName; readonly covariance: Covariance; readonly weights: Weights } {
  const chunked = method !== 'ddpm' && (o.chunkRows !== undefined || o.memoryBudget !== undefined);
  const paper = (o.covariance === 'identity' && o.weights === 'equal') || (chunked && o.covariance === undefined && o.weights === undefined);
  const chosen = schedule ?? defaultSchedule(k, hasInit, !paper);
  const learns = fitReads(method, chosen, 'covariance') && !(chunked && o.covariance === undefined && o.weights === undefined);
  return {
    schedule: chosen,
    covariance: o.covariance ?? (learns ? DEFAULT_STUDENT.covariance : 'identity'),
    weights: o.weights ?? (learns ? DEFAULT_STUDENT.weights : 'equal'),
  };
}

/** Whether the options ask for the general student (docs/math.md section 14). */
export function asksGeneralStudent(o: { readonly covariance?: string; readonly weights?: string }): boolean {
  return (o.covariance ?? 'identity') !== 'identity' || (o.weights ?? 'equal') !== 'equal';
}

/** What one run takes: the method, its schedule, K and the schedule's options (with init and truth) in the fit's coordinates. */
export interface RunSpec {
  readonly method: Method;
  readonly schedule: ScheduleName;
  readonly k: number;
  readonly options: Omit<ScheduleOptions, 'k'> & { readonly truth?: Matrix; readonly loop?: Partial<LoopOptions> };
}

/** One run of the method from the given seeds. */
export async function fitRun(backend: Backend, X: Matrix, spec: RunSpec, seed: number, noiseSeed: number, hooks = true): Promise<FitOutput> {
  const o = spec.options;
  const k = spec.k;
  // A run beside the first of its group of restarts reports no progress: the group's first does.
  const { onProgress: _p, onStart: _s, ...quiet } = o.loop ?? {};
  const run = { ...(hooks ? o.loop : quiet), logEvery: o.logEvery, noiseSeed };
  if (spec.method === 'ddpm') {
    const r = await fitSchedule(backend, X, spec.schedule, { ...o, k, seed }, o.truth, run);
    const { screenBest, screenLogLikelihoods } = r.plan.settings;
    const screen = typeof screenBest === 'number' && Array.isArray(screenLogLikelihoods) ? { kept: screenBest, logLikelihoods: screenLogLikelihoods } : undefined;
    return { means: r.means, history: r.history, converged: r.converged, nIter: r.nIter, ...(r.student ? { student: r.student } : {}), ...(screen ? { screen } : {}) };
  }
  if (spec.method === 'power') {
    const p = powerIteration(X, { seed, maxSteps: o.maxSteps, tol: o.tol });
    const err = o.truth ? centreError(p.means, o.truth) : undefined;
    const history = p.history.map((gap, i) => ({
      step: i,
      stage: 'power',
      noiseScale: null,
      loss: gap,
      gradNorm: gap,
      change: gap,
      ...(err && i === p.history.length - 1 ? { error: err.max, meanError: err.mean } : {}),
      seconds: 0,
    }));
    return { means: p.means, history, converged: p.converged, nIter: p.nIter };
  }
  const init = o.init ?? kmeansPlusPlus(X, k, seed);
  const student = asksGeneralStudent(o) ? { covariance: o.covariance, weights: o.weights, varianceFloor: o.varianceFloor } : {};
  return fitEm(backend, spec.method as 'em' | 'gradient-em', X, init, { maxSteps: o.maxSteps, tol: o.tol, lr: o.lr, logEvery: o.logEvery, ...student }, o.truth, run);
}

/** (1/N) sum_n log q(x_n) under the fitted mixture: the yardstick restarts are kept by. */
export function averageLl(X: Matrix, means: Matrix, student?: StudentParams): number {
  return student ? meanLogLikelihood(studentLogLikelihood(X, means, student), 'X') : averageLogLikelihood(X, means, 'X');
}

/** An information criterion, refused when -2 N score overflows although the score is finite. */
export function finiteCriterion(v: number, name: string): number {
  if (!Number.isFinite(v)) throw new InputError(`the ${name} of this data is beyond float64's range (its log-likelihood is too large in magnitude): rescale the data and the centres`);
  return v;
}
