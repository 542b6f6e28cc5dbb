// The start of a run: the page's settings translated into the options the estimator would pass
// (src/estimator.ts) and planned by the library (planSchedule, emPlan), so that the page runs the
// stages, defaults and stopping rules of the CLI, the estimator and the experiments through the
// algorithms' loop (docs/architecture.md: a front door only translates its inputs and outputs).
import { emPlan } from '../algorithms/baselines.ts';
import { DEFAULTS as SCHEDULE_DEFAULTS, planSchedule, studentOf, type Plan, type ScheduleOptions } from '../algorithms/schedules.ts';
import { kmeansPlusPlus, seededRows, warmStart } from '../algorithms/seeding.ts';
import { InputError } from '../errors.ts';
import { resolveFit } from '../fit-run.ts';
import { smallestVariance, type Covariance, type Weights } from '../training/student.ts';
import { fitScaling, scaledStarts, toScaled, type Scaling } from '../scaling.ts';
import type { Matrix } from '../types.ts';
import type { PageData } from './problem.ts';
import { isPaperSchedule, type Settings } from './settings.ts';

/** A plan of the algorithms' loop and its log interval: what runStages is given. */
export interface RunPlan extends Plan {
  /** Steps per chunk, as fitSchedule and fitEm choose it by default (the stopping rules are defined per chunk). */
  readonly logEvery: number;
}

/** The data the model is fitted to: the estimator's per-feature scaling of the page's data (src/scaling.ts). */
export interface FitSpace {
  /** (x - centre) / scale, or the data as given for scale 'none'. */
  readonly data: Matrix;
  readonly scaling?: Scaling;
  /** What the scaling had to floor (constant features), in sentences. */
  readonly notes: readonly string[];
}

/** The start of a run: the main method's plan, and EM's start beside it (K x d), both in the fit's coordinates. */
export interface Start {
  readonly plan: RunPlan;
  readonly emInit: Matrix;
  readonly fit: FitSpace;
}

/** The estimator's scaling of the data, seeded as DdpmGmm.fit seeds it (the settings' seed). */
export function fitSpaceOf(s: Settings, p: PageData): FitSpace {
  if (s.scale === 'none') return { data: p.data, notes: [] };
  const { scaling, notes } = fitScaling(p.data, s.scale, s.k, s.seed);
  return { data: toScaled(p.data, scaling), scaling, notes };
}

/**
 * The student the estimator learns for these settings (resolveFit, as DdpmGmm's constructor resolves it): the
 * library's default (diag variances, learned weights) where the method or schedule learns one, else the paper's;
 * the variance floor is the library's default. The page always gives EM an init (the warm start or K seeded rows).
 */
export function studentOptions(s: Settings): { readonly covariance: Covariance; readonly weights: Weights; readonly varianceFloor: number } {
  const ddpm = s.method === 'ddpm';
  const { covariance, weights } = resolveFit(s.method, ddpm ? s.schedule : undefined, s.k, ddpm ? s.schedule === 'warm' : true, {});
  return { covariance, weights, varianceFloor: SCHEDULE_DEFAULTS.varianceFloor };
}

/**
 * The warm start of Theorem 16 with the experiment suite's distance: each true centre moved by a third of
 * the generator's separation (src/experiments/suite.ts, the warm-start rows), which generateMixture makes
 * the minimum pairwise distance (the CLI demo's convention).
 */
export function warmInit(s: Settings, p: PageData): Matrix {
  if (!p.truth) throw new InputError("The warm start moves the true centres, and a file has none: choose the library's default (schedule=default) or 'K seeded data rows' (schedule=single).");
  return warmStart(p.truth, s.separation / 3, s.seed);
}

/**
 * DDPM-GD: the schedule's plan, with the page's t, step size and step limit where given (else the schedule's
 * defaults), and for warm the warm start as init. EM and gradient EM: fitEm's plan from the warm start or the
 * single schedule's K seeded data rows. EM beside a paper schedule starts from k-means++ on the same seed,
 * as in the experiment suite: EM from the two-stage start, mean +/- m with m small, would start near the
 * saddle where the two centres coincide, which no one would do with EM. For annealed this is the schedule's
 * own start. Beside warm and single, EM starts where the main run starts. As in DdpmGmm.fit, the run is in the
 * coordinates of the settings' scaling (fitSpaceOf), with the warm start moved there from the data's units.
 */
export function startOf(s: Settings, p: PageData): Start {
  const fit = fitSpaceOf(s, p);
  const { data } = fit;
  // Given in the data's units, as the estimator's init, and moved into the fit's coordinates as it moves them.
  const scaled = (init: Matrix): Matrix => (fit.scaling ? scaledStarts({ init }, s.k, fit.scaling).init! : init);
  const learns = studentOptions(s);
  if (s.method !== 'ddpm') {
    const init = s.schedule === 'warm' ? scaled(warmInit(s, p)) : seededRows(data, s.k, s.seed);
    const { problem, stages } = emPlan(s.method, data, { maxSteps: s.steps, lr: s.lr });
    const stage = stages[0]!;
    const settings: Record<string, number | string> = { method: s.method, maxSteps: stage.maxSteps };
    if (stage.stop.kind === 'change') settings['tol'] = stage.stop.tol;
    if (stage.kind === 'gradient-em') settings['lr'] = stage.lr;
    // EM's general student starts, as fitEm's, from c = 1 and equal weights; gradient EM learns the paper's only.
    const student = studentOf(learns, s.k, data.cols);
    if (student) Object.assign(settings, { covariance: student.covariance, weights: student.weights, varianceFloor: smallestVariance(student) });
    return { plan: { problem, stages, init, settings, logEvery: 1, ...(student ? { student } : {}) }, emInit: init, fit };
  }
  const paper = isPaperSchedule(s.schedule);
  const options: ScheduleOptions = {
    k: s.k,
    seed: s.seed,
    maxSteps: s.steps,
    // The paper schedules set their own noise scales and step sizes.
    ...(paper ? {} : { noiseScale: s.t, lr: s.lr }),
    ...(s.schedule === 'warm' ? { init: scaled(warmInit(s, p)) } : {}),
    ...learns,
  };
  const plan = planSchedule(s.schedule, data, options);
  return { plan: { ...plan, logEvery: SCHEDULE_DEFAULTS.logEvery }, emInit: paper ? kmeansPlusPlus(data, s.k, s.seed) : plan.init, fit };
}
