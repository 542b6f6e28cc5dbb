// ddpm-gmm fit: the estimator (src/estimator.ts) on a data file, with its defaults, so the CLI runs the loop
// that the library and the page run; --schedule single is the paper's Algorithm 1 as written, a loop
// plan whose flags fit-single.ts translates. Adds what only a command line needs: progress, a CSV history,
// checkpoint files a resumed run continues exactly (checkpoint-file.ts), and --out files.
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fingerprintOf } from '../algorithms/checkpoint.ts';
import { DEFAULTS, type HistoryRow, type LoopState, type Stage } from '../algorithms/index.ts';
import { DdpmGmm, resolveFit, type FitOutput } from '../estimator.ts';
import type { Covariance, Weights } from '../training/student.ts';
import { DeviceError, DivergenceError, InputError } from '../errors.ts';
import { MODEL_KINDS, type ModelKind } from '../model-file.ts';
import { checkWritableLocation, writeTextFile } from '../io/files.ts';
import {
  fitReads,
  METHOD_DECLS,
  METHOD_OPTION,
  METHODS,
  orList,
  readersOf,
  SCHEDULE_DECLS,
  SCHEDULE_OPTION,
  SCHEDULE_OPTIONS,
  SCHEDULES,
  type Method,
  type ScheduleName,
  type ScheduleOptionKey,
} from '../options/index.ts';
import { toRows, type Matrix } from '../types.ts';
import { SCALE_OPTION, type ScaleMethod } from '../scaling.ts';
import { requireCentreCount, requireEnoughSamples, requirePositiveInteger, requireSameDimension, requireSeed } from '../validate.ts';
import { backendFlag, boolFlag, numberFlag, parseFlags, stringFlag, type FlagSpec, type FlagValues } from './args.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint-file.ts';
import { declaredFlags, helpLines, optionFlag, optionHelp, usageOf } from './help.ts';
import { FIT_PIECEWISE_USAGE, fitPiecewiseCommand, PIECEWISE_FLAGS } from './fit-piecewise.ts';
import { fitSingleCommand } from './fit-single.ts';
import { fitStreamedCommand, STREAM_FLAGS, wantsStreaming } from './fit-streamed.ts';
import { DATA_OPTIONS } from '../data/options.ts';
import { csvIndexFlag, readFiniteMatrix } from './inputs.ts';
import { modelOutputPaths, planModelOutput, writeModelOutput } from './model-output.ts';
import { guardPaths } from './paths.ts';
import { backendJson, backendText, prepareBackend, stderrLog } from './open-backend.ts';
import { fmt, matrixLines, printJson, printLines, requireFiniteOutput } from './output.ts';
import { Progress } from './progress.ts';
import { divergenceAdvice } from './run.ts';

const O = SCHEDULE_OPTIONS;
/** The declared options that 'fit' takes as flags, in the help's order. */
const FIT_OPTIONS = [METHOD_OPTION, SCHEDULE_OPTION, SCALE_OPTION, O.init, O.seed, O.noiseScale, O.lr, O.maxSteps, O.tol, O.averageSteps, O.logEvery, O.screenStarts, O.screenRows, O.covariance, O.weights, O.varianceFloor];
const FIT_KEYS: readonly ScheduleOptionKey[] = ['noiseScale', 'lr', 'maxSteps', 'tol', 'averageSteps', 'logEvery', 'screenStarts', 'screenRows', 'covariance', 'weights', 'varianceFloor'];

/** Who reads an option, where not every fit does: 'single, warm, annealed, gradient-em'. */
function readers(key: ScheduleOptionKey): string | undefined {
  const { schedules, methods } = readersOf(key);
  if (schedules.length === SCHEDULES.length && methods.length === METHODS.length - 1) return undefined;
  return [...(schedules.length === SCHEDULES.length ? ['ddpm'] : schedules), ...methods].join(', ');
}

