// The training options' checks (docs/math.md section 6), shared by both backends.
import { InputError } from '../errors.ts';
import { checkStepSize } from '../validate.ts';
import type { GdOptions } from './capability.ts';
import { isPaperStudent, type StudentParams } from './student.ts';

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

/** The GPU's EM kernels run the paper's student only: a general one (docs/math.md section 14) is refused by name. */
export function refuseGeneralStudentOnGpu(student: StudentParams | undefined, what: string): void {
  if (!isPaperStudent(student)) {
    throw new InputError(
      `${what} with covariance '${student!.covariance}' and weights '${student!.weights}' runs on the CPU backend only (the GPU's EM kernels implement the identity/equal student): pass --backend cpu (backend: 'cpu'), or --covariance identity --weights equal`,
    );
  }
}
