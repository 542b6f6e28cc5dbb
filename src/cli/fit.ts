// ddpm-gmm fit: the paper's Algorithm 1 (MATH.md sections 6 and 8.1) on a data file.
import { extname } from 'node:path';
import { DivergenceError, InputError } from '../errors.ts';
import { checkWritableLocation, writeTextFile } from '../io/files.ts';
import { toRows, type GdResult, type Matrix } from '../types.ts';
import {
  requireCentreCount,
  requireEnoughSamples,
  requireLearningRate,
  requireNoiseScale,
  requirePositiveInteger,
  requireSameDimension,
  requireSeed,
  requireSteps,
  requireTiedK,
  tiedCentres,
  untiedCentres,
} from '../validate.ts';
import {
  backendFlag,
  boolFlag,
  exactlyOne,
  numberFlag,
  parseFlags,
  requireNumber,
  requireString,
  stringFlag,
  type FlagSpec,
} from './args.ts';
import { openBackend } from './backend.ts';
import { seededRows } from './init.ts';
import { readFiniteMatrix } from './inputs.ts';
import { fmt, matrixLines, printJson, printLines } from './output.ts';
import { Progress } from './progress.ts';
import { fitScheduleCommand, wantsSchedule } from './fit-schedule.ts';

export const FIT_USAGE = `Usage: ddpm-gmm fit --data X.npy --k K (--init INIT.npy | --init-seed SEED) --t T --steps H --lr ETA
                    [--tied] [--noise-seed S] [--noise fresh|fixed] [--log-every L]
                    [--backend gpu|cpu] [--out model.json] [--json]

Runs H steps of gradient descent on the DDPM objective at noise scale T (the paper's
Algorithm 1): m <- m - ETA dL/dm on the scaled centres m = exp(-T) mu.
  --init FILE       K x d initial centres (unscaled); with --tied one row m or rows m, -m
  --init-seed SEED  start from K distinct data rows drawn by a seeded partial Fisher-Yates
                    shuffle (Philox stream 2); with --tied, m = (row a - row b) / 2
  --noise fresh     new Philox noise every step (default); 'fixed' reuses step 0's noise
  --noise-seed S    the Philox seed of the training noise (default 0)
  --log-every L     record loss and gradient norm every L steps (default H/20)
  --tied            the symmetric student 1/2 N(m, I) + 1/2 N(-m, I) about the origin
                    (K must be 2; centre the data first); means are reported as m, -m
  --out FILE.json   write {means, history, nIter, settings, backend, adapter}

Schedules, baselines and checkpoints (any of these flags selects this mode; MATH.md sections 8-10):
  ddpm-gmm fit --data X.npy --k K [--method ddpm|em|gradient-em|power]
               [--schedule two-stage|projected|warm|single|annealed] [--init INIT.npy | --init-seed S]
               [--t T] [--lr ETA] [--steps H] [--tol TOL] [--average-steps A] [--truth MU.npy] [--history FILE.csv]
               [--connections] [--checkpoint FILE.json [--checkpoint-every S]] [--resume FILE.json]
  --method          ddpm (default), em, gradient-em (k-means++ seeded), power (K = 2, spectral)
  --schedule        default two-stage for K = 2, warm with --init, annealed otherwise
  --steps / --tol   step limit (per stage) and tolerance on the centre change per step
                    (default: the fresh-noise floor lr sqrt(d/N) for GD, 1e-4 for EM)
  --average-steps A after the last GD stage, A more steps whose chunk-end iterates are averaged
                    (Polyak-Ruppert; default 100, 0 for single; 0 returns the last iterate)
  --truth FILE      true centres: the history logs the matched error and, for K = 2, the angle
  --history FILE    the history as CSV (step, stage, t, loss, grad norm, change, errors, angle,
                    stage 1's spectral gap, the connection cosines, seconds)
  --connections     at each logged step, the cosine of the DDPM step with the power-iteration step
                    (K = 2) and with the gradient-EM step (MATH.md section 9); costs 1-2 extra passes
  --checkpoint FILE written every --checkpoint-every steps (default each log interval) and at the end
  --resume FILE     continue from a checkpoint of the same data and flags; the result equals an
                    uninterrupted run's exactly`;

