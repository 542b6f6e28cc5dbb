// The paper's schedules (docs/math.md section 8) and the annealed one, each a short list of loop stages
// (loop.ts). A schedule turns the data and options into a Problem (centred and tied for K = 2), the
// stages and a start; it does not know which Backend runs it. The defaults were measured
// (docs/experiments.md, 'Measurements behind the defaults').
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { matrix, type Matrix } from '../types.ts';
import { powerIteration } from './baselines.ts';
import { centred, radiusEstimate, sampleMean } from './matrix-math.ts';
import type { Problem, Stage } from './loop.ts';
import { screenStarts, screenSubsample } from './screen.ts';
import { studentEmStep } from '../training/student-mixture.ts';
import { kmeansPlusPlus, randomDirection, seededRows } from './seeding.ts';
import { checkOption, oneOf } from '../options/declare.ts';
import { gammaMinFor, initialStudent, isPaperStudent, smallestVariance, type Covariance, type StudentParams, type Weights } from '../training/student.ts';

export { DEFAULTS, SCHEDULE_OPTIONS, SCHEDULES, type ScheduleName, type ScheduleOptionKey, type ScheduleOptions } from './schedule-options.ts';
import { DEFAULTS, SCHEDULE_OPTIONS, SCHEDULES, type ScheduleName, type ScheduleOptionKey, type ScheduleOptions } from './schedule-options.ts';

/** A schedule's declaration: its doc, the K it is for, the options it reads and its plan. */
export interface ScheduleDecl {
  readonly name: ScheduleName;
  readonly doc: string;
  /** The K the schedule is for, and the result that needs it. */
  readonly needsK?: { readonly k: number; readonly why: string };
  /** The options it reads beyond COMMON_SCHEDULE_OPTIONS. */
  readonly options: readonly ScheduleOptionKey[];
  readonly plan: (data: Matrix, o: ScheduleOptions) => Plan;
}

/** What every schedule reads. */
export const COMMON_SCHEDULE_OPTIONS: readonly ScheduleOptionKey[] = ['init', 'seed', 'maxSteps', 'tol', 'averageSteps', 'logEvery'];
/** The general student's options (docs/math.md section 14): the untied schedules read them. */
export const STUDENT: readonly ScheduleOptionKey[] = ['covariance', 'weights', 'varianceFloor'];
const STAGE1: readonly ScheduleOptionKey[] = ['c1', 't2', 'stage1Gain', 'maxStage1', 'directionTol', 'initFraction', 'stage1Rule', 'spectralPatience'];

export const SCHEDULE_DECLS: { readonly [name in ScheduleName]: ScheduleDecl } = {
  single: {
    name: 'single',
    doc: "Algorithm 1 from K seeded data rows at one noise scale",
    options: ['noiseScale', 'lr', ...STUDENT],
    plan: (data, o) => planSingleScale('single', data, o),
  },
  'two-stage': {
    name: 'two-stage',
    doc: 'stage 1 at t1 learns the direction, stage 2 at t2 the norm (K = 2)',
    needsK: { k: 2, why: 'paper Theorem 7' },
    options: [...STAGE1, 'stage2Lr'],
    plan: (data, o) => planSymmetric('two-stage', data, o),
  },
  projected: {
    name: 'projected',
    doc: 'stage 1 alone, projected onto the ball of radius R (K = 2)',
    needsK: { k: 2, why: 'paper Theorem 13' },
    options: [...STAGE1, 'radius'],
    plan: (data, o) => planSymmetric('projected', data, o),
  },
  warm: {
    name: 'warm',
    doc: 'Algorithm 1 from given centres at one noise scale (Theorem 16)',
    options: ['noiseScale', 'lr', ...STUDENT],
    plan: (data, o) => planSingleScale('warm', data, o),
  },
  annealed: {
    name: 'annealed',
    doc: 'decreasing noise scales from k-means++, each rung warm-starting the next',
    options: ['ladder', 'seeding', 'lr', ...STUDENT],
    plan: planAnnealed,
  },
  screened: {
    name: 'screened',
    doc: 'the best of many k-means++ starts screened on a subsample, refined by GD at one noise scale with the EM step size',
    options: ['screenStarts', 'screenRows', 'noiseScale', 'lr', ...STUDENT],
    plan: planScreened,
  },
};

