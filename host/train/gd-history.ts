// The GD steps' history as read back (host/engine.ts gdSteps): [loss, gradNorm] per step, and the error a
// non-finite entry becomes.
import { DivergenceError } from '../../src/errors.ts';

/** The first of `steps` history entries with a non-finite loss or gradient norm, or -1. */
export function firstNonFinite(history: Float32Array, steps: number): number {
  for (let s = 0; s < steps; s++) if (!Number.isFinite(history[2 * s]) || !Number.isFinite(history[2 * s + 1])) return s;
  return -1;
}

export function divergence(step: number, lr: number): DivergenceError {
  return new DivergenceError(step, `Training diverged at step ${step} (the loss became NaN or infinite): use a smaller step size, for example --lr ${lr / 10}.`);
}
