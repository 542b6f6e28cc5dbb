// The schedules' names, their options and the measured defaults, declared once (docs/architecture.md, 'Options
// are declared once'): the CLI's flags and help, the estimator's checks and the page derive from them. The
// schedules themselves, each declared beside its plan, are in schedules.ts.
import type { Matrix } from '../types.ts';
import { decreasingList, integer, matrixOption, oneOf, positive, seed, type OptionDecl } from '../options/declare.ts';
import { COVARIANCES, WEIGHTINGS, type Covariance, type Weights } from '../training/student.ts';

export const SCHEDULES = ['single', 'two-stage', 'projected', 'warm', 'annealed', 'screened'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/** Each option's kind, range, default and doc: SCHEDULE_OPTIONS (below). */
export interface ScheduleOptions {
  /** K, the number of centres. two-stage and projected need K = 2. */
  readonly k: number;
  readonly init?: Matrix;
  readonly seed?: number;
  readonly noiseScale?: number;
  readonly lr?: number;
  readonly maxSteps?: number;
  readonly tol?: number;
  readonly c1?: number;
  readonly t2?: number;
  readonly stage1Gain?: number;
  readonly stage2Lr?: number;
  readonly maxStage1?: number;
  readonly directionTol?: number;
  readonly initFraction?: number;
  readonly ladder?: readonly number[];
  readonly seeding?: 'kmeans++' | 'random';
  readonly radius?: number;
  readonly logEvery?: number;
  readonly stage1Rule?: 'spectral' | 'direction';
  readonly spectralPatience?: number;
  readonly averageSteps?: number;
  readonly covariance?: Covariance;
  readonly weights?: Weights;
  readonly varianceFloor?: number;
  readonly screenStarts?: number;
  readonly screenRows?: number;
}
export type ScheduleOptionKey = Exclude<keyof ScheduleOptions, 'k'>;

/** The measured defaults (docs/experiments.md, 'The schedules' and 'Measurements behind the defaults'). */
export const DEFAULTS = {
  c1: 0.25,
  t2: 0.5,
  // 1/8, not 1/4: the fixed point is stable only for gain < 1/4 (docs/math.md section 9), and 1/4 diverged on weak signals.
  stage1Gain: 0.125,
  stage2Lr: 0.25,
  maxStage1: 400,
  maxSteps: 300,
  directionTol: 1e-2,
  initFraction: 0.1,
  noiseScale: 0.2,
  lr: 1,
  ladder: [2, 1, 0.5] as readonly number[],
  logEvery: 5,
  stage1Rule: 'spectral',
  spectralPatience: 4,
  averageSteps: 100,
  projectedTailStep: 0.25,
  screenStarts: 20,
  screenRowsPerCentre: 100,
  screenIterations: 5,
  screenMaxSteps: 5,
  // A general student's GD stage also settles its spreads and weights (docs/math.md section 14, 'Stopping').
  screenStudentMaxSteps: 100,
  screenAverageSteps: 15,
  // A tenth of the pooled within-cluster standard deviation under the estimator's default scaling: below it the
  // fit at t = 0.2 cannot resolve a spread (sigma_t^2 / a_t^2 = 0.49), and a component narrows onto a few rows.
  varianceFloor: 0.01,
} as const;

/** The schedules' options, declared once (src/options/declare.ts): the CLI, the estimator and the page derive from these. */
export const SCHEDULE_OPTIONS: Readonly<Record<ScheduleOptionKey, OptionDecl>> = {
  init: matrixOption('the initial centres', 'K x d initial centres in data coordinates (the warm schedule needs them)', { flag: { name: 'init', arg: 'FILE' } }),
  seed: seed('the initialisation seed', 'seeds the start: the random start, k-means++ or the seeded data rows', { default: 0, flag: { name: 'init-seed', arg: 'S' } }),
  // 0.2: the objective at t sees the data blurred by noise of variance sigma_t^2, which costs efficiency against
  // EM where clusters overlap, and Theorem 16 asks only for t = Theta(1).
  noiseScale: positive('the noise scale t', 'the noise scale t of the one GD stage', { default: DEFAULTS.noiseScale, flag: { name: 't', arg: 'T' } }),
  lr: positive('the step size', 'the step size eta (annealed: at a_t = 1, scaled by 1 / a_t^2)', { default: { rule: 'max(1, K/16); annealed and gradient-em 1; screened max(1, K/4)' }, flag: { name: 'lr', arg: 'ETA' } }),
  maxSteps: integer('the step limit', "the step limit of each GD stage (annealed: the last rung's; the others get half), or the iteration limit", 1, { default: { rule: `${DEFAULTS.maxSteps}; screened ${DEFAULTS.screenMaxSteps}, ${DEFAULTS.screenStudentMaxSteps} with learned variances or weights` }, flag: { name: 'steps', arg: 'H' } }),
  tol: positive('the tolerance', 'stop when the centres (and learned spreads and weights, in noise units) move less than this per step, averaged over a log interval', { default: { rule: 'the fresh-noise floor lr sqrt(d/N) for GD, 1e-4 for EM' }, flag: { name: 'tol', arg: 'TOL' } }),
  averageSteps: integer('the averaging steps', 'after the last GD stage, this many more steps whose chunk-end iterates are averaged (Polyak-Ruppert; 0 returns the last iterate)', 0, { default: { rule: `${DEFAULTS.averageSteps}; single 0; screened ${DEFAULTS.screenAverageSteps}` }, flag: { name: 'average-steps', arg: 'A' } }),
  covariance: oneOf(COVARIANCES, 'the covariance', "the student's covariances (docs/math.md section 14): identity (the paper's), spherical (one variance per component) or diag (one per coordinate)", { default: { rule: "diag where the fit learns it; identity for the paper's schedules and methods" }, flag: { name: 'covariance' } }),
  weights: oneOf(WEIGHTINGS, 'the weights', "the student's weights: equal (the paper's 1/K) or learned", { default: { rule: "learned where the fit learns them; equal for the paper's schedules and methods" }, flag: { name: 'weights' } }),
  varianceFloor: positive('the variance floor', "the smallest variance a learned covariance may take, in the fit's coordinates (the pooled within-cluster variance is 1 under scale 'within'; the data's units under scale 'none')", { default: DEFAULTS.varianceFloor, flag: { name: 'variance-floor', arg: 'V' } }),
  logEvery: integer('the log interval', 'steps per logged chunk, also the interval of the stopping rules', 1, { default: DEFAULTS.logEvery, flag: { name: 'log-every', arg: 'L' } }),
  c1: positive('c1', 'stage 1 runs at t1 = max(c1 ln d, t2)', { default: DEFAULTS.c1 }),
  t2: positive('t2', 'the stage-2 noise scale', { default: DEFAULTS.t2 }),
  stage1Gain: positive('the stage-1 gain', 'the stage-1 step size in units of 1 / (a_t1^2 R_eff^2) (see stage1Lr)', { default: DEFAULTS.stage1Gain }),
  stage2Lr: positive('the stage-2 step size', 'the stage-2 step size', { default: DEFAULTS.stage2Lr }),
  maxStage1: integer('the stage-1 step limit', 'the step limit of stage 1 (projected: maxSteps when given)', 1, { default: DEFAULTS.maxStage1 }),
  directionTol: positive('the direction tolerance', "the direction rule: stop stage 1 when 1 - |cos| between log intervals is at most this", { default: DEFAULTS.directionTol }),
  initFraction: positive('the start fraction', 'the norm of the random start, as a fraction of max(R, 1)', { default: DEFAULTS.initFraction }),
  ladder: decreasingList('the annealing ladder', 'noise scales', 'the noise scales of the rungs, decreasing', { default: DEFAULTS.ladder }),
  seeding: oneOf(['kmeans++', 'random'], 'the seeding', 'how the annealed schedule seeds its start', { default: 'kmeans++' }),
  radius: positive('the projection radius R', 'the projection radius R', { default: { rule: 'the data estimate of docs/math.md section 6' } }),
  stage1Rule: oneOf(['spectral', 'direction'], 'the stage-1 rule', "how stage 1 stops: against the data's top eigenvector, or the plateau rule on m's direction and norm", { default: DEFAULTS.stage1Rule }),
  screenStarts: integer('the screened starts', 'the k-means++ starts screened by a few EM iterations on a subsample, the best kept', 1, { default: DEFAULTS.screenStarts, flag: { name: 'screen-starts', arg: 'S' } }),
  screenRows: integer('the screen subsample', "the subsample's rows", 1, { default: { rule: `${DEFAULTS.screenRowsPerCentre} K, at most N` }, flag: { name: 'screen-rows', arg: 'N' } }),
  spectralPatience: integer('the spectral patience', 'the spectral rule: chunks without a new low of the gap before stage 1 stops', 1, { default: DEFAULTS.spectralPatience }),
};