/** Whether the schedule reads the option. */
export function scheduleReads(name: ScheduleName, key: ScheduleOptionKey): boolean {
  return COMMON_SCHEDULE_OPTIONS.includes(key) || SCHEDULE_DECLS[name].options.includes(key);
}

export interface Plan {
  readonly problem: Problem;
  readonly stages: Stage[];
  /** Working centres at the start: mu (K x d), or m (1 x d) tied. */
  readonly init: Matrix;
  /** The resolved numbers, for reports and checkpoint fingerprints. */
  readonly settings: Record<string, number | string | number[] | boolean>;
  /** The general student's start (docs/math.md section 14); absent for the paper's student. */
  readonly student?: StudentParams;
}

/** The general student's start, c = 1 and equal weights (docs/math.md section 14); undefined: the paper's student. */
export function studentOf(o: Pick<ScheduleOptions, 'covariance' | 'weights' | 'varianceFloor'>, k: number, d: number): StudentParams | undefined {
  const covariance = checkOption(opt.covariance, o.covariance ?? 'identity') as Covariance;
  const weights = checkOption(opt.weights, o.weights ?? 'equal') as Weights;
  const floor = checkOption(opt.varianceFloor, o.varianceFloor ?? DEFAULTS.varianceFloor);
  return isPaperStudent({ covariance, weights }) ? undefined : initialStudent(covariance, weights, k, d, Math.max(1, 2 * floor), gammaMinFor(floor));
}

/** t1 = c1 ln d, never below t2 (for small d, c1 ln d < t2 and stage 1 runs at t2), docs/math.md section 8.2. */
export function stage1Scale(d: number, c1: number, t2: number): number {
  return Math.max(c1 * Math.log(d), t2);
}

/**
 * Stage-1 step size gain / (a_t1^2 R_eff^2), R_eff^2 = max(R^2, sqrt(2 d / N)): near m = 0 a step multiplies the
 * m* component by 1 + 4 eta ||m*||^2 = 1 + 4 gain (L as in docs/math.md section 4; sections 8.2 and 9), the same
 * rate at every d and ||mu*||. At the fixed point m = m* the curvature along m* is up to 8 ||m*||^2 (weak
 * signal), so the step is stable for gain < 1/4; the default 1/8 (rate 1.5, that curvature damped in one step)
 * keeps a factor 2 for the error of R, where 1/4 diverged (docs/experiments.md, 'Measurements behind the
 * defaults'). The floor, the standard deviation of the estimate R^2, keeps the step bounded on data without a
 * measurable signal.
 */
export function stage1Lr(t1: number, radius: number, gain: number, d: number, n: number): number {
  const { a } = forwardCoefficients(t1);
  return gain / (a * a * stage1RadiusSquared(radius, d, n));
}

/** R_eff^2 = max(R^2, sqrt(2 d / N)): see stage1Lr. */
export function stage1RadiusSquared(radius: number, d: number, n: number): number {
  return Math.max(radius * radius, Math.sqrt((2 * d) / n));
}

function symmetricProblem(data: Matrix): { problem: Problem; radius: number } {
  const mean = sampleMean(data);
  const problem: Problem = { data: centred(data, mean), tied: true, offset: mean };
  return { problem, radius: radiusEstimate(data, mean) };
}

/** Builds the problem, the stages and the start of a schedule. */
export function planSchedule(name: ScheduleName, data: Matrix, o: ScheduleOptions): Plan {
  const decl = checkOption(SCHEDULE_OPTION, name) && SCHEDULE_DECLS[name];
  if (o.tol !== undefined) checkOption(SCHEDULE_OPTIONS.tol, o.tol, 'the tolerance (tol)');
  if (decl.needsK && o.k !== decl.needsK.k) {
    const others = SCHEDULES.filter((s) => !SCHEDULE_DECLS[s].needsK);
    throw new InputError(`the ${name} schedule is for K = ${decl.needsK.k} (${decl.needsK.why}) but K = ${o.k}; use --schedule ${others.join(', ')}`);
  }
  return decl.plan(data, o);
}