const COL = 20;
export const FIT_USAGE = [
  `Usage: ddpm-gmm fit --data X.npy --k K [--model student|piecewise] ${usageOf(METHOD_OPTION)}`,
  `               ${usageOf(SCHEDULE_OPTION)} ${usageOf(SCALE_OPTION)} [--restarts N]`,
  `               [--init INIT.npy | --init-seed S] [--noise-seed S] ${[O.noiseScale, O.lr, O.maxSteps, O.tol].map((d) => usageOf(d)).join(' ')}`,
  `               ${usageOf(O.averageSteps)} ${usageOf(O.logEvery)} ${usageOf(O.screenStarts)} ${usageOf(O.screenRows)}`,
  `               ${usageOf(O.covariance)} ${usageOf(O.weights)} ${usageOf(O.varianceFloor)}`,
  `               [--truth MU.npy] [--history FILE.csv] [--connections]`,
  `               [--checkpoint FILE.json [--checkpoint-every S]] [--resume FILE.json]
               [--backend auto|gpu|cpu] [--csv-index drop|keep|error]
               [--out model.json | --out centres.npy|centres.csv] [--json]

Learns K centres of the balanced mixture (1/K) sum_i N(mu_i, I) from X (N x d) with the estimator's
defaults (docs/math.md sections 8-10): 'ddpm-gmm fit --data X.npy --k 3' is enough.
  --model           student (default): the paper's student, the flags below; piecewise: the piecewise
                    score model, whose flags follow at the end`,
  ...helpLines('--method', METHODS.map((m) => `${m} (${m === METHOD_OPTION.default ? 'default: ' : ''}${METHOD_DECLS[m].note})`).join(', '), COL),
  ...optionHelp(SCHEDULE_OPTION, COL),
  ...SCHEDULES.map((s) => `${' '.repeat(COL + 2)}${s}: ${SCHEDULE_DECLS[s].doc}${s === 'single' ? ' (see below)' : ''}`),
  ...optionHelp(SCALE_OPTION, COL, undefined, "within: by the pooled within-cluster sd of a k-means pre-pass; standard: by the overall sd; none: the data as given (the paper's model)"),
  `  --restarts N      fit N times (also --n-init N): restart r uses --init-seed + r and --noise-seed + r,
                    and the run whose mixture gives X the highest average log-likelihood is kept;
                    ddpm's restarts share each pass over the data where the backend allows`,
  ...optionHelp(O.init, COL),
  ...optionHelp(O.seed, COL),
  ...FIT_KEYS.flatMap((key) => optionHelp(O[key], COL, readers(key))),
  `  --truth FILE      true centres: the history logs the matched error and, for K = 2, the angle
  --history FILE    the history as CSV (step, stage, t, loss, grad norm, change, errors, angle,
                    stage 1's spectral gap, the connection cosines, seconds)
  --connections     at each logged step, the cosine of the DDPM step with the power-iteration step
                    (K = 2) and with the gradient-EM step (docs/math.md section 9); costs 1-2 extra passes
  --checkpoint FILE written every --checkpoint-every steps (default each log interval) and at the end
  --resume FILE     continue from a checkpoint of the same data and flags; the result equals an
                    uninterrupted run's exactly (checkpoints need --restarts 1)
  --backend         auto (default: a hardware GPU, then a software adapter, then the CPU reference),
                    gpu, or cpu (the float64 reference)
  --csv-index       a CSV's pandas index column (0, 1, 2, ...): drop it with a warning (default),
                    keep it as a feature, or make it an error
  --out FILE.json   the model file, for 'ddpm-gmm predict' and DdpmGmm.fromJSON (also the history and
                    the settings); --out FILE.npy or FILE.csv writes the K x d centres there and the
                    model file beside them (FILE.json)

Algorithm 1 as written (docs/math.md sections 6 and 8.1): exactly H steps at one noise scale, no stopping rule:
  ddpm-gmm fit --data X.npy --k K --schedule single [--t T] [--steps H] [--lr ETA]
               [--init INIT.npy | --init-seed S] [--tied] [--noise fresh|fixed] [--noise-seed S] [--log-every L]
  --t, --steps, --lr   default ${DEFAULTS.noiseScale}, ${DEFAULTS.maxSteps} and max(1, K/16), as the loop's single-scale schedules
  --init-seed SEED     start from K distinct data rows drawn by a seeded partial Fisher-Yates shuffle
                       (default seed 0); with --tied, m = (row a - row b) / 2
  --tied               the symmetric student 1/2 N(m, I) + 1/2 N(-m, I) about the origin (K = 2;
                       centre the data first); means are reported as m, -m
  --noise fresh|fixed  new Philox noise every step (default), or step 0's noise on every step
  --log-every L        record loss and gradient norm every L steps (default H/20)

Streamed, and over ranks (docs/scaling.md): --schedule single with --chunk-rows or --memory-budget reads
the .npy or CSV file chunk by chunk; started by srun, mpirun or an Indexed Job, each rank reads its chunks
and rank 0 adds the sums (rendezvous at DDPM_GMM_COORDINATOR=host:port or --coordinator):
${[...optionHelp(DATA_OPTIONS.chunkRows, 23), ...optionHelp(DATA_OPTIONS.memoryBudget, 23)].join('\n')}
  --coordinator H:P    rank 0's host and a free port, for several ranks

${FIT_PIECEWISE_USAGE}`,
].join('\n');

