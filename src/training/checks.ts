// The training options' checks (docs/math.md section 6), shared by both backends.
import { InputError } from '../errors.ts';
import { checkStepSize } from '../validate.ts';
import type { GdOptions } from './capability.ts';

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
