// Input checks that every Backend applies in the same words, so that the GPU
// engine and the CPU reference refuse the same problems.
import { InputError } from './errors.ts';
import type { GdOptions, Matrix } from './types.ts';

/** Shapes of data and centres; returns K (2 when tied). */
export function checkProblem(data: Matrix, centres: Matrix, tied: boolean): number {
  if (data.rows < 1 || data.cols < 1) {
    throw new InputError(`the data is ${data.rows} x ${data.cols}: at least one sample with at least one coordinate is needed`);
  }
  if (centres.cols !== data.cols) {
    throw new InputError(`centres have ${centres.cols} columns but the data has ${data.cols}: both must have d columns`);
  }
  if (tied && centres.rows !== 1) {
    throw new InputError(`tied mode takes one centre (1 x ${data.cols}, the second is its negative), got ${centres.rows} x ${centres.cols}`);
  }
  if (centres.rows < 1) throw new InputError('at least one centre is needed (K >= 1)');
  const k = tied ? 2 : centres.rows;
  if (data.rows < k) {
    throw new InputError(`N = ${data.rows} samples is fewer than K = ${k} centres: give more data or fewer centres`);
  }
  return k;
}

/** H, eta, logEvery and the projection radius of Algorithm 1 (docs/math.md section 6); returns logEvery. */
export function checkGdOptions(options: GdOptions): number {
  const { steps, lr } = options;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new InputError(`the number of GD steps must be a positive integer (got ${steps}): pass --steps such as 200`);
  }
  checkStepSize(lr);
  const logEvery = options.logEvery ?? Math.max(1, Math.floor(steps / 20));
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new InputError(`logEvery must be a positive integer (got ${logEvery})`);
  const radius = options.projectRadius;
  if (radius !== undefined && (!Number.isFinite(radius) || radius < 0)) {
    throw new InputError(`the projection radius must be a finite number >= 0 (got ${radius})`);
  }
  return logEvery;
}

/** The step size eta of GD and gradient EM. */
export function checkStepSize(lr: number): void {
  if (!Number.isFinite(lr) || lr <= 0) {
    throw new InputError(`the step size must be a finite number > 0 (got ${lr}): pass --lr such as 0.1`);
  }
}
