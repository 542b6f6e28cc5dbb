// The paper's Algorithm 1 as written (docs/math.md sections 6 and 8.1), as a plan of the loop (loop.ts): one GD
// stage of exactly `steps` steps at one noise scale, no stopping rule, returning the last iterate. Its variants
// are stage and problem options: fixed noise (Stage.noise) and the tied student about the origin. The
// 'single' schedule (schedules.ts) is the same stage with a noise-floor stopping rule.
import { InputError } from '../errors.ts';
import type { Trainer } from '../training/capability.ts';
import type { Matrix } from '../types.ts';
import { requireLearningRate, requireNoiseScale, requireSteps } from '../validate.ts';
import { runStages, type LoopResult } from './loop.ts';
import type { LoopOptions, Problem, Stage } from './loop-types.ts';

export interface Algorithm1Options {
  readonly noiseScale: number;
  readonly lr: number;
  readonly steps: number;
  /**
   * The symmetric student 1/2 N(m, I) + 1/2 N(-m, I) about the origin (K = 2): init is m (1 x d) and the
   * data is taken as it is (centre it first); the means are m and -m.
   */
  readonly tied?: boolean;
  /** 'fresh' (default): new noise every step; 'fixed': step 0's draw on every step. */
  readonly noise?: 'fresh' | 'fixed';
}

export interface Algorithm1Plan {
  readonly problem: Problem;
  readonly stages: Stage[];
  readonly init: Matrix;
}

export function algorithm1Plan(data: Matrix, init: Matrix, o: Algorithm1Options): Algorithm1Plan {
  requireNoiseScale(o.noiseScale);
  requireLearningRate(o.lr);
  requireSteps(o.steps);
  const tied = o.tied ?? false;
  if (tied && init.rows !== 1) throw new InputError(`the tied student starts from m (1 x d), got ${init.rows} rows`);
  const stage: Stage = { kind: 'gd', name: 'single', noiseScale: o.noiseScale, lr: o.lr, maxSteps: o.steps, stop: { kind: 'none' }, noise: o.noise ?? 'fresh' };
  // About the origin: no offset, so the means are exactly m and -m (meansOf).
  const problem: Problem = { data, tied };
  return { problem, stages: [stage], init };
}

/** Runs Algorithm 1 through the loop; its one stage never converges (it has no stopping rule). */
export function fitAlgorithm1(
  backend: Trainer,
  data: Matrix,
  init: Matrix,
  o: Algorithm1Options,
  run: Omit<LoopOptions, 'resume'>,
): Promise<LoopResult> {
  const plan = algorithm1Plan(data, init, o);
  return runStages(backend, plan.problem, plan.stages, plan.init, run);
}