/** The schedule itself, as an option of the estimator and the CLI. */
export const SCHEDULE_OPTION = oneOf(SCHEDULES, 'the schedule', 'the ddpm schedule', {
  default: { rule: 'warm with --init, else screened (two-stage for K = 2 with the paper\'s student)' },
  flag: { name: 'schedule' },
});
const opt = SCHEDULE_OPTIONS;

/** The stopping rule on the centre change: tol when given, else the noise floor of the step size. */
function changeRule(data: Matrix, o: ScheduleOptions) {
  return (lr: number, kEff: number) => ({ kind: 'change', tol: o.tol ?? noiseFloorTol(lr, data.cols, data.rows, kEff) }) as const;
}

/** two-stage and projected: the tied K = 2 problem about the sample mean, from a small random start. */
function planSymmetric(name: 'two-stage' | 'projected', data: Matrix, o: ScheduleOptions): Plan {
  const d = data.cols;
  const seed = o.seed ?? 0;
  const tol = o.tol ?? 'noise floor';
  const { problem, radius } = symmetricProblem(data);
  const c1 = checkOption(opt.c1, o.c1 ?? DEFAULTS.c1);
  const t2 = checkOption(opt.t2, o.t2 ?? DEFAULTS.t2);
  const t1 = stage1Scale(d, c1, t2);
  const gain = checkOption(opt.stage1Gain, o.stage1Gain ?? DEFAULTS.stage1Gain);
  const R = name === 'projected' ? checkOption(opt.radius, o.radius ?? Math.max(radius, 1e-6)) : radius;
  // The rate argument of stage1Lr is about ||mu*||, which the data estimate gives; a projection radius
  // given larger than it (the suite's unprojected run uses 1e6) must not shrink the step to nothing.
  const lr1 = stage1Lr(t1, radius, gain, d, data.rows);
  // projected has stage 1 alone, so the schedule's step limit (maxSteps) is its limit too.
  const maxStage1 = checkOption(opt.maxStage1, o.maxStage1 ?? (name === 'projected' ? o.maxSteps : undefined) ?? DEFAULTS.maxStage1);
  const directionTol = checkOption(opt.directionTol, o.directionTol ?? DEFAULTS.directionTol);
  const logEvery = o.logEvery ?? DEFAULTS.logEvery;
  const rule = checkOption(opt.stage1Rule, o.stage1Rule ?? DEFAULTS.stage1Rule);
  const patience = checkOption(opt.spectralPatience, o.spectralPatience ?? DEFAULTS.spectralPatience);
  // Random start of small norm (Theorem 7): the direction is uniform on the sphere.
  const init = o.init ? halfDifferenceOf(o.init, problem.offset!) : randomDirection(d, (o.initFraction ?? DEFAULTS.initFraction) * Math.max(radius, 1), seed);
  const stage1: Stage = {
    kind: 'gd',
    name: name === 'projected' ? 'projected' : 'stage 1',
    noiseScale: t1,
    lr: lr1,
    maxSteps: maxStage1,
    projectRadius: name === 'projected' ? R : undefined,
    stop:
      rule === 'direction'
        ? // The earlier rule: stop when the direction and the norm of m stop moving.
          { kind: 'direction', tol: directionTol, normTol: 2 * directionTol, minSteps: 2 * logEvery }
        : {
            // Stage 1 learns a direction (Lemma 10) by power iteration (Lemma 8): stop once m is as close to
            // the data's top eigenvector as that eigenvector is to mu* (spectralTol), or it stops improving.
            kind: 'spectral',
            direction: spectralDirection(problem.data),
            tol: spectralTol(d, data.rows, radius),
            patience,
            minSteps: 2 * logEvery,
            // The projected schedule has no stage 2 to learn the norm: it must also settle at the noise floor.
            changeTol: name === 'projected' ? stage1ChangeTol(lr1, t1, d, data.rows) : undefined,
          },
  };
  const averageSteps = checkOption(opt.averageSteps, o.averageSteps ?? DEFAULTS.averageSteps);
  if (name === 'projected') {
    // The tail runs at a quarter of the stage-1 step (see averagingTail).
    const stages = [stage1, ...averagingTail(stage1, averageSteps, DEFAULTS.projectedTailStep)];
    const tailLr = lr1 * DEFAULTS.projectedTailStep;
    return { problem, stages, init, settings: { schedule: name, t1, lr1, R, maxStage1, stage1Rule: rule, directionTol, averageSteps, tailLr, seed } };
  }
  const lr2 = checkOption(opt.stage2Lr, o.stage2Lr ?? DEFAULTS.stage2Lr);
  const maxSteps = checkOption(opt.maxSteps, o.maxSteps ?? DEFAULTS.maxSteps, 'the stage-2 step limit');
  const stage2: Stage = { kind: 'gd', name: 'stage 2', noiseScale: t2, lr: lr2, maxSteps, stop: changeRule(data, o)(lr2, 1) };
  return {
    problem,
    stages: [stage1, stage2, ...averagingTail(stage2, averageSteps)],
    init,
    settings: { schedule: name, t1, lr1, t2, lr2, R: radius, maxStage1, maxStage2: maxSteps, stage1Rule: rule, directionTol, averageSteps, tol, seed },
  };
}

