// The forward Ornstein-Uhlenbeck process coefficients (docs/math.md section 2).
import { InputError } from '../errors.ts';

export interface ForwardCoefficients {
  /** a_t = exp(-t), the signal scale. */
  readonly a: number;
  /** sigma_t = sqrt(1 - exp(-2t)), the noise scale. */
  readonly sigma: number;
}

/** a_t and sigma_t for noise scale t > 0 (docs/math.md section 2). */
export function forwardCoefficients(t: number): ForwardCoefficients {
  // t = 0 makes sigma_t = 0 and the residual divides by it (docs/math.md section 2).
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    throw new InputError(
      `noise scale t must be a finite number > 0 (got ${String(t)}): pass --t with a positive value such as 0.5`,
    );
  }
  // expm1 keeps 1 - exp(-2t) accurate for small t, where 1 - exp(-2t) would cancel (docs/math.md section 2).
  return { a: Math.exp(-t), sigma: Math.sqrt(-Math.expm1(-2 * t)) };
}
