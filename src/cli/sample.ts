// ddpm-gmm sample: n samples from a fitted model (a file that `fit --out` wrote, of either kind: loadModel) through
// DdpmGmm.sample or PiecewiseScoreModel.sample: reverse
// diffusion, the probability-flow ODE or Langevin dynamics with the learned score, or a direct draw
// (docs/math.md section 11). Every flag is checked before the backend opens, and the samples are written
// only when the run has finished (atomically), so a bad flag or a divergent run leaves no file behind.
import { DivergenceError, InputError } from '../errors.ts';
import { checkWritableLocation, encodeMatrix, matrixFormatOf, writeFilesAtomic } from '../io/files.ts';
import { checkOption, integratorsOf, SAMPLE_METHODS, SAMPLE_OPTIONS, SAMPLER_DECLS, type SampleMethod, type SampleOptionKey } from '../options/index.ts';
import { oneOf } from '../options/declare.ts';
import { defaultSampleMethod, resolveSampleOptions, SAMPLE_DEFAULTS, type SampleOptions, type SamplePlan } from '../sample-options.ts';
import { parseModelFile } from '../model-file.ts';
import { isPaperStudent } from '../training/student.ts';
import { studentScoreOf } from '../sampling/student-score.ts';
import type { Integrator, TimeGrid } from '../sampling/options.ts';
import type { Matrix } from '../types.ts';
import { backendFlag, boolFlag, numberFlag, parseFlags, requireString, stringFlag, type FlagSpec, type FlagValues } from './args.ts';
import { declaredFlags, flagLabel, helpLines, optionFlag, optionHelp, usageOf } from './help.ts';
import { readFiniteMatrix, requireAllocatable } from './inputs.ts';
import { backendJson, backendText, prepareBackend, stderrLog } from './open-backend.ts';
import { fmt, printJson, printLines, requireFiniteOutput } from './output.ts';
import { readModelWith } from './predict.ts';
import type { DdpmGmm } from '../estimator.ts';
import { loadModel, PiecewiseScoreModel } from '../piecewise-estimator.ts';
import { guardPaths } from './paths.ts';
import { Progress } from './progress.ts';
import { requireSquarableRows } from '../validate.ts';

const S = SAMPLE_OPTIONS;
const COL = 16;
/** The sampler options with a flag, in the help's order (the method and seed apart). */
const SAMPLER_KEYS = ['integrator', 'horizon', 'tMin', 'steps', 'grid', 'stepSize', 'start'] as const satisfies readonly SampleOptionKey[];

/** The methods that read an option: 'reverse, ode'. */
function readers(key: SampleOptionKey): string | undefined {
  const who = SAMPLE_METHODS.filter((m) => SAMPLER_DECLS[m].options.includes(key));
  return who.length === SAMPLE_METHODS.length - 1 ? undefined : who.join(', ');
}

export const SAMPLE_USAGE = [
  `Usage: ddpm-gmm sample --model MODEL.json --n N --out S.npy|S.csv
                      ${usageOf(S.method, [...SAMPLE_METHODS.slice(1), SAMPLE_METHODS[0]])} ${usageOf(S.integrator)}
                      ${[S.horizon, S.tMin, S.steps, S.grid].map((d) => usageOf(d)).join(' ')}
                      ${[S.stepSize, S.start, S.seed].map((d) => usageOf(d)).join(' ')} [--backend auto|gpu|cpu] [--json]

Draws N samples (N x d) from a model written by 'ddpm-gmm fit --out', by its score (docs/math.md section 11):
the student's mixture (1/K) sum_i N(mu_i, I), the general student's sum_i pi_i N(mu_i, diag(c_i)) (fit
--covariance, --weights, section 14), or a piecewise model (fit --model piecewise, section 13).`,
  ...helpLines('--method', [...SAMPLE_METHODS.slice(1), SAMPLE_METHODS[0]].map((m) => `${m}${m === S.method.default ? ' (default)' : ''}: ${SAMPLER_DECLS[m].doc}`).join('; '), COL),
  ...helpLines('--integrator', (['reverse', 'ode'] as const).map((m) => `${m}: ${integratorsOf(m).map((ig, i) => (i === 0 && integratorsOf(m).length > 1 ? `${ig} (default)` : ig)).join(' or ')}`).join('; '), COL),
  ...SAMPLER_KEYS.filter((key) => key !== 'integrator').flatMap((key) => optionHelp(S[key], COL, readers(key))),
  ...optionHelp(S.seed, COL),
  `  --backend     auto (default), gpu or cpu: where the sampler runs (not used by --method direct)
  --out FILE    the samples, .npy (float64) or .csv, written only when the run has finished
  --json        print {n, d, model, nComponents (student), method, settings, out, backend, ..., seconds}
Progress goes to stderr. A run whose samples become NaN or infinite stops with exit code 4, naming
the step; take more --steps (or a smaller --step-size).`,
].join('\n');

