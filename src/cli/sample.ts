// ddpm-gmm sample: n samples from a fitted model (a file that `fit --out` wrote, of either kind: loadModel) through
// DdpmGmm.sample or PiecewiseScoreModel.sample: reverse
// diffusion, the probability-flow ODE or Langevin dynamics with the learned score, or a direct draw
// (docs/math.md section 11). Every flag is checked before the backend opens, and the samples are written
// only when the run has finished (atomically), so a bad flag or a divergent run leaves no file behind.
import { resolve } from 'node:path';
import { DivergenceError, InputError } from '../errors.ts';
import { checkWritableLocation, encodeMatrix, matrixFormatOf, writeFilesAtomic } from '../io/files.ts';
import { resolveSampleOptions, SAMPLE_METHODS, type SampleMethod, type SampleOptions, type SamplePlan } from '../sample-options.ts';
import type { Integrator, TimeGrid } from '../sampling/options.ts';
import type { Matrix } from '../types.ts';
import { requireSeed } from '../validate.ts';
import { backendFlag, boolFlag, numberFlag, parseFlags, requireString, stringFlag, type FlagSpec, type FlagValues } from './args.ts';
import { readFiniteMatrix } from './inputs.ts';
import { backendJson, backendText, prepareBackend, stderrLog } from './open-backend.ts';
import { fmt, printJson, printLines } from './output.ts';
import { readModelWith } from './predict.ts';
import type { DdpmGmm } from '../estimator.ts';
import { loadModel, PiecewiseScoreModel } from '../piecewise-estimator.ts';
import { Progress } from './progress.ts';

export const SAMPLE_USAGE = `Usage: ddpm-gmm sample --model MODEL.json --n N --out S.npy|S.csv
                      [--method reverse|ode|langevin|direct] [--integrator exponential|euler-maruyama|heun]
                      [--horizon T] [--t-min T] [--steps S] [--grid geometric|uniform]
                      [--step-size EPS] [--start Y0.npy] [--seed S] [--backend auto|gpu|cpu] [--json]

Draws N samples (N x d) from a model written by 'ddpm-gmm fit --out', by its score (docs/math.md section 11):
the student's mixture (1/K) sum_i N(mu_i, I), or a piecewise model (fit --model piecewise, section 13).
  --method      reverse (default): the reverse SDE from N(0, I) at the horizon T down to --t-min;
                ode: the probability-flow ODE (Heun); langevin: Langevin dynamics on the clean score
                (mode weights follow the start); direct: a uniform component, then N(mu_i, I), on the host
                (the student only: a piecewise model is a score, with no mixture to draw from)
  --integrator  reverse: exponential (default) or euler-maruyama; ode: heun
  --horizon T   default 8 + ln max(1, max_i |mu_i|); piecewise: the ladder's top level
  --t-min T     default 0; piecewise: below the ladder's smallest level the score is that level's
  --steps S     reverse, ode: default max(100, ceil(2 sqrt(N))); langevin: default 1000
  --grid        geometric (default: finer near t = 0) or uniform
  --step-size   langevin: eps (default 0.01)              --start FILE  langevin: N x d starting points
  --seed S      Philox seed of the start and the noise (default 0)
  --backend     auto (default), gpu or cpu: where the sampler runs (not used by --method direct)
  --out FILE    the samples, .npy (float64) or .csv, written only when the run has finished
  --json        print {n, d, model, nComponents (student), method, settings, out, backend, ..., seconds}
Progress goes to stderr. A run whose samples become NaN or infinite stops with exit code 4, naming
the step; take more --steps (or a smaller --step-size).`;

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  n: { type: 'string' },
  method: { type: 'string' },
  integrator: { type: 'string' },
  horizon: { type: 'string' },
  't-min': { type: 'string' },
  steps: { type: 'string' },
  grid: { type: 'string' },
  'step-size': { type: 'string' },
  start: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
};

/** The flags of each method: any other sampler flag would be ignored, so it is refused instead. */
const SAMPLER_FLAGS = ['integrator', 'horizon', 't-min', 'steps', 'grid', 'step-size', 'start', 'backend'] as const;
const USES: Record<SampleMethod, readonly string[]> = {
  direct: [],
  reverse: ['integrator', 'horizon', 't-min', 'steps', 'grid', 'backend'],
  ode: ['integrator', 'horizon', 't-min', 'steps', 'grid', 'backend'],
  langevin: ['steps', 'step-size', 'start', 'backend'],
};

