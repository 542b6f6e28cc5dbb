// What DdpmGmm.sample and `ddpm-gmm sample` accept, and the defaults they fill in (docs/math.md section 11;
// the measurements behind the defaults are in docs/experiments.md, 'Sampling').
import { InputError } from './errors.ts';
import { matrix, type Matrix } from './matrix.ts';
import type { PiecewiseModel } from './piecewise/model.ts';
import { checkPiecewiseModel } from './piecewise/checks.ts';
import { checkOption, integer, matrixOption, number, oneOf, positive, seed as seedOption, type OptionDecl } from './options/declare.ts';
import {
  INTEGRATORS,
  SAMPLER_METHODS,
  TIME_GRIDS,
  type Integrator,
  type SampleProgress,
  type SamplerOptions,
  type TimeGrid,
} from './sampling/options.ts';
import { checkSampleRequest } from './sampling/checks.ts';
import { checkStudentScore, isStudentScore, type StudentScore } from './sampling/student-score.ts';
import { quotedList } from './validate.ts';

/** 'direct' draws from the mixture itself; the others run a sampler on its score (docs/math.md section 11). */
export const SAMPLE_METHODS = ['direct', ...SAMPLER_METHODS] as const;
export type SampleMethod = (typeof SAMPLE_METHODS)[number];