const FLAGS: FlagSpec = {
  ...declaredFlags(Object.values(S)),
  model: { type: 'string' },
  n: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
};

/** The sampler options the flags give, each checked with a message that names its flag. */
function samplerFlags(v: FlagValues, method: SampleMethod): SampleOptions {
  // A flag the method does not read would be ignored, so it is refused instead (--backend: not by the host's draw).
  const uses = [...SAMPLER_DECLS[method].options.map((key) => S[key].flag!.name), ...(method === 'direct' ? [] : ['backend'])];
  for (const flag of [...SAMPLER_KEYS.map((key) => S[key].flag!.name), 'backend']) {
    if (v[flag] !== undefined && !uses.includes(flag)) {
      const why = method === 'direct' ? 'draws on the host from the mixture itself' : `does not use it (its flags: ${uses.map((f) => `--${f}`).join(', ')})`;
      throw new InputError(`--${flag} is not a flag of --method ${method}, which ${why}: drop --${flag}`);
    }
  }
  const seed = optionFlag(v, S.seed) as number | undefined;
  const steps = optionFlag(v, S.steps) as number | undefined;
  const tMin = optionFlag(v, S.tMin) as number | undefined;
  const horizon = numberFlag(v, 'horizon');
  if (horizon !== undefined && (!Number.isFinite(horizon) || horizon <= (tMin ?? 0))) {
    throw new InputError(`${flagLabel(S.horizon)} must be a finite number greater than --t-min = ${tMin ?? 0}, got ${horizon}`);
  }
  const stepSize = optionFlag(v, S.stepSize) as number | undefined;
  const grid = optionFlag(v, S.grid) as TimeGrid | undefined;
  const integrator = stringFlag(v, 'integrator');
  if (integrator !== undefined) checkOption(oneOf(integratorsOf(method), '', ''), integrator, `--integrator for --method ${method}`);
  if ((method === 'reverse' || method === 'ode') && (grid ?? SAMPLE_DEFAULTS.grid) === 'geometric' && (tMin ?? SAMPLE_DEFAULTS.tMin) === 0 && steps === 1) {
    throw new InputError('a geometric grid down to --t-min 0 needs --steps 2 or more (its last step goes from 1e-3 T to 0): pass more --steps, or --t-min > 0');
  }
  return {
    method,
    seed: seed ?? SAMPLE_DEFAULTS.seed,
    ...(steps !== undefined ? { steps } : {}),
    ...(tMin !== undefined ? { tMin } : {}),
    ...(horizon !== undefined ? { horizon } : {}),
    ...(stepSize !== undefined ? { stepSize } : {}),
    ...(grid !== undefined ? { grid } : {}),
    ...(integrator !== undefined ? { integrator: integrator as Integrator } : {}),
  };
}

/** The default method for the model in a file: a general student's, else the mixture's (a piecewise model: its score's). */
function defaultMethodOfFile(json: unknown): SampleMethod {
  const kind = (json as { model?: unknown } | null)?.model;
  if (kind === 'piecewise') return SAMPLE_DEFAULTS.method;
  const file = parseModelFile(json);
  return defaultSampleMethod(isPaperStudent(file.student) ? file.means : studentScoreOf(file.means, file.student!));
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
  // The default follows the model (defaultSampleMethod): the file says whether its student learned variances or weights.
  const method = (optionFlag(v, S.method) as SampleMethod | undefined) ?? readModelWith(modelPath, (json) => defaultMethodOfFile(json));
  const options = samplerFlags(v, method);
  const backendChoice = backendFlag(v);
  const startPath = stringFlag(v, 'start');
  // The destination before any work, so that a bad path fails fast.
  matrixFormatOf(outPath, '--out');
  checkWritableLocation(outPath, '--out');
  guardPaths([{ flag: '--model', path: modelPath }, { flag: '--start', path: startPath }], [{ flag: '--out', path: outPath }]);

  const backend = method === 'direct' ? 'cpu' : await prepareBackend(backendChoice, log);
  const model = readModelWith(modelPath, (json) => loadModel(json, { backend, log }));
  const piecewise = model instanceof PiecewiseScoreModel ? model.model! : undefined;
  if (piecewise && method === 'direct') {
    throw new InputError(`--method direct draws from a mixture, but the model (--model) '${modelPath}' is a piecewise score: use --method reverse (the default), ode or langevin`);
  }
  // The score's distances square the means; the direct draw only adds noise to them.
  if (!piecewise && method !== 'direct') requireSquarableRows((model as DdpmGmm).means!, `the means of the model (--model) '${modelPath}'`);
  const d = model.dimension!;
  requireAllocatable(n, d, '--n');
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
  requireFiniteOutput({ samples }, 'sample');
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