/** single and warm: one GD stage at one noise scale, from seeded data rows or the given centres. */
function planSingleScale(name: 'single' | 'warm', data: Matrix, o: ScheduleOptions): Plan {
  const d = data.cols;
  const seed = o.seed ?? 0;
  const tol = o.tol ?? 'noise floor';
  if (name === 'warm' && !o.init) throw new InputError('the warm schedule (Theorem 16) needs initial centres (--init FILE)');
  const init = o.init ?? seededRows(data, o.k, seed);
  if (init.rows !== o.k || init.cols !== d) {
    throw new InputError(`the initial centres are ${init.rows} x ${init.cols} but K x d = ${o.k} x ${d}; give one row per centre`);
  }
  const t = checkOption(opt.noiseScale, o.noiseScale ?? DEFAULTS.noiseScale);
  const lr = checkOption(opt.lr, o.lr ?? defaultLr(o.k));
  const maxSteps = checkOption(opt.maxSteps, o.maxSteps ?? DEFAULTS.maxSteps);
  const stage: Stage = { kind: 'gd', name, noiseScale: t, lr, maxSteps, stop: changeRule(data, o)(lr, 1) };
  // Algorithm 1 (single) returns its last iterate unless averaging is asked for.
  const averageSteps = checkOption(opt.averageSteps, o.averageSteps ?? (name === 'warm' ? DEFAULTS.averageSteps : 0));
  const stages = [stage, ...averagingTail(stage, averageSteps)];
  const student = studentOf(o, o.k, d);
  return { problem: { data, tied: false }, stages, init, settings: { schedule: name, t, lr, maxSteps, averageSteps, tol, seed, ...studentSettings(student) }, ...(student ? { student } : {}) };
}

/** annealed: one GD rung per noise scale of the ladder, from k-means++ (or seeded rows, or the given centres). */
function planAnnealed(data: Matrix, o: ScheduleOptions): Plan {
  const seed = o.seed ?? 0;
  const tol = o.tol ?? 'noise floor';
  const change = changeRule(data, o);
  const ladder = checkOption(opt.ladder, o.ladder ?? DEFAULTS.ladder);
  const init = o.init ?? (o.seeding === 'random' ? seededRows(data, o.k, seed) : kmeansPlusPlus(data, o.k, seed));
  // The annealed rungs keep eta = 1: measured only up to K = 16, where defaultLr is 1 as well.
  const base = checkOption(opt.lr, o.lr ?? DEFAULTS.lr);
  const maxSteps = checkOption(opt.maxSteps, o.maxSteps ?? DEFAULTS.maxSteps);
  // Each rung warm-starts the next (docs/math.md section 3: m' = a_t' m / a_t is the same mu).
  const stages: Stage[] = ladder.map((t, i) => ({
    kind: 'gd',
    name: `t=${t}`,
    noiseScale: t,
    lr: base * annealGain(t),
    maxSteps: i === ladder.length - 1 ? maxSteps : Math.max(1, Math.round(maxSteps / 2)),
    stop: change(base * annealGain(t), 1),
  }));
  const averageSteps = checkOption(opt.averageSteps, o.averageSteps ?? DEFAULTS.averageSteps);
  stages.push(...averagingTail(stages[stages.length - 1]!, averageSteps));
  const student = studentOf(o, o.k, data.cols);
  return {
    problem: { data, tied: false },
    stages,
    init,
    settings: { schedule: 'annealed', ladder: [...ladder], lr: base, maxSteps, averageSteps, tol, seed, seeding: o.seeding ?? 'kmeans++', ...studentSettings(student) },
    ...(student ? { student } : {}),
  };
}

