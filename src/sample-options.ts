// What DdpmGmm.sample and `ddpm-gmm sample` accept, and the defaults they fill in (docs/math.md section 11;
// the measurements behind the defaults are in docs/experiments.md, 'Sampling').
import { InputError } from './errors.ts';
import { matrix, type Matrix } from './matrix.ts';
import type { PiecewiseModel } from './piecewise/model.ts';
import { checkPiecewiseModel } from './piecewise/validate.ts';
import type { Integrator, SampleProgress, SamplerMethod, SamplerOptions, TimeGrid } from './sampling/options.ts';
import { checkSampleRequest } from './sampling/checks.ts';
import { requireSeed } from './validate.ts';

/** 'direct' draws from the mixture itself; the others run a sampler on its score (docs/math.md section 11). */
export type SampleMethod = 'direct' | SamplerMethod;
export const SAMPLE_METHODS: readonly SampleMethod[] = ['direct', 'reverse', 'ode', 'langevin'];

export interface SampleOptions {
  /** Default 'reverse'. */
  readonly method?: SampleMethod;
  /** reverse: 'exponential' (default) or 'euler-maruyama'; ode: 'heun' (default). */
  readonly integrator?: Integrator;
  /** reverse, ode: the horizon T (default 8 + ln max(1, max_i ||mu_i||); a piecewise model: its ladder's top level). */
  readonly horizon?: number;
  /** reverse, ode: where the run stops (default 0; below a piecewise ladder's smallest level the score is that level's). */
  readonly tMin?: number;
  /** reverse, ode: default max(100, ceil(2 sqrt(n))); langevin: default 1000. */
  readonly steps?: number;
  /** reverse, ode: default 'geometric'. */
  readonly grid?: TimeGrid;
  /** langevin: eps (default 0.01). */
  readonly stepSize?: number;
  /** langevin: n x d starting points (default N(0, I)). */
  readonly start?: Matrix;
  /** Philox seed (default 0). */
  readonly seed?: number;
  /** Steps done out of the run's total, about 20 times a run ('direct': once, 1 of 1). */
  readonly onProgress?: (p: SampleProgress) => void;
}

/** A fully specified request: a backend sampler's options, or the direct draw. */
export type SamplePlan = SamplerOptions | { readonly method: 'direct'; readonly seed: number };

/**
 * The defaults, chosen by measurement (docs/experiments.md, 'Sampling'). The exponential integrator on a
 * geometric grid to tMin = 0 inflates each component's variance by about 3.55 / S (S steps; exact for K = 1,
 * docs/math.md section 11), which raises E[D^2] against direct samples of the same size n by a fraction that
 * grows like n / S^2: S = 2 sqrt(n) keeps it at about a tenth of the direct-vs-direct level at every n.
 */
export const SAMPLE_DEFAULTS = {
  method: 'reverse',
  integrator: { reverse: 'exponential', ode: 'heun' },
  grid: 'geometric',
  tMin: 0,
  /** T = horizonBase + ln max(1, max_i ||mu_i||): the start's error e^{-T} max ||mu_i|| is at most e^{-8}. */
  horizonBase: 8,
  minSteps: 100,
  stepsPerRootN: 2,
  langevinStepSize: 0.01,
  langevinSteps: 1000,
  seed: 0,
} as const;

/** T = 8 + ln max(1, max_i ||mu_i||) for K x d centres. */
export function defaultHorizon(means: Matrix): number {
  const d = means.cols;
  let largest = 0;
  for (let i = 0; i < means.rows; i++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += means.data[i * d + c]! ** 2;
    largest = Math.max(largest, Math.sqrt(sq));
  }
  return SAMPLE_DEFAULTS.horizonBase + Math.log(Math.max(1, largest));
}

/** S = max(100, ceil(2 sqrt(n))) diffusion steps for n samples. */
export function defaultSteps(n: number): number {
  return Math.max(SAMPLE_DEFAULTS.minSteps, Math.ceil(SAMPLE_DEFAULTS.stepsPerRootN * Math.sqrt(n)));
}

/** Options a method has no use for, so that none is silently ignored. */
const NOT_FOR: Record<SampleMethod, readonly (keyof SampleOptions)[]> = {
  direct: ['integrator', 'horizon', 'tMin', 'steps', 'grid', 'stepSize', 'start'],
  reverse: ['stepSize', 'start'],
  ode: ['stepSize', 'start'],
  langevin: ['integrator', 'horizon', 'tMin', 'grid'],
};

/**
 * Fills in the defaults and checks the request up front (docs/math.md section 11's checks), so that a bad
 * option fails before a backend is opened. `score` is the K x d centres whose score is sampled, or a
 * piecewise model (docs/math.md section 13): its horizon defaults to the ladder's top level T, and tMin
 * keeps the default 0, where the score below the smallest level is that level's (the setting measured in
 * docs/experiments.md, 'The piecewise score model').
 */
export function resolveSampleOptions(score: Matrix | PiecewiseModel, n: number, options: SampleOptions): SamplePlan {
  const method = options.method ?? SAMPLE_DEFAULTS.method;
  if (!SAMPLE_METHODS.includes(method)) {
    throw new InputError(`the sample method must be one of ${SAMPLE_METHODS.map((m) => `'${m}'`).join(', ')} (got ${String(method)})`);
  }
  const piecewise = (score as { kind?: unknown }).kind === 'piecewise' ? (score as PiecewiseModel) : undefined;
  if (piecewise && method === 'direct') {
    throw new InputError("a piecewise model is a score, not a mixture, so it has no direct draw: use method 'reverse' (the default), 'ode' or 'langevin'");
  }
  if (piecewise) checkPiecewiseModel(piecewise);
  // The sampler checks n, the options and a Langevin start against a stand-in 1 x d, as src/piecewise/gpu-sampler.ts does.
  const means = piecewise ? matrix(1, piecewise.d) : (score as Matrix);
  for (const key of NOT_FOR[method]) {
    if (options[key] !== undefined) throw new InputError(`the ${method} sampler has no ${key} option: drop it, or choose a method that uses it`);
  }
  if (!Number.isSafeInteger(n) || n < 1 || n >= 2 ** 32) {
    throw new InputError(`the number of samples n must be an integer with 1 <= n < 2^32 (got ${n}): pass n such as 1000`);
  }
  const seed = options.seed ?? SAMPLE_DEFAULTS.seed;
  requireSeed(seed, 'the sample seed');
  if (method === 'direct') return { method, seed };
  let plan: SamplerOptions;
  if (method === 'langevin') {
    plan = {
      method,
      stepSize: options.stepSize ?? SAMPLE_DEFAULTS.langevinStepSize,
      steps: options.steps ?? SAMPLE_DEFAULTS.langevinSteps,
      seed,
      ...(options.start !== undefined ? { start: options.start } : {}),
    };
  } else {
    plan = {
      method,
      integrator: options.integrator ?? SAMPLE_DEFAULTS.integrator[method],
      horizon: options.horizon ?? (piecewise ? piecewise.levels[0]!.t : defaultHorizon(means)),
      tMin: options.tMin ?? SAMPLE_DEFAULTS.tMin,
      steps: options.steps ?? defaultSteps(n),
      grid: options.grid ?? SAMPLE_DEFAULTS.grid,
      seed,
    };
  }
  checkSampleRequest(means, n, plan);
  return plan;
}
