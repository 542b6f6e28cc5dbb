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
import { kmeansPlusPlus, randomDirection, seededRows } from './seeding.ts';

export type ScheduleName = 'single' | 'two-stage' | 'projected' | 'warm' | 'annealed';
export const SCHEDULES: readonly ScheduleName[] = ['single', 'two-stage', 'projected', 'warm', 'annealed'];

export interface ScheduleOptions {
  /** K, the number of centres. two-stage and projected need K = 2. */
  readonly k: number;
  /** Initial centres K x d in data coordinates (warm: required; single: default K seeded data rows). */
  readonly init?: Matrix;
  /** Seed of the random start (two-stage, projected, annealed, single without init). */
  readonly seed?: number;
  /**
   * single / warm: the noise scale t. Default 0.2: the objective at t sees the data blurred by noise of
   * variance sigma_t^2, which costs efficiency against EM where clusters overlap, and Theorem 16 asks only
   * for t = Theta(1) (docs/experiments.md, 'Measurements behind the defaults').
   */
  readonly noiseScale?: number;
  /** single / warm: the step size eta; annealed: the step size at t where a_t = 1 (scaled by 1 / a_t^2). */
  readonly lr?: number;
  /** single / warm / each stage: the step limit. */
  readonly maxSteps?: number;
  /** Stop when the centres move less than tol per step (unscaled units), averaged over a log interval. */
  readonly tol?: number;
  /** two-stage / projected: t1 = c1 * ln d. */
  readonly c1?: number;
  /** two-stage: the stage-2 scale t2. */
  readonly t2?: number;
  /** two-stage / projected: stage 1 step size in units of 1 / (a_t1^2 R_eff^2) (see stage1Lr). */
  readonly stage1Gain?: number;
  /** two-stage: stage-2 step size. */
  readonly stage2Lr?: number;
  /** two-stage / projected: the step limit of stage 1. */
  readonly maxStage1?: number;
  /** two-stage: stop stage 1 when 1 - |cos(direction now, one log interval ago)| <= this. */
  readonly directionTol?: number;
  /** two-stage / projected: norm of the random start, as a fraction of max(R, 1). */
  readonly initFraction?: number;
  /** annealed: the noise scales, decreasing. */
  readonly ladder?: readonly number[];
  /** annealed: how to seed. */
  readonly seeding?: 'kmeans++' | 'random';
  /** projected: override R (default: the data estimate of docs/math.md section 6). */
  readonly radius?: number;
  /** Log interval (steps per chunk); also the interval of the stopping rules. */
  readonly logEvery?: number;
  /**
   * two-stage / projected: how stage 1 stops. 'spectral' (default): against the data's top eigenvector
   * (see spectralTol); 'direction': the earlier plateau rule on the direction and norm of m.
   */
  readonly stage1Rule?: 'spectral' | 'direction';
  /** two-stage / projected, spectral rule: chunks without a new low of the gap before stage 1 stops. */
  readonly spectralPatience?: number;
  /**
   * Steps of Polyak-Ruppert averaging after the last GD stage (two-stage, projected, warm, annealed; single
   * only when given): the fit returns the mean of the chunk-end iterates of this tail. 0 turns it off.
   */
  readonly averageSteps?: number;
}

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
} as const;