const FLAGS: FlagSpec = {
  data: { type: 'string' },
  k: { type: 'string' },
  init: { type: 'string' },
  'init-seed': { type: 'string' },
  t: { type: 'string' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  tied: { type: 'boolean' },
  'noise-seed': { type: 'string' },
  noise: { type: 'string' },
  'log-every': { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  method: { type: 'string' },
  schedule: { type: 'string' },
  truth: { type: 'string' },
  history: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  tol: { type: 'string' },
  'average-steps': { type: 'string' },
  connections: { type: 'boolean' },
};

/** Re-raises a divergence with the CLI's flags in the advice. */
export function divergenceAdvice(e: DivergenceError, lr: number): DivergenceError {
  return new DivergenceError(
    e.step,
    `training diverged at step ${e.step} (0-based) with --lr ${lr}: the loss or the centres became NaN or infinite; use a smaller --lr, e.g. ${fmt(lr / 10)}`,
  );
}

export async function fitCommand(argv: string[]): Promise<void> {
  const v = parseFlags('fit', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([FIT_USAGE]);
  if (wantsSchedule(v)) return fitScheduleCommand(v);
  const json = boolFlag(v, 'json');
  const tied = boolFlag(v, 'tied');
  const backendKind = backendFlag(v);
  // Cheap checks first: a typo in a number should not wait for a large file to load.
  const k = requireNumber(v, 'k', 'fit');
  requireCentreCount(k);
  if (tied) requireTiedK(k);
  const t = requireNumber(v, 't', 'fit');
  requireNoiseScale(t);
  const steps = requireNumber(v, 'steps', 'fit');
  requireSteps(steps);
  const lr = requireNumber(v, 'lr', 'fit');
  requireLearningRate(lr);
  const noiseSeed = numberFlag(v, 'noise-seed', 0);
  requireSeed(noiseSeed, 'the noise seed (--noise-seed)');
  const noiseMode = stringFlag(v, 'noise') ?? 'fresh';
  if (noiseMode !== 'fresh' && noiseMode !== 'fixed') {
    throw new InputError(`--noise must be 'fresh' or 'fixed', got '${noiseMode}'`);
  }
  const logEvery = numberFlag(v, 'log-every', Math.max(1, Math.floor(steps / 20)));
  requirePositiveInteger(logEvery, 'the log interval (--log-every)');
  const initFrom = exactlyOne(v, 'init', 'init-seed', 'fit');
  const initSeed = initFrom === 'b' ? requireNumber(v, 'init-seed', 'fit') : undefined;
  if (initSeed !== undefined) requireSeed(initSeed, 'the initialisation seed (--init-seed)');
  const outPath = stringFlag(v, 'out');
  if (outPath !== undefined) {
    if (extname(outPath).toLowerCase() !== '.json') {
      throw new InputError(`--out '${outPath}' must end in .json (the model is written as JSON)`);
    }
    checkWritableLocation(outPath, '--out');
  }
  const dataPath = requireString(v, 'data', 'fit');

  const data = readFiniteMatrix(dataPath, 'data (--data)');
  requireEnoughSamples(data.rows, k);
  let init: Matrix;
  if (initFrom === 'a') {
    const initPath = String(v['init']);
    const what = `initial centres (--init) file '${initPath}'`;
    const raw = readFiniteMatrix(initPath, 'initial centres (--init)');
    requireSameDimension(data, raw, what);
    if (tied) init = tiedCentres(raw, what);
    else if (raw.rows !== k) {
      throw new InputError(`${what} has ${raw.rows} rows but --k is ${k}; give one row per centre`);
    } else init = raw;
  } else {
    const rows = seededRows(data, k, initSeed!);
    init = tied ? halfDifference(rows) : rows;
  }

  const backend = await openBackend(backendKind, (msg) => {
    if (!json) process.stderr.write(`${msg}\n`);
  });
  const progress = new Progress({ total: steps, label: 'fit', json });
  let result: GdResult;
  const start = performance.now();
  try {
    result = await backend.gdSteps(data, init, {
      noiseScale: t,
      tied,
      noise: { kind: 'seed', seed: noiseSeed, mode: noiseMode },
      steps,
      lr,
      logEvery,
      onProgress: (p) => progress.update(p.done, `loss ${fmt(p.last.loss)}`),
    });
  } catch (e) {
    throw e instanceof DivergenceError ? divergenceAdvice(e, lr) : e;
  } finally {
    progress.finish();
    backend.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const means = tied ? untiedCentres(result.centres) : result.centres;
  const sampleGradsPerSec = (data.rows * result.nIter) / seconds;
  const settings = {
    data: dataPath,
    n: data.rows,
    d: data.cols,
    k,
    t,
    steps,
    lr,
    tied,
    noise: { mode: noiseMode, seed: noiseSeed },
    init: initFrom === 'a' ? { file: String(v['init']) } : { seed: initSeed },
    logEvery,
  };
  if (outPath !== undefined) {
    const model = {
      means: toRows(means),
      history: result.history,
      nIter: result.nIter,
      settings,
      backend: backend.name,
      adapter: backend.adapter,
    };
    writeTextFile(outPath, `${JSON.stringify(model, null, 2)}\n`);
  }
  if (json) {
    return printJson({
      means: toRows(means),
      history: result.history,
      nIter: result.nIter,
      backend: backend.name,
      adapter: backend.adapter,
      seconds,
      sampleGradsPerSec,
    });
  }
  const first = result.history[0];
  const last = result.history[result.history.length - 1];
  await printLines([
    `backend: ${backend.name} (${backend.adapter})`,
    `problem: N = ${data.rows}, d = ${data.cols}, K = ${k}${tied ? ' (tied)' : ''}; t = ${t}, ${steps} steps, lr = ${lr}, ${noiseMode} noise (seed ${noiseSeed})`,
    `loss: ${first ? fmt(first.loss) : '?'} (step ${first?.step ?? '?'}) -> ${last ? fmt(last.loss) : '?'} (step ${last?.step ?? '?'}), final |dL/dm| ${last ? fmt(last.gradNorm) : '?'}`,
    `time: ${fmt(seconds)} s, ${fmt(sampleGradsPerSec)} sample-gradients/s`,
    'means:',
    ...matrixLines(means),
    ...(outPath !== undefined ? [`wrote ${outPath}`] : []),
  ]);
}

/** Tied init from two data rows a, b: m = (a - b) / 2, the half-difference of a symmetric pair. */
function halfDifference(rows: Matrix): Matrix {
  const d = rows.cols;
  const m = new Float64Array(d);
  for (let c = 0; c < d; c++) m[c] = (rows.data[c]! - rows.data[d + c]!) / 2;
  return { rows: 1, cols: d, data: m };
}