const FLAGS: FlagSpec = {
  ...declaredFlags(FIT_OPTIONS),
  data: { type: 'string' },
  'csv-index': { type: 'string' },
  k: { type: 'string' },
  tied: { type: 'boolean' },
  'noise-seed': { type: 'string' },
  noise: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  restarts: { type: 'string' },
  'n-init': { type: 'string' },
  truth: { type: 'string' },
  history: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  connections: { type: 'boolean' },
  model: { type: 'string' },
  ...Object.fromEntries(STREAM_FLAGS.map((f) => [f, { type: 'string' as const }])),
  ...Object.fromEntries(PIECEWISE_FLAGS.map((f) => [f, { type: 'string' as const }])),
};

export async function fitCommand(argv: string[]): Promise<void> {
  const v = parseFlags('fit', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([FIT_USAGE]);
  const kind = stringFlag(v, 'model') ?? 'student';
  if (!MODEL_KINDS.includes(kind as ModelKind)) throw new InputError(`--model must be ${MODEL_KINDS.map((m) => `'${m}'`).join(' or ')}, got '${kind}'`);
  if (kind === 'piecewise') return fitPiecewiseCommand(v);
  const piecewiseFlag = PIECEWISE_FLAGS.find((f) => v[f] !== undefined);
  if (piecewiseFlag) throw new InputError(`--${piecewiseFlag} is a flag of the piecewise model: add --model piecewise, or drop --${piecewiseFlag}`);
  if (wantsStreaming(v)) {
    if (stringFlag(v, 'schedule') !== 'single') throw new InputError('a streamed fit (--chunk-rows, --memory-budget, or several ranks) runs Algorithm 1: add --schedule single');
    return fitStreamedCommand(v);
  }
  if (stringFlag(v, 'schedule') === 'single') return fitSingleCommand(v);
  for (const flag of ['tied', 'noise']) {
    if (v[flag] !== undefined) throw new InputError(`--${flag} is a flag of the paper's Algorithm 1: add --schedule single (see 'ddpm-gmm fit --help')`);
  }
  return fitEstimatorCommand(v);
}

/** --restarts N or its scikit-learn name --n-init N; default 1. */
function restartsFlag(v: FlagValues): number {
  if (v['restarts'] !== undefined && v['n-init'] !== undefined) throw new InputError('--restarts and --n-init are the same flag: give one of them');
  const name = v['n-init'] !== undefined ? 'n-init' : 'restarts';
  const n = numberFlag(v, name, 1);
  requirePositiveInteger(n, `the number of restarts (--${name})`);
  return n;
}

function historyCsv(rows: HistoryRow[]): string {
  const head = 'step,stage,noise_scale,loss,grad_norm,change,error,mean_error,angle,direction_gap,cos_power,cos_power_corrected,cos_gradient_em,seconds';
  const cell = (v: number | null | undefined): string => (v === undefined || v === null ? '' : String(v));
  const lines = rows.map((r) =>
    [r.step, JSON.stringify(r.stage), cell(r.noiseScale), r.loss, r.gradNorm, r.change, cell(r.error), cell(r.meanError), cell(r.angle), cell(r.directionGap), cell(r.cosPower), cell(r.cosPowerCorrected), cell(r.cosGradientEm), r.seconds].join(','),
  );
  return `${[head, ...lines].join('\n')}\n`;
}

async function fitEstimatorCommand(v: FlagValues): Promise<void> {
  const json = boolFlag(v, 'json');
  const log = stderrLog(json);
  const backendChoice = backendFlag(v);
  const method = (optionFlag(v, METHOD_OPTION) ?? METHOD_OPTION.default) as Method;
  const scale = optionFlag(v, SCALE_OPTION) as ScaleMethod | undefined;
  const scheduleRaw = optionFlag(v, SCHEDULE_OPTION) as ScheduleName | undefined;
  const k = numberFlag(v, 'k');
  if (k === undefined) throw new InputError("'fit' needs --k; see 'ddpm-gmm fit --help'");
  requireCentreCount(k);
  const t = optionFlag(v, O.noiseScale) as number | undefined;
  const lr = optionFlag(v, O.lr) as number | undefined;
  const tol = optionFlag(v, O.tol) as number | undefined;
  const steps = optionFlag(v, O.maxSteps) as number | undefined;
  const averageSteps = optionFlag(v, O.averageSteps) as number | undefined;
  const connections = boolFlag(v, 'connections');
  if (connections && method !== 'ddpm') throw new InputError(`--connections measures DDPM-GD steps; drop it with --method ${method}`);
  const logEvery = optionFlag(v, O.logEvery) as number | undefined;
  const covariance = optionFlag(v, O.covariance) as Covariance | undefined;
  const weights = optionFlag(v, O.weights) as Weights | undefined;
  const varianceFloor = optionFlag(v, O.varianceFloor) as number | undefined;
  const screenStarts = optionFlag(v, O.screenStarts) as number | undefined;
  const screenRows = optionFlag(v, O.screenRows) as number | undefined;
  const seed = (optionFlag(v, O.seed) as number | undefined) ?? 0;
  const noiseSeed = numberFlag(v, 'noise-seed', 0);
  requireSeed(noiseSeed, 'the noise seed (--noise-seed)');
  const nInit = restartsFlag(v);
  const checkpointEvery = numberFlag(v, 'checkpoint-every');
  if (checkpointEvery !== undefined) requirePositiveInteger(checkpointEvery, 'the checkpoint interval (--checkpoint-every)');
  const checkpointPath = stringFlag(v, 'checkpoint');
  const resumePath = stringFlag(v, 'resume');
  if (method === 'power' && (checkpointPath || resumePath)) throw new InputError('--method power runs on the host in one go: drop --checkpoint and --resume');
  if (nInit > 1 && (checkpointPath || resumePath)) throw new InputError(`a checkpoint covers one run, but --restarts is ${nInit}: drop --restarts, or --checkpoint and --resume`);
  if (checkpointPath !== undefined) {
    if (extname(checkpointPath).toLowerCase() !== '.json') throw new InputError(`--checkpoint '${checkpointPath}' must end in .json`);
    checkWritableLocation(checkpointPath, '--checkpoint');
  }
  if (resumePath !== undefined && !existsSync(resumePath)) throw new InputError(`--resume file '${resumePath}' does not exist; give a file written by --checkpoint`);
  const historyPath = stringFlag(v, 'history');
  if (historyPath !== undefined) {
    if (extname(historyPath).toLowerCase() !== '.csv') throw new InputError(`--history '${historyPath}' must end in .csv`);
    checkWritableLocation(historyPath, '--history');
  }
  const dataPath = stringFlag(v, 'data');
  if (dataPath === undefined) throw new InputError("'fit' needs --data; see 'ddpm-gmm fit --help'");
  const initPath = optionFlag(v, O.init) as string | undefined;
  const truthPath = stringFlag(v, 'truth');
  const resolved = resolveFit(method, scheduleRaw as ScheduleName | undefined, k, initPath !== undefined, { covariance, weights });
  requireUsed(v, method, resolved.schedule);
  const outPath = stringFlag(v, 'out');
  const output = outPath !== undefined ? planModelOutput(outPath) : undefined;
  guardPaths(
    [{ flag: '--data', path: dataPath }, { flag: '--init', path: initPath }, { flag: '--truth', path: truthPath }, { flag: '--resume', path: resumePath }],
    [{ flag: '--checkpoint', path: checkpointPath }, { flag: '--history', path: historyPath }, ...modelOutputPaths(output)],
    [['--resume', '--checkpoint']],
  );

  const data = readFiniteMatrix(dataPath, 'data (--data)', csvIndexFlag(stringFlag(v, 'csv-index')));
  requireEnoughSamples(data.rows, k);
  let truth: Matrix | undefined;
  if (truthPath !== undefined) {
    truth = readFiniteMatrix(truthPath, 'true centres (--truth)');
    requireSameDimension(data, truth, `true centres (--truth) file '${truthPath}'`);
    if (truth.rows !== k) throw new InputError(`true centres (--truth) file '${truthPath}' has ${truth.rows} rows but --k is ${k}`);
  }
  let init: Matrix | undefined;
  if (initPath !== undefined) {
    init = readFiniteMatrix(initPath, 'initial centres (--init)');
    requireSameDimension(data, init, `initial centres (--init) file '${initPath}'`);
  }
  // averageSteps is undefined unless given, and JSON drops undefined: older checkpoints keep their fingerprint.
  // scale is undefined unless given, and JSON drops undefined: older checkpoints keep their fingerprint. The
  // student is the resolved one, so a checkpoint of the paper's student is not resumed as the default's.
  const settings = { method, schedule: scheduleRaw ?? null, scale, k, t, lr, tol, steps, logEvery, seed, init: initPath ?? null, averageSteps, screenStarts, screenRows, covariance: resolved.covariance, weights: resolved.weights, varianceFloor };
  const fingerprint = fingerprintOf(settings, data);
  const resume: LoopState | undefined = resumePath !== undefined ? readCheckpoint(resumePath, fingerprint, noiseSeed) : undefined;

  let progress = new Progress({ label: 'fit', json });
  let stages: readonly Stage[] = [];
  const model = new DdpmGmm({
    nComponents: k,
    method,
    schedule: scheduleRaw as ScheduleName | undefined,
    ...(scale !== undefined ? { scale } : {}),
    backend: await prepareBackend(backendChoice, log),
    log,
    nInit,
    init,
    seed,
    noiseSeed,
    noiseScale: t,
    lr,
    tol,
    averageSteps,
    maxSteps: steps,
    logEvery,
    covariance,
    weights,
    varianceFloor,
    screenStarts,
    screenRows,
    truth,
    onRestart: (r, n, together) => {
      if (n === 1) return;
      progress.finish();
      progress = new Progress({ label: together > 1 ? `fit, restarts ${r + 1}-${r + together}/${n} together` : `fit, restart ${r + 1}/${n}`, json });
    },
    loop: {
      connections,
      resume,
      checkpointEvery,
      onCheckpoint: checkpointPath !== undefined ? (s) => writeCheckpoint(checkpointPath, s, fingerprint, noiseSeed) : undefined,
      onStart: (planned) => (stages = planned),
      onProgress: (row, state) => progress.update(state.globalStep, `${row.stage} loss ${fmt(row.loss)}${row.error !== undefined ? ` error ${fmt(row.error)}` : ''}`, stepsLeft(stages, state)),
    },
  });
  const start = performance.now();
  let out: FitOutput;
  try {
    out = await model.fit(data);
  } catch (e) {
    if (e instanceof DivergenceError) throw divergenceAdvice(e, lr);
    if (e instanceof DeviceError && checkpointPath !== undefined) {
      throw new DeviceError(`${e.message}; the last checkpoint '${checkpointPath}' is usable: rerun with --resume ${checkpointPath}`);
    }
    throw e;
  } finally {
    progress.finish();
    model.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const info = model.backendUsed!;
  requireFiniteOutput({ means: out.means, history: out.history }, 'fit');
  if (historyPath !== undefined) writeTextFile(historyPath, historyCsv(out.history));
  const wrote = output ? writeModelOutput(output, { ...model.toJSON(), history: out.history, settings: { ...settings, noiseSeed, nInit, backend: backendChoice } }, out.means) : [];
  const last = out.history[out.history.length - 1];
  const schedule = method === 'ddpm' ? model.schedule : null;
  const result = {
    means: toRows(out.means),
    converged: out.converged,
    nIter: out.nIter,
    history: out.history,
    method,
    schedule,
    scale: model.scale,
    ...(model.student ? { covariance: model.student.covariance, weights: model.student.weights, mixingWeights: Array.from(model.variancesAndWeights!.weights) } : {}),
    ...(model.scaling ? { scaling: { centre: Array.from(model.scaling.centre), scale: Array.from(model.scaling.scale) } } : {}),
    ...(last?.error !== undefined ? { error: last.error } : {}),
    ...(nInit > 1 ? { restarts: model.restarts, bestRestart: model.bestRestart, restartsTogether: out.restarts?.together ?? 1 } : {}),
    ...(out.screen ? { screen: out.screen } : {}),
    ...backendJson(info),
    seconds,
  };
  if (json) return printJson(result);
  const student = model.student;
  const kept = model.restarts[model.bestRestart];
  await printLines([
    `backend: ${backendText(info)}`,
    `method: ${method}${schedule ? `, schedule ${schedule}` : ''}, scale ${model.scale}${student ? `, covariance ${student.covariance}, weights ${student.weights}` : ''}; N = ${data.rows}, d = ${data.cols}, K = ${k}`,
    ...model.notes.map((n) => `note: ${n}`),
    ...(nInit > 1 && kept ? [restartsLine(model.restarts.map((r) => r.logLikelihood), model.bestRestart, out.restarts?.together ?? 1)] : []),
    ...(out.screen ? [screenLine(out.screen)] : []),
    `${out.converged ? 'converged' : 'stopped at the step limit'} after ${out.nIter} steps in ${fmt(seconds)} s${last ? `; last loss ${fmt(last.loss)}` : ''}${last?.error !== undefined ? `, matched error max ${fmt(last.error)}` : ''}`,
    'means:',
    ...matrixLines(out.means),
    ...(student?.weights === 'learned' ? [`mixing weights: ${Array.from(model.variancesAndWeights!.weights, (w) => fmt(w)).join(' ')}`] : []),
    ...(historyPath !== undefined ? [`wrote ${historyPath}`] : []),
    ...wrote,
  ]);
}

/** The restarts: which was kept, how many shared each pass over the data, and the spread of the others' log-likelihoods. */
function restartsLine(lls: readonly number[], kept: number, together: number): string {
  const others = lls.filter((_, i) => i !== kept);
  const how = together > 1 ? `${together} at a time in one pass over the data` : 'one after another';
  return `restarts: kept ${kept + 1} of ${lls.length}, run ${how} (average log-likelihood ${fmt(lls[kept]!)}; the other ${others.length}: ${fmt(Math.min(...others))} to ${fmt(Math.max(...others))})`;
}

/** The screened schedule's starts: which was kept, and the spread of the others' log-likelihoods. */
function screenLine(screen: NonNullable<FitOutput['screen']>): string {
  const lls = screen.logLikelihoods;
  const others = lls.filter((_, i) => i !== screen.kept);
  const spread = others.length ? `; the other ${others.length}: ${fmt(Math.min(...others))} to ${fmt(Math.max(...others))}` : '';
  return `screen: kept start ${screen.kept + 1} of ${lls.length}, run together on a subsample (log-likelihood ${fmt(lls[screen.kept]!)}${spread})`;
}

/** The steps the plan may still take after `state`, and whether a stopping rule may end it sooner. */
function stepsLeft(stages: readonly Stage[], state: LoopState): { left: number; upTo: boolean } {
  let left = 0;
  let upTo = false;
  for (let i = state.stageIndex; i < stages.length; i++) {
    left += stages[i]!.maxSteps - (i === state.stageIndex ? state.stepInStage : 0);
    upTo ||= stages[i]!.stop.kind !== 'none';
  }
  return { left, upTo };
}

/** A declared option the method and schedule do not read would be silently ignored: say so instead. */
function requireUsed(v: FlagValues, method: Method, schedule: ScheduleName): void {
  const run = method === 'ddpm' ? `the ${schedule} schedule` : `--method ${method}`;
  for (const key of FIT_KEYS) {
    const flag = O[key].flag!.name;
    if (v[flag] === undefined || fitReads(method, schedule, key)) continue;
    // The paper's student by name is what a fit that learns only it runs.
    if ((key === 'covariance' && v[flag] === 'identity') || (key === 'weights' && v[flag] === 'equal')) continue;
    const { schedules, methods } = readersOf(key);
    const ddpm = schedules.length === SCHEDULES.length ? ['--method ddpm'] : schedules.length ? [`--schedule ${orList(schedules)}`] : [];
    const who = [...ddpm, ...methods.map((m) => `--method ${m}`)];
    throw new InputError(`--${flag} is ${O[key].what} of ${orList(who)}; ${run} sets its own: drop --${flag}`);
  }
}
