// ddpm-gmm fit --schedule single: the paper's Algorithm 1 (docs/math.md sections 6 and 8.1) as written, run by
// the loop (src/algorithms/algorithm1.ts): exactly --steps steps at one noise scale, fresh or fixed noise,
// optionally the tied student about the origin, returning the last iterate. This file translates the flags
// and prints the result; its defaults for t, lr and the step count are the loop's single schedule's.
import { fitAlgorithm1 } from '../algorithms/algorithm1.ts';
import { DEFAULTS, defaultLr } from '../algorithms/schedules.ts';
import { seededRows } from '../algorithms/seeding.ts';
import { describeBackend } from '../backend-choice.ts';
import { DivergenceError, InputError } from '../errors.ts';
import { createModelFile } from '../model-file.ts';
import type { HistoryEntry } from '../training/capability.ts';
import { toRows, type Matrix } from '../types.ts';
import {
  requireCentreCount,
  requireEnoughSamples,
  requireLearningRate,
  requireNoiseScale,
  requirePositiveInteger,
  requireSameDimension,
  requireSeed,
  requireSquarableRows,
  requireSteps,
  requireTiedK,
  tiedCentres,
} from '../validate.ts';
import { backendFlag, boolFlag, numberFlag, requireNumber, requireString, stringFlag, type FlagValues } from './args.ts';
import { csvIndexFlag, readFiniteMatrix } from './inputs.ts';
import { modelOutputPaths, planModelOutput, writeModelOutput } from './model-output.ts';
import { guardPaths } from './paths.ts';
import { backendJson, backendText, openCliBackend, stderrLog } from './open-backend.ts';
import { fmt, matrixLines, printJson, printLines, requireFiniteOutput } from './output.ts';
import { Progress } from './progress.ts';
import { divergenceAdvice } from './run.ts';

/** Flags of the schedule loop that Algorithm 1 has no use for. */
const LOOP_ONLY = ['truth', 'history', 'checkpoint', 'checkpoint-every', 'resume', 'tol', 'average-steps', 'connections', 'restarts', 'n-init'] as const;

/** Algorithm 1 learns the paper's student: flags that ask for learned variances or weights are refused by name. */
export function refuseGeneralStudentFlags(v: FlagValues): void {
  for (const flag of ['covariance', 'weights', 'variance-floor'] as const) {
    const paper = flag === 'covariance' ? 'identity' : flag === 'weights' ? 'equal' : undefined;
    if (v[flag] !== undefined && v[flag] !== paper) {
      throw new InputError(
        `--schedule single runs the paper's Algorithm 1, whose student has identity covariance and equal weights: drop --${flag}, or use --schedule warm --init FILE (or drop --schedule) to learn variances and weights`,
      );
    }
  }
}