export interface Plan {
  readonly problem: Problem;
  readonly stages: Stage[];
  /** Working centres at the start: mu (K x d), or m (1 x d) tied. */
  readonly init: Matrix;
  /** The resolved numbers, for reports and checkpoint fingerprints. */
  readonly settings: Record<string, number | string | number[] | boolean>;
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

function requirePositive(v: number, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new InputError(`${what} must be a finite number > 0, got ${v}`);
  return v;
}

function requireCount(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${what} must be a positive integer, got ${v}`);
  return v;
}

/** Builds the problem, the stages and the start of a schedule. */
export function planSchedule(name: ScheduleName, data: Matrix, o: ScheduleOptions): Plan {
  const d = data.cols;
  const seed = o.seed ?? 0;
  if (o.tol !== undefined) requirePositive(o.tol, 'the tolerance (tol)');
  const change = (lr: number, kEff: number) => ({ kind: 'change', tol: o.tol ?? noiseFloorTol(lr, d, data.rows, kEff) }) as const;
  const tol = o.tol ?? 'noise floor';
  if ((name === 'two-stage' || name === 'projected') && o.k !== 2) {
    throw new InputError(`the ${name} schedule is for K = 2 (paper Theorems 7 and 13) but K = ${o.k}; use --schedule warm, single or annealed`);
  }
  switch (name) {
    case 'two-stage':
    case 'projected': {
      const { problem, radius } = symmetricProblem(data);
      const c1 = requirePositive(o.c1 ?? DEFAULTS.c1, 'c1');
      const t2 = requirePositive(o.t2 ?? DEFAULTS.t2, 't2');
      const t1 = stage1Scale(d, c1, t2);
      const gain = requirePositive(o.stage1Gain ?? DEFAULTS.stage1Gain, 'the stage-1 gain');
      const R = name === 'projected' ? requirePositive(o.radius ?? Math.max(radius, 1e-6), 'the projection radius R') : radius;
      // The rate argument of stage1Lr is about ||mu*||, which the data estimate gives; a projection radius
      // given larger than it (the suite's unprojected run uses 1e6) must not shrink the step to nothing.
      const lr1 = stage1Lr(t1, radius, gain, d, data.rows);
      // projected has stage 1 alone, so the schedule's step limit (maxSteps) is its limit too.
      const maxStage1 = requireCount(o.maxStage1 ?? (name === 'projected' ? o.maxSteps : undefined) ?? DEFAULTS.maxStage1, 'the stage-1 step limit');
      const directionTol = requirePositive(o.directionTol ?? DEFAULTS.directionTol, 'the direction tolerance');
      const logEvery = o.logEvery ?? DEFAULTS.logEvery;
      const rule = o.stage1Rule ?? DEFAULTS.stage1Rule;
      if (rule !== 'spectral' && rule !== 'direction') throw new InputError(`the stage-1 rule must be 'spectral' or 'direction', got '${String(rule)}'`);
      const patience = requireCount(o.spectralPatience ?? DEFAULTS.spectralPatience, 'the spectral patience');
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
      const averageSteps = requireSteps(o.averageSteps ?? DEFAULTS.averageSteps, 'the averaging steps');
      if (name === 'projected') {
        // The tail runs at a quarter of the stage-1 step (see averagingTail).
        const stages = [stage1, ...averagingTail(stage1, averageSteps, DEFAULTS.projectedTailStep)];
        const tailLr = lr1 * DEFAULTS.projectedTailStep;
        return { problem, stages, init, settings: { schedule: name, t1, lr1, R, maxStage1, stage1Rule: rule, directionTol, averageSteps, tailLr, seed } };
      }
      const lr2 = requirePositive(o.stage2Lr ?? DEFAULTS.stage2Lr, 'the stage-2 step size');
      const maxSteps = requireCount(o.maxSteps ?? DEFAULTS.maxSteps, 'the stage-2 step limit');
      const stage2: Stage = { kind: 'gd', name: 'stage 2', noiseScale: t2, lr: lr2, maxSteps, stop: change(lr2, 1) };
      return {
        problem,
        stages: [stage1, stage2, ...averagingTail(stage2, averageSteps)],
        init,
        settings: { schedule: name, t1, lr1, t2, lr2, R: radius, maxStage1, maxStage2: maxSteps, stage1Rule: rule, directionTol, averageSteps, tol, seed },
      };
    }
    case 'single':
    case 'warm': {
      if (name === 'warm' && !o.init) throw new InputError('the warm schedule (Theorem 16) needs initial centres (--init FILE)');
      const init = o.init ?? seededRows(data, o.k, seed);
      if (init.rows !== o.k || init.cols !== d) {
        throw new InputError(`the initial centres are ${init.rows} x ${init.cols} but K x d = ${o.k} x ${d}; give one row per centre`);
      }
      const t = requirePositive(o.noiseScale ?? DEFAULTS.noiseScale, 'the noise scale t');
      const lr = requirePositive(o.lr ?? defaultLr(o.k), 'the step size');
      const maxSteps = requireCount(o.maxSteps ?? DEFAULTS.maxSteps, 'the step limit');
      const stage: Stage = { kind: 'gd', name, noiseScale: t, lr, maxSteps, stop: change(lr, 1) };
      // Algorithm 1 (single) returns its last iterate unless averaging is asked for.
      const averageSteps = requireSteps(o.averageSteps ?? (name === 'warm' ? DEFAULTS.averageSteps : 0), 'the averaging steps');
      const stages = [stage, ...averagingTail(stage, averageSteps)];
      return { problem: { data, tied: false }, stages, init, settings: { schedule: name, t, lr, maxSteps, averageSteps, tol, seed } };
    }
    case 'annealed': {
      const ladder = o.ladder ?? DEFAULTS.ladder;
      if (ladder.length < 1 || ladder.some((t, i) => !(t > 0) || (i > 0 && t >= ladder[i - 1]!))) {
        throw new InputError(`the annealing ladder must be decreasing positive noise scales, got ${ladder.join(', ')}`);
      }
      const init = o.init ?? (o.seeding === 'random' ? seededRows(data, o.k, seed) : kmeansPlusPlus(data, o.k, seed));
      // The annealed rungs keep eta = 1: measured only up to K = 16, where defaultLr is 1 as well.
      const base = requirePositive(o.lr ?? DEFAULTS.lr, 'the step size');
      const maxSteps = requireCount(o.maxSteps ?? DEFAULTS.maxSteps, 'the step limit');
      // Each rung warm-starts the next (docs/math.md section 3: m' = a_t' m / a_t is the same mu).
      const stages: Stage[] = ladder.map((t, i) => ({
        kind: 'gd',
        name: `t=${t}`,
        noiseScale: t,
        lr: base * annealGain(t),
        maxSteps: i === ladder.length - 1 ? maxSteps : Math.max(1, Math.round(maxSteps / 2)),
        stop: change(base * annealGain(t), 1),
      }));
      const averageSteps = requireSteps(o.averageSteps ?? DEFAULTS.averageSteps, 'the averaging steps');
      stages.push(...averagingTail(stages[stages.length - 1]!, averageSteps));
      return {
        problem: { data, tied: false },
        stages,
        init,
        settings: { schedule: name, ladder: [...ladder], lr: base, maxSteps, averageSteps, tol, seed, seeding: o.seeding ?? 'kmeans++' },
      };
    }
  }
}

function requireSteps(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InputError(`${what} must be a whole number >= 0, got ${v}`);
  return v;
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