/** The sampler options the flags give, each checked with a message that names its flag. */
function samplerFlags(v: FlagValues, method: SampleMethod): SampleOptions {
  for (const flag of SAMPLER_FLAGS) {
    if (v[flag] !== undefined && !USES[method].includes(flag)) {
      const why = method === 'direct' ? 'draws on the host from the mixture itself' : `does not use it (its flags: ${USES[method].map((f) => `--${f}`).join(', ')})`;
      throw new InputError(`--${flag} is not a flag of --method ${method}, which ${why}: drop --${flag}`);
    }
  }
  const seed = numberFlag(v, 'seed', 0);
  requireSeed(seed, 'the seed (--seed)');
  const steps = numberFlag(v, 'steps');
  if (steps !== undefined && (!Number.isSafeInteger(steps) || steps < 1)) {
    throw new InputError(`the number of steps (--steps) must be a positive whole number, got ${steps}`);
  }
  const tMin = numberFlag(v, 't-min');
  if (tMin !== undefined && (!Number.isFinite(tMin) || tMin < 0)) throw new InputError(`--t-min must be a finite number >= 0, got ${tMin}`);
  const horizon = numberFlag(v, 'horizon');
  if (horizon !== undefined && (!Number.isFinite(horizon) || horizon <= (tMin ?? 0))) {
    throw new InputError(`the horizon (--horizon) must be a finite number greater than --t-min = ${tMin ?? 0}, got ${horizon}`);
  }
  const stepSize = numberFlag(v, 'step-size');
  if (stepSize !== undefined && (!Number.isFinite(stepSize) || stepSize <= 0)) {
    throw new InputError(`the Langevin step size (--step-size) must be a finite number > 0, got ${stepSize}`);
  }
  const grid = stringFlag(v, 'grid');
  if (grid !== undefined && grid !== 'geometric' && grid !== 'uniform') throw new InputError(`--grid must be 'geometric' or 'uniform', got '${grid}'`);
  const integrator = stringFlag(v, 'integrator');
  if (integrator !== undefined) {
    const allowed = method === 'reverse' ? ['exponential', 'euler-maruyama'] : ['heun'];
    if (!allowed.includes(integrator)) throw new InputError(`--integrator for --method ${method} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got '${integrator}'`);
  }
  if ((method === 'reverse' || method === 'ode') && (grid ?? 'geometric') === 'geometric' && (tMin ?? 0) === 0 && steps === 1) {
    throw new InputError('a geometric grid down to --t-min 0 needs --steps 2 or more (its last step goes from 1e-3 T to 0): pass more --steps, or --t-min > 0');
  }
  return {
    method,
    seed,
    ...(steps !== undefined ? { steps } : {}),
    ...(tMin !== undefined ? { tMin } : {}),
    ...(horizon !== undefined ? { horizon } : {}),
    ...(stepSize !== undefined ? { stepSize } : {}),
    ...(grid !== undefined ? { grid: grid as TimeGrid } : {}),
    ...(integrator !== undefined ? { integrator: integrator as Integrator } : {}),
  };
}

/** A sampler's DivergenceError in the CLI's flags: the step, and the flag that fixes it. */
function divergenceAdvice(e: DivergenceError, plan: SamplePlan): DivergenceError {
  const what = `sampling diverged at step ${e.step} (0-based): a sample became NaN or infinite`;
  if (plan.method === 'langevin') {
    return new DivergenceError(e.step, `${what} with --step-size ${plan.stepSize}; use a smaller --step-size, e.g. ${Number((plan.stepSize / 10).toPrecision(6))}`);
  }
  if (plan.method === 'direct') return e;
  const grid = plan.grid === 'uniform' ? ', or --grid geometric' : '';
  return new DivergenceError(e.step, `${what} with --steps ${plan.steps} on the ${plan.grid} grid; take more --steps, e.g. ${4 * plan.steps}${grid}`);
}

/** The settings a run used, for the output (the start as its file name). */
function settingsOf(plan: SamplePlan, startPath: string | undefined): Record<string, unknown> {
  if (plan.method !== 'langevin') return { ...plan };
  const { start: _start, ...rest } = plan;
  return { ...rest, start: startPath ?? 'N(0, I)' };
}

