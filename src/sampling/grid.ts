// The time grid of the samplers and the per-step numbers a kernel needs (docs/math.md section 11), in
// float64 on the host: the CPU sampler and the GPU engine read the same table.
import { checkSamplerOptions } from './checks.ts';
import type { SamplerOptions, TimeGrid } from './options.ts';

/** The steps a run takes: the whole grid, or its first stopAfter steps (DiffusionSampler.stopAfter). */
export function stepsToRun(options: SamplerOptions): SamplerStep[] {
  const all = samplerSteps(options);
  return options.method !== 'langevin' && options.stopAfter !== undefined ? all.slice(0, options.stopAfter) : all;
}

/**
 * One step k of a sampler, y at forward time t_k -> t_{k+1}. Every update is written as an increment so
 * that float32 keeps small steps (1 + h would round h away):
 * - SDE steps (exponential, euler-maruyama, langevin): y <- y + (cy y + cs s_{t_k}(y) + cxi xi_k);
 * - heun: p = y + (cy y + cs s_{t_k}(y)), then y <- y + (h / 2) ((y + s_{t_k}(y)) + (p + s_{t_{k+1}}(p))).
 * xi_k is Philox counter step k + 1 on STREAMS.sampler; the start is counter step 0.
 */
export interface SamplerStep {
  /** t_k, the forward time where the step starts (0 for Langevin). */
  readonly t: number;
  /** a_{t_k} = exp(-t_k): the score at t_k is that of the centres a_{t_k} mu_i. */
  readonly a: number;
  /** t_{k+1}. */
  readonly tNext: number;
  /** a_{t_{k+1}}, the scale of Heun's corrector score. */
  readonly aNext: number;
  /** h = t_k - t_{k+1} (Langevin: the step size eps). */
  readonly h: number;
  /** Coefficient of y in the increment. */
  readonly cy: number;
  /** Coefficient of the score in the increment. */
  readonly cs: number;
  /** Coefficient of the noise xi_k (0 for heun). */
  readonly cxi: number;
}

/** The fields of packSteps, in order: a GPU table row is STEP_STRIDE numbers. */
export const STEP_FIELDS = ['t', 'a', 'tNext', 'aNext', 'h', 'cy', 'cs', 'cxi'] as const;
export const STEP_STRIDE = STEP_FIELDS.length;

/** The smallest positive time of a geometric grid that ends at 0, as a fraction of T. */
export const GEOMETRIC_FLOOR = 1e-3;

/**
 * t_0 = T > t_1 > ... > t_S = tMin (docs/math.md section 11). uniform: equal steps. geometric: equal ratios;
 * down to tMin = 0 the ratios run to 1e-3 T at k = S - 1 and the last step goes to 0 (needs S >= 2).
 */
export function timeGrid(horizon: number, tMin: number, steps: number, grid: TimeGrid): Float64Array {
  checkSamplerOptions({ method: 'reverse', integrator: 'exponential', horizon, tMin, steps, grid, seed: 0 });
  const S = steps;
  const t = new Float64Array(S + 1);
  for (let k = 0; k <= S; k++) {
    if (grid === 'uniform') t[k] = horizon - (k * (horizon - tMin)) / S;
    else if (tMin > 0) t[k] = horizon * Math.pow(tMin / horizon, k / S);
    else t[k] = k < S ? horizon * Math.pow(GEOMETRIC_FLOOR, k / (S - 1)) : 0;
  }
  // The end points exactly, whatever the rounding of the formulas.
  t[0] = horizon;
  t[S] = tMin;
  return t;
}

/** The coefficients of every step of `options` (docs/math.md section 11); validates the options. */
export function samplerSteps(options: SamplerOptions): SamplerStep[] {
  checkSamplerOptions(options);
  if (options.method === 'langevin') {
    const eps = options.stepSize;
    const step: SamplerStep = { t: 0, a: 1, tNext: 0, aNext: 1, h: eps, cy: 0, cs: eps, cxi: Math.sqrt(2 * eps) };
    return Array.from({ length: options.steps }, () => step);
  }
  const times = timeGrid(options.horizon, options.tMin, options.steps, options.grid);
  const out: SamplerStep[] = [];
  for (let k = 0; k < options.steps; k++) {
    const t = times[k]!;
    const tNext = times[k + 1]!;
    const h = t - tNext;
    const base = { t, a: Math.exp(-t), tNext, aNext: Math.exp(-tNext), h };
    if (options.integrator === 'exponential') {
      // e^h y + 2 (e^h - 1) s + sqrt(e^{2h} - 1) xi, with expm1 so that small h keeps its digits.
      const em1 = Math.expm1(h);
      out.push({ ...base, cy: em1, cs: 2 * em1, cxi: Math.sqrt(Math.expm1(2 * h)) });
    } else if (options.integrator === 'euler-maruyama') {
      out.push({ ...base, cy: h, cs: 2 * h, cxi: Math.sqrt(2 * h) });
    } else {
      // Heun's predictor p = y + h (y + s): the reverse-time drift of the probability-flow ODE.
      out.push({ ...base, cy: h, cs: h, cxi: 0 });
    }
  }
  return out;
}

/** The steps as one row-major table, STEP_STRIDE numbers per step in the order of STEP_FIELDS. */
export function packSteps(steps: readonly SamplerStep[]): Float64Array {
  const out = new Float64Array(steps.length * STEP_STRIDE);
  steps.forEach((s, k) => STEP_FIELDS.forEach((f, j) => (out[k * STEP_STRIDE + j] = s[f])));
  return out;
}
