// The samplers' checks (docs/math.md section 11), shared by both backends.
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { quotedList, requireFinite, requireSeed } from '../validate.ts';
import { INTEGRATORS, SAMPLER_METHODS, TIME_GRIDS, type SamplerOptions } from './options.ts';

const PHILOX_WORD = 4294967296;

/** The options alone: method, integrator, grid, horizon, tMin, steps, step size and seed (docs/math.md section 11). */
export function checkSamplerOptions(options: SamplerOptions): void {
  const method = (options as { method?: unknown }).method;
  if (!(SAMPLER_METHODS as readonly unknown[]).includes(method)) {
    throw new InputError(`the sampler method must be ${quotedList(SAMPLER_METHODS)} (got ${String(method)})`);
  }
  const { steps, seed } = options;
  // Step k draws Philox counter step k + 1, a 32-bit counter word (docs/math.md section 7).
  if (!Number.isSafeInteger(steps) || steps < 1 || steps >= PHILOX_WORD - 1) {
    throw new InputError(`the number of sampler steps must be a positive integer below 2^32 - 1 (got ${steps}): pass steps such as 200`);
  }
  requireSeed(seed, 'the sampler seed');
  if (options.method === 'langevin') {
    const eps = options.stepSize;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) {
      throw new InputError(`the Langevin step size must be a finite number > 0 (got ${String(eps)}): pass stepSize such as 0.01`);
    }
    return;
  }
  const { integrator, horizon, tMin, grid } = options;
  const allowed: readonly string[] = INTEGRATORS[options.method];
  if (!allowed.includes(integrator)) {
    throw new InputError(`the ${method} sampler takes the integrator ${quotedList(allowed)} (got ${String(integrator)}): pass one of those`);
  }
  if (!(TIME_GRIDS as readonly string[]).includes(grid)) {
    throw new InputError(`the time grid must be ${quotedList(TIME_GRIDS)} (got ${String(grid)})`);
  }
  if (typeof tMin !== 'number' || !Number.isFinite(tMin) || tMin < 0) {
    throw new InputError(`the final time tMin must be a finite number >= 0 (got ${String(tMin)}): pass tMin such as 0 or 1e-3`);
  }
  if (typeof horizon !== 'number' || !Number.isFinite(horizon) || horizon <= tMin) {
    throw new InputError(
      `the horizon T must be a finite number > tMin = ${tMin} (got ${String(horizon)}): pass a horizon such as 8, where q_T is close to N(0, I)`,
    );
  }
  if (grid === 'geometric' && tMin === 0 && steps < 2) {
    throw new InputError(
      `a geometric grid down to tMin = 0 needs at least 2 steps (its last step goes from 1e-3 T to 0), got ${steps}: pass more steps or tMin > 0`,
    );
  }
  const { stopAfter } = options;
  if (stopAfter !== undefined && (!Number.isSafeInteger(stopAfter) || stopAfter < 1 || stopAfter > steps)) {
    throw new InputError(
      `stopAfter must be an integer with 1 <= stopAfter <= steps = ${steps} (got ${String(stopAfter)}): pass the number of steps to run, or leave it out for the whole run`,
    );
  }
}

/** Centres (K x d, finite), the sample count n and the options, with a Langevin start of shape n x d. */
export function checkSampleRequest(centres: Matrix, n: number, options: SamplerOptions): void {
  if (centres.rows < 1 || centres.cols < 1) {
    throw new InputError(`the sampler's centres are ${centres.rows} x ${centres.cols}: give at least one centre (K >= 1) with d >= 1 coordinates`);
  }
  requireFinite(centres, "the sampler's centres");
  // The sample index is a 32-bit Philox counter word (docs/math.md section 7).
  if (!Number.isSafeInteger(n) || n < 1 || n >= PHILOX_WORD) {
    throw new InputError(`the number of samples n must be an integer with 1 <= n < 2^32 (got ${n}): pass n such as 1000`);
  }
  checkSamplerOptions(options);
  if (options.method === 'langevin' && options.start !== undefined) {
    const { start } = options;
    if (start.rows !== n || start.cols !== centres.cols) {
      throw new InputError(
        `the Langevin start is ${start.rows} x ${start.cols} but n x d = ${n} x ${centres.cols}: give one starting row per sample, d columns each, or leave start out for N(0, I)`,
      );
    }
    requireFinite(start, 'the Langevin start');
  }
}