/**
 * screened: the start kept by the screen (screen.ts), then one GD stage at t on the full data with the EM step
 * size (emStepLr) and a short averaging tail.
 */
function planScreened(data: Matrix, o: ScheduleOptions): Plan {
  const seed = o.seed ?? 0;
  const tol = o.tol ?? 'noise floor';
  const starts = checkOption(opt.screenStarts, o.screenStarts ?? DEFAULTS.screenStarts);
  const rows = Math.min(data.rows, checkOption(opt.screenRows, o.screenRows ?? DEFAULTS.screenRowsPerCentre * o.k));
  const screen = o.init ? undefined : screenStarts(data, o.k, { starts, rows, iterations: DEFAULTS.screenIterations, seed });
  const init = o.init ?? screen!.centres;
  const t = checkOption(opt.noiseScale, o.noiseScale ?? DEFAULTS.noiseScale);
  const lr = checkOption(opt.lr, o.lr ?? emStepLr(o.k));
  const general = studentOf(o, o.k, data.cols);
  // A general student starts from the screen's EM on the subsample with its own covariance type (studentScreen).
  const seeded = general ? studentScreen(screenSubsample(data, rows, seed), init, general, DEFAULTS.screenIterations) : undefined;
  const student = seeded?.student ?? general;
  const maxSteps = checkOption(opt.maxSteps, o.maxSteps ?? (general ? DEFAULTS.screenStudentMaxSteps : DEFAULTS.screenMaxSteps));
  const stage: Stage = { kind: 'gd', name: `t=${t}`, noiseScale: t, lr, ...(general ? { betaLr: lr * BETA_STEP_GAIN } : {}), maxSteps, stop: changeRule(data, o)(lr, o.k) };
  const averageSteps = checkOption(opt.averageSteps, o.averageSteps ?? DEFAULTS.screenAverageSteps);
  const kept: Record<string, number | number[]> = screen ? { screenBest: screen.best, screenLogLikelihoods: screen.logLikelihoods, screenRows: screen.rows } : {};
  return {
    problem: { data, tied: false },
    stages: [stage, ...averagingTail(stage, averageSteps)],
    init: seeded?.centres ?? init,
    settings: { schedule: 'screened', screenStarts: starts, t, lr, maxSteps, averageSteps, tol, seed, ...kept, ...studentSettings(student) },
    ...(student ? { student } : {}),
  };
}

/**
 * The general student's start on the screened schedule: `iterations` EM steps of its covariance type and weights
 * (student-mixture.ts, studentEmStep) on the screen's subsample from the kept centres and c = 1, pi = 1/K. Host
 * float64, so the start is the same on every backend (docs/experiments.md, 'Fitting variances and weights').
 */
export function studentScreen(sub: Matrix, centres: Matrix, start: StudentParams, iterations: number): { centres: Matrix; student: StudentParams } {
  let now = { centres, student: start };
  for (let i = 0; i < iterations; i++) now = studentEmStep(sub, now.centres, now.student);
  return now;
}

/**
 * The general student's step size in beta as a multiple of eta (docs/math.md section 14, 'The step'): L's
 * curvature in beta comes only from where the components overlap, so it is far below the centres' 2 pi_k / v^2
 * (docs/experiments.md, 'Fitting variances and weights').
 */
export const BETA_STEP_GAIN = 1;

/**
 * Half the EM step size at small t, K / 4 (docs/math.md section 9, connection 2): near the truth dL/dm_i is
 * about 2 pi_i (m_i - a_t mu*_i) with pi_i = 1 / K, so K / 2 jumps a separated centre to its fixed point as
 * EM does; half of it halves each step's fresh-noise kick and still closes the gap in a few steps.
 */
export function emStepLr(k: number): number {
  return Math.max(DEFAULTS.lr, k / 4);
}