export interface SampleOptions {
  /** Default 'reverse'. */
  readonly method?: SampleMethod;
  /** reverse: 'exponential' (default) or 'euler-maruyama'; ode: 'heun' (default). */
  readonly integrator?: Integrator;
  /** reverse, ode: the horizon T (default 8 + ln max(1, max_i ||mu_i||, max_ij sqrt(c_ij)); a piecewise model: its ladder's top level). */
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

/** ||v|| without overflow: scaled by its largest entry. */
function scaledNorm(v: Float64Array): number {
  let scale = 0;
  for (const x of v) scale = Math.max(scale, Math.abs(x));
  let s = 0;
  for (const x of v) s += (x / scale) ** 2;
  return scale * Math.sqrt(s);
}

/**
 * T = 8 + ln max(1, max_i ||mu_i||) for K x d centres; with the general student's variances c also max sqrt(c_ij),
 * as the start's variance error e^{-2T} |c - 1| is then at most e^{-16} too (docs/math.md section 14).
 */
export function defaultHorizon(means: Matrix, variances?: Matrix): number {
  const d = means.cols;
  let largest = 0;
  if (variances) for (const c of variances.data) largest = Math.max(largest, Math.sqrt(c));
  for (let i = 0; i < means.rows; i++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += means.data[i * d + c]! ** 2;
    largest = Math.max(largest, Number.isFinite(sq) ? Math.sqrt(sq) : scaledNorm(means.data.subarray(i * d, (i + 1) * d)));
  }
  return SAMPLE_DEFAULTS.horizonBase + Math.log(Math.max(1, largest));
}

/** S = max(100, ceil(2 sqrt(n))) diffusion steps for n samples. */
export function defaultSteps(n: number): number {
  return Math.max(SAMPLE_DEFAULTS.minSteps, Math.ceil(SAMPLE_DEFAULTS.stepsPerRootN * Math.sqrt(n)));
}

/** The sampling options, declared once: the CLI's flags, help and checks derive from these. */
export const SAMPLE_OPTIONS = {
  method: oneOf(SAMPLE_METHODS, 'the sample method', 'how to draw', { default: { rule: `${SAMPLE_DEFAULTS.method}; ode for a general student (learned variances or weights)` }, flag: { name: 'method' } }),
  integrator: oneOf([...INTEGRATORS.reverse, ...INTEGRATORS.ode], 'the integrator', 'the diffusion step', { default: { rule: `reverse: ${INTEGRATORS.reverse[0]}; ode: ${INTEGRATORS.ode[0]}` }, flag: { name: 'integrator' } }),
  horizon: positive('the horizon T', 'where the run starts from N(0, I)', { default: { rule: `${SAMPLE_DEFAULTS.horizonBase} + ln max(1, max_i |mu_i|, max_ij sqrt(c_ij)); piecewise: the ladder's top level` }, flag: { name: 'horizon', arg: 'T' } }),
  tMin: number('the final time tMin', 'where the run stops', { min: 0, strict: false }, { default: { rule: `${SAMPLE_DEFAULTS.tMin}; piecewise: below the ladder's smallest level the score is that level's` }, flag: { name: 't-min', arg: 'T' } }),
  steps: integer('the number of steps', 'the number of steps', 1, { default: { rule: `max(${SAMPLE_DEFAULTS.minSteps}, ceil(${SAMPLE_DEFAULTS.stepsPerRootN} sqrt(N))) for reverse and ode, ${SAMPLE_DEFAULTS.langevinSteps} for langevin` }, flag: { name: 'steps', arg: 'S' } }),
  grid: oneOf(TIME_GRIDS, 'the time grid', `${TIME_GRIDS[0]} (finer near t = 0) or ${TIME_GRIDS[1]}`, { default: SAMPLE_DEFAULTS.grid, flag: { name: 'grid' } }),
  stepSize: positive('the Langevin step size', 'eps in y <- y + eps s_0(y) + sqrt(2 eps) xi', { default: SAMPLE_DEFAULTS.langevinStepSize, flag: { name: 'step-size', arg: 'EPS' } }),
  start: matrixOption('the Langevin start', 'N x d starting points', { default: { rule: 'N(0, I) draws' }, flag: { name: 'start', arg: 'FILE' } }),
  seed: seedOption('the sample seed', 'Philox seed of the start and the noise', { default: SAMPLE_DEFAULTS.seed, flag: { name: 'seed', arg: 'S' } }),
} as const satisfies Record<Exclude<keyof SampleOptions, 'onProgress'>, OptionDecl>;
export type SampleOptionKey = keyof typeof SAMPLE_OPTIONS;

/** What a plan needs beyond the options: the sample count and the horizon's default. */
interface PlanContext {
  readonly n: number;
  readonly seed: number;
  readonly defaultHorizon: () => number;
}

/** A sampling method's declaration: its doc, the options it reads (besides seed) and its plan. */
export interface SamplerDecl {
  readonly name: SampleMethod;
  readonly doc: string;
  readonly options: readonly SampleOptionKey[];
  readonly plan: (o: SampleOptions, c: PlanContext) => SamplePlan;
}

const DIFFUSION_OPTIONS: readonly SampleOptionKey[] = ['integrator', 'horizon', 'tMin', 'steps', 'grid'];
function diffusionPlan(method: 'reverse' | 'ode') {
  return (o: SampleOptions, c: PlanContext): SamplerOptions => ({
    method,
    integrator: o.integrator ?? SAMPLE_DEFAULTS.integrator[method],
    horizon: o.horizon ?? c.defaultHorizon(),
    tMin: o.tMin ?? SAMPLE_DEFAULTS.tMin,
    steps: o.steps ?? defaultSteps(c.n),
    grid: o.grid ?? SAMPLE_DEFAULTS.grid,
    seed: c.seed,
  });
}

export const SAMPLER_DECLS: { readonly [name in SampleMethod]: SamplerDecl } = {
  direct: {
    name: 'direct',
    doc: 'a component (uniform, or by the learned weights), then N(mu_i, I) (or diag(c_i)), on the host (the student only: a piecewise model is a score, with no mixture to draw from)',
    options: [],
    plan: (_o, c) => ({ method: 'direct', seed: c.seed }),
  },
  reverse: { name: 'reverse', doc: 'the reverse SDE from N(0, I) at the horizon T down to tMin', options: DIFFUSION_OPTIONS, plan: diffusionPlan('reverse') },
  ode: { name: 'ode', doc: 'the probability-flow ODE (Heun)', options: DIFFUSION_OPTIONS, plan: diffusionPlan('ode') },
  langevin: {
    name: 'langevin',
    doc: 'Langevin dynamics on the clean score (mode weights follow the start)',
    options: ['steps', 'stepSize', 'start'],
    plan: (o, c) => ({
      method: 'langevin',
      stepSize: o.stepSize ?? SAMPLE_DEFAULTS.langevinStepSize,
      steps: o.steps ?? SAMPLE_DEFAULTS.langevinSteps,
      seed: c.seed,
      ...(o.start !== undefined ? { start: o.start } : {}),
    }),
  },
};

/** The integrators a method takes, its default first (none for Langevin and the direct draw). */
export function integratorsOf(method: SampleMethod): readonly Integrator[] {
  return method === 'reverse' || method === 'ode' ? INTEGRATORS[method] : [];
}

/**
 * The default method for a score: reverse diffusion, or the probability-flow ODE for a general student, whose
 * unequal weights the reverse sampler's exponential integrator shifts at the default steps and the ODE does not
 * (docs/experiments.md, 'Sampling the general student').
 */
export function defaultSampleMethod(score: Matrix | PiecewiseModel | StudentScore): SampleMethod {
  return isStudentScore(score) ? 'ode' : SAMPLE_DEFAULTS.method;
}

/**
 * Fills in the defaults and checks the request up front (docs/math.md section 11's checks), so that a bad
 * option fails before a backend is opened. `score` is the K x d centres whose score is sampled, or a
 * piecewise model (docs/math.md section 13): its horizon defaults to the ladder's top level T, and tMin
 * keeps the default 0, where the score below the smallest level is that level's (the setting measured in
 * docs/experiments.md, 'The piecewise score model').
 */
export function resolveSampleOptions(score: Matrix | PiecewiseModel | StudentScore, n: number, options: SampleOptions): SamplePlan {
  const method = options.method ?? defaultSampleMethod(score);
  if (!(SAMPLE_METHODS as readonly string[]).includes(method)) {
    throw new InputError(`the sample method must be one of ${quotedList(SAMPLE_METHODS)} (got ${String(method)})`);
  }
  const piecewise = (score as { kind?: unknown }).kind === 'piecewise' ? (score as PiecewiseModel) : undefined;
  if (piecewise && method === 'direct') {
    throw new InputError("a piecewise model is a score, not a mixture, so it has no direct draw: use method 'reverse' (the default), 'ode' or 'langevin'");
  }
  if (piecewise) checkPiecewiseModel(piecewise);
  const student = isStudentScore(score) ? score : undefined;
  if (student) checkStudentScore(student, "the sampler's score");
  // The sampler checks n, the options and a Langevin start against a stand-in 1 x d, as src/piecewise/gpu-sampler.ts does.
  const means = piecewise ? matrix(1, piecewise.d) : student ? student.means : (score as Matrix);
  const decl = SAMPLER_DECLS[method];
  for (const key of Object.keys(SAMPLE_OPTIONS) as SampleOptionKey[]) {
    if (key === 'method' || key === 'seed' || decl.options.includes(key)) continue;
    if (options[key] !== undefined) throw new InputError(`the ${method} sampler has no ${key} option: drop it, or choose a method that uses it`);
  }
  if (!Number.isSafeInteger(n) || n < 1 || n >= 2 ** 32) {
    throw new InputError(`the number of samples n must be an integer with 1 <= n < 2^32 (got ${n}): pass n such as 1000`);
  }
  const seed = checkOption(SAMPLE_OPTIONS.seed, options.seed ?? SAMPLE_DEFAULTS.seed);
  const plan = decl.plan(options, { n, seed, defaultHorizon: () => (piecewise ? piecewise.levels[0]!.t : defaultHorizon(means, student?.variances)) });
  if (plan.method === 'direct') return plan;
  checkSampleRequest(means, n, plan);
  return plan;
}