export async function fitSingleCommand(v: FlagValues): Promise<void> {
  const method = stringFlag(v, 'method');
  if (method !== undefined && method !== 'ddpm') {
    throw new InputError(`--schedule single is DDPM gradient descent (Algorithm 1); drop --schedule single to run --method ${method}`);
  }
  if (v['scale'] !== undefined && v['scale'] !== 'none') {
    throw new InputError(`--schedule single runs the paper's Algorithm 1 on the data as given: drop --scale ${String(v['scale'])} (or give --scale none), or drop --schedule single to fit with the scaling`);
  }
  refuseGeneralStudentFlags(v);
  for (const flag of LOOP_ONLY) {
    if (v[flag] !== undefined) {
      throw new InputError(
        `--${flag} belongs to the schedule loop, but --schedule single runs the paper's Algorithm 1 as written (exactly --steps steps, no stopping rule); drop --${flag}, or use --schedule warm --init FILE for a loop run at one noise scale`,
      );
    }
  }
  const json = boolFlag(v, 'json');
  const tied = boolFlag(v, 'tied');
  const backendChoice = backendFlag(v);
  // Cheap checks first: a typo in a number should not wait for a large file to load.
  const { k, t, steps, lr, noiseSeed, noiseMode, logEvery } = algorithm1Flags(v, tied);
  const initPath = stringFlag(v, 'init');
  if (initPath !== undefined && v['init-seed'] !== undefined) {
    throw new InputError("'fit' takes one of --init and --init-seed, not both; see 'ddpm-gmm fit --help'");
  }
  const initSeed = initPath === undefined ? numberFlag(v, 'init-seed', 0) : undefined;
  if (initSeed !== undefined) requireSeed(initSeed, 'the initialisation seed (--init-seed)');
  const dataPath = requireString(v, 'data', 'fit');
  const outPath = stringFlag(v, 'out');
  const output = outPath !== undefined ? planModelOutput(outPath) : undefined;
  guardPaths([{ flag: '--data', path: dataPath }, { flag: '--init', path: initPath }], modelOutputPaths(output));

  const data = readFiniteMatrix(dataPath, 'data (--data)', csvIndexFlag(stringFlag(v, 'csv-index')));
  requireEnoughSamples(data.rows, k);
  requireSquarableRows(data, `data (--data) file '${dataPath}'`);
  let init: Matrix;
  if (initPath !== undefined) {
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

  const backend = await openCliBackend(backendChoice, stderrLog(json));
  const info = describeBackend(backend);
  const progress = new Progress({ total: steps, label: 'fit', json });
  let means: Matrix;
  let history: HistoryEntry[];
  let nIter: number;
  const start = performance.now();
  try {
    const result = await fitAlgorithm1(backend, data, init, { noiseScale: t, lr, steps, tied, noise: noiseMode }, {
      logEvery,
      noiseSeed,
      onProgress: (row) => progress.update(row.step + 1, `loss ${fmt(row.loss)}`),
    });
    ({ means, nIter } = result);
    history = result.history.map((h) => ({ step: h.step, loss: h.loss, gradNorm: h.gradNorm }));
  } catch (e) {
    throw e instanceof DivergenceError ? divergenceAdvice(e, lr) : e;
  } finally {
    progress.finish();
    backend.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  requireFiniteOutput({ means, history }, 'fit');
  const sampleGradsPerSec = (data.rows * nIter) / seconds;
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
    init: initPath !== undefined ? { file: initPath } : { seed: initSeed },
    logEvery,
    backend: backendChoice,
  };
  // Algorithm 1 has no stopping rule: it runs its steps, so the model never reports convergence.
  const file = createModelFile({ means, method: 'ddpm', schedule: 'single', converged: false, nIter, backendUsed: info });
  const wrote = output ? writeModelOutput(output, { ...file, history, settings }, means) : [];
  if (json) {
    return printJson({ means: toRows(means), history, nIter, ...backendJson(info), seconds, sampleGradsPerSec });
  }
  const first = history[0];
  const last = history[history.length - 1];
  await printLines([
    `backend: ${backendText(info)}`,
    `problem: N = ${data.rows}, d = ${data.cols}, K = ${k}${tied ? ' (tied)' : ''}; Algorithm 1 at t = ${t}, ${steps} steps, lr = ${lr}, ${noiseMode} noise (seed ${noiseSeed})`,
    `loss: ${first ? fmt(first.loss) : '?'} (step ${first?.step ?? '?'}) -> ${last ? fmt(last.loss) : '?'} (step ${last?.step ?? '?'}), final |dL/dm| ${last ? fmt(last.gradNorm) : '?'}`,
    `time: ${fmt(seconds)} s, ${fmt(sampleGradsPerSec)} sample-gradients/s`,
    'means:',
    ...matrixLines(means),
    ...wrote,
  ]);
}

/** Tied init from two data rows a, b: m = (a - b) / 2, the half-difference of a symmetric pair. */
function halfDifference(rows: Matrix): Matrix {
  const d = rows.cols;
  const m = new Float64Array(d);
  for (let c = 0; c < d; c++) m[c] = (rows.data[c]! - rows.data[d + c]!) / 2;
  return { rows: 1, cols: d, data: m };
}

/** Algorithm 1's numbers from the flags, checked before any file is read (also the streamed fit's, fit-streamed.ts). */
export function algorithm1Flags(v: FlagValues, tied: boolean): { k: number; t: number; steps: number; lr: number; noiseSeed: number; noiseMode: 'fresh' | 'fixed'; logEvery: number } {
  const k = requireNumber(v, 'k', 'fit');
  requireCentreCount(k);
  if (tied) requireTiedK(k);
  const t = numberFlag(v, 't', DEFAULTS.noiseScale);
  requireNoiseScale(t);
  const steps = numberFlag(v, 'steps', DEFAULTS.maxSteps);
  requireSteps(steps);
  const lr = numberFlag(v, 'lr', defaultLr(k));
  requireLearningRate(lr);
  const noiseSeed = numberFlag(v, 'noise-seed', 0);
  requireSeed(noiseSeed, 'the noise seed (--noise-seed)');
  const noiseMode = stringFlag(v, 'noise') ?? 'fresh';
  if (noiseMode !== 'fresh' && noiseMode !== 'fixed') {
    throw new InputError(`--noise must be 'fresh' or 'fixed', got '${noiseMode}'`);
  }
  const logEvery = numberFlag(v, 'log-every', Math.max(1, Math.floor(steps / 20)));
  requirePositiveInteger(logEvery, 'the log interval (--log-every)');
  return { k, t, steps, lr, noiseSeed, noiseMode, logEvery };
}