/**
 * The Polyak-Ruppert tail after a GD stage: the same t and projection for `steps` more steps at the stage's
 * step size times `stepFactor`, returning the mean of the chunk-end iterates (loop.ts, Stage.average).
 * Nothing when steps is 0. When the iterate forgets its past within a chunk (the projected schedule's
 * stage-1 step does), the mean's variance is proportional to the step, so a smaller tail step helps
 * (docs/experiments.md, 'Measurements behind the defaults').
 */
export function averagingTail(stage: Stage, steps: number, stepFactor = 1): Stage[] {
  if (steps === 0 || stage.kind !== 'gd') return [];
  return [{ ...stage, name: `${stage.name} (average)`, lr: stage.lr * stepFactor, maxSteps: steps, stop: { kind: 'none' }, average: true }];
}

/** The general student's names in a plan's settings; nothing for the paper's student, whose settings stay as they were. */
const studentSettings = (s: StudentParams | undefined): Record<string, string | number> => (s ? { covariance: s.covariance, weights: s.weights, varianceFloor: smallestVariance(s) } : {});

/** Unit top eigenvector of the centred data's covariance - I (docs/math.md section 9), by power iteration on the host. */
export function spectralDirection(centredData: Matrix): Float64Array {
  // 1 - |cos| <= 1e-8 between iterates is far below any spectralTol; 100 iterations bound the cost at no signal.
  return powerIteration(centredData, { tol: 1e-8, maxSteps: 100 }).direction;
}

/**
 * The first-order statistical error sin(angle) of the data's top eigenvector as an estimate of mu*'s direction
 * (docs/experiments.md, 'Stopping rules and averaging'): closer to the eigenvector cannot bring m closer to mu*.
 * Capped at 0.5 (about 30 degrees) so that a weak signal still gets an aligned start.
 */
export function spectralTol(d: number, n: number, radius: number): number {
  const r2 = Math.max(radius * radius, 1e-12);
  return Math.min(0.5, Math.sqrt(((d - 1) * (1 + r2)) / n) / r2);
}

/**
 * The stage-1 noise floor on the centre change per step, in unscaled units: the step on m = a_t mu is
 * lr dL/dm, whose fresh-noise sampling error is about sqrt(d / N) (docs/math.md section 6), so mu moves by
 * about lr sqrt(d / N) / a_t per step once the expected gradient is gone.
 */
export function stage1ChangeTol(lr: number, t: number, d: number, n: number): number {
  return (lr * Math.sqrt(d / n)) / forwardCoefficients(t).a;
}

/**
 * The default tolerance on the centre change per step: the noise floor of fresh-noise GD. Once the expected
 * gradient is gone the centres keep moving by about lr sqrt(d / (K N)) per step from the gradient's sampling
 * error, so below that progress cannot be told from noise (docs/experiments.md, 'Stopping rules and averaging').
 */
export function noiseFloorTol(lr: number, d: number, n: number, kEff: number): number {
  return lr * Math.sqrt(d / (kEff * n));
}

/**
 * The untied step size of single and warm: max(1, K / 16). Near the truth the step on centre j contracts
 * its error by about 1 - 2 eta pi_j, pi_j ~ 1/K, so a fixed eta converges K times slower and the change rule
 * stops large-K runs early; up to K = 16, eta = 1 is right (docs/experiments.md, 'Measurements behind the defaults').
 */
export function defaultLr(k: number): number {
  return Math.max(DEFAULTS.lr, k / 16);
}

/**
 * The annealed rung's step-size factor: the signal in dL/dm scales like a_t^2 at high t, so eta scales like
 * 1/a_t^2, capped at 2 because a larger cap diverged (docs/experiments.md, 'Measurements behind the defaults').
 */
function annealGain(t: number): number {
  const { a } = forwardCoefficients(t);
  return Math.min(1 / (a * a), 2);
}

/** A 2 x d init in data coordinates to the tied m = (mu_1 - mu_2) / 2; a 1 x d init is taken as m. */
function halfDifferenceOf(init: Matrix, offset: Float64Array): Matrix {
  void offset;
  if (init.rows === 1) return init;
  if (init.rows !== 2) throw new InputError(`K = 2 schedules take 1 or 2 initial centres, got ${init.rows}`);
  const d = init.cols;
  const m = matrix(1, d);
  for (let c = 0; c < d; c++) m.data[c] = (init.data[c]! - init.data[d + c]!) / 2;
  return m;
}