export async function sampleCommand(argv: string[]): Promise<void> {
  const v = parseFlags('sample', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([SAMPLE_USAGE]);
  const json = boolFlag(v, 'json');
  const log = stderrLog(json);
  const modelPath = requireString(v, 'model', 'sample');
  const outPath = requireString(v, 'out', 'sample');
  const n = numberFlag(v, 'n');
  if (n === undefined) throw new InputError("'sample' needs --n, the number of samples; see 'ddpm-gmm sample --help'");
  if (!Number.isSafeInteger(n) || n < 1 || n >= 2 ** 32) throw new InputError(`the number of samples (--n) must be a whole number with 1 <= n < 2^32, got ${n}`);
  const method = (stringFlag(v, 'method') ?? 'reverse') as SampleMethod;
  if (!SAMPLE_METHODS.includes(method)) throw new InputError(`--method must be one of ${SAMPLE_METHODS.join(', ')}, got '${method}'`);
  const options = samplerFlags(v, method);
  const backendChoice = backendFlag(v);
  const startPath = stringFlag(v, 'start');
  // The destination before any work, so that a bad path fails fast.
  matrixFormatOf(outPath, '--out');
  checkWritableLocation(outPath, '--out');
  for (const [flag, input] of [['--model', modelPath], ['--start', startPath]] as const) {
    if (input !== undefined && resolve(outPath) === resolve(input)) throw new InputError(`--out '${outPath}' is the ${flag} file; give another name`);
  }

  const backend = method === 'direct' ? 'cpu' : await prepareBackend(backendChoice, log);
  const model = readModelWith(modelPath, (json) => loadModel(json, { backend, log }));
  const piecewise = model instanceof PiecewiseScoreModel ? model.model! : undefined;
  if (piecewise && method === 'direct') {
    throw new InputError(`--method direct draws from a mixture, but the model (--model) '${modelPath}' is a piecewise score: use --method reverse (the default), ode or langevin`);
  }
  const d = model.dimension!;
  let start: Matrix | undefined;
  if (startPath !== undefined) {
    start = readFiniteMatrix(startPath, 'Langevin start (--start)');
    if (start.cols !== d) {
      throw new InputError(`Langevin start (--start) file '${startPath}' has d = ${start.cols} columns but the model (--model) '${modelPath}' has d = ${d}; give one row of ${d} numbers per sample`);
    }
    if (start.rows !== n) throw new InputError(`Langevin start (--start) file '${startPath}' has ${start.rows} rows but --n is ${n}; give one starting row per sample`);
  }
  const request: SampleOptions = { ...options, ...(start !== undefined ? { start } : {}) };
  const plan = resolveSampleOptions(piecewise ?? (model as DdpmGmm).means!, n, request);

  const total = plan.method === 'direct' ? 1 : plan.steps;
  const progress = new Progress({ total, label: `sample (${method})`, json });
  const began = performance.now();
  let samples: Matrix;
  try {
    samples = await model.sample(n, { ...request, onProgress: (p) => progress.update(p.done, `${n} samples`) });
  } catch (e) {
    if (e instanceof DivergenceError) throw divergenceAdvice(e, plan);
    throw e;
  } finally {
    progress.finish();
    model.dispose();
  }
  const seconds = (performance.now() - began) / 1000;
  writeFilesAtomic([{ path: outPath, content: () => encodeMatrix(outPath, samples) }]);

  const info = model.sampledOn;
  const settings = settingsOf(plan, startPath);
  if (json) {
    const kind = piecewise ? { model: 'piecewise', degree: piecewise.degree, levels: piecewise.levels.length } : { model: 'student', nComponents: (model as DdpmGmm).nComponents };
    return printJson({ n, d, ...kind, method, settings, out: outPath, ...(info ? backendJson(info) : { backend: null }), seconds });
  }
  const shown = Object.entries(settings)
    .filter(([k]) => k !== 'method')
    .map(([k, val]) => `${k} ${typeof val === 'number' ? fmt(val) : String(val)}`)
    .join(', ');
  await printLines([
    `model: ${piecewise ? `piecewise, degree ${piecewise.degree}, ${piecewise.levels.length} levels` : `K = ${(model as DdpmGmm).nComponents}`}, d = ${d}; ${info ? `sampled on ${backendText(info)}` : 'drawn on the host'}`,
    `method: ${method}${shown ? ` (${shown})` : ''}`,
    `wrote ${n} x ${d} samples to ${outPath} in ${fmt(seconds)} s`,
  ]);
}
