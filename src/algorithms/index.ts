// The algorithms of docs/math.md sections 8 and 9 over the one Backend interface.
import type { Backend } from '../backend.ts';
import type { Matrix } from '../types.ts';
import { emPlan, type EmOptions } from './baselines.ts';
import { runStages, type LoopOptions, type LoopResult } from './loop.ts';
import { truthAndConnections } from './observers.ts';
import { DEFAULTS, planSchedule, studentOf, type Plan, type ScheduleName, type ScheduleOptions } from './schedules.ts';

export * from './algorithm1.ts';
export * from './baselines.ts';
export * from './connections.ts';
export * from './matrix-math.ts';
export * from './loop.ts';
export * from './schedules.ts';
export * from './seeding.ts';

export type RunOptions = Omit<LoopOptions, 'logEvery' | 'noiseSeed'> & { readonly logEvery?: number; readonly noiseSeed?: number };

/** The loop's options of a door that knows the truth: truth metrics, and connections measured against it. */
function withTruth(run: RunOptions, truth: Matrix | undefined): RunOptions {
  const { connections, ...rest } = run;
  return { ...rest, observers: [...(run.observers ?? []), ...truthAndConnections(truth, connections)] };
}

/** Runs a schedule of docs/math.md section 8 on a backend; with the truth, the history logs its metrics. */
export async function fitSchedule(
  backend: Backend,
  data: Matrix,
  name: ScheduleName,
  options: ScheduleOptions,
  truth?: Matrix,
  run: RunOptions = {},
): Promise<LoopResult & { plan: Plan }> {
  const plan = planSchedule(name, data, options);
  const result = await runStages(backend, plan.problem, plan.stages, plan.init, {
    ...withTruth(run, truth),
    logEvery: run.logEvery ?? options.logEvery ?? DEFAULTS.logEvery,
    noiseSeed: run.noiseSeed ?? 0,
    ...(plan.student ? { student: plan.student } : {}),
  });
  return { ...result, plan };
}

/** Runs EM or gradient EM (docs/math.md section 9) from `init` (K x d). */
export async function fitEm(
  backend: Backend,
  kind: 'em' | 'gradient-em',
  data: Matrix,
  init: Matrix,
  options: EmOptions = {},
  truth?: Matrix,
  run: RunOptions = {},
): Promise<LoopResult> {
  const { problem, stages } = emPlan(kind, data, options);
  // EM's general student (docs/math.md section 14) starts, as the DDPM one, from c = 1 and equal weights.
  const student = studentOf(options, init.rows, data.cols);
  return runStages(backend, problem, stages, init, { ...withTruth(run, truth), logEvery: run.logEvery ?? options.logEvery ?? 1, noiseSeed: 0, ...(student ? { student } : {}) });
}
