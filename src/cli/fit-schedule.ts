// ddpm-gmm fit with --method / --schedule / --truth / --history / --checkpoint / --resume: the estimator
// (src/estimator.ts) on a data file, with progress, a CSV history, and checkpoints that a resumed run
// continues to exactly the centres of an uninterrupted one (src/algorithms/checkpoint.ts).
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fingerprintOf, readCheckpoint, writeCheckpoint } from '../algorithms/checkpoint.ts';
import { SCHEDULES, type HistoryRow, type LoopState, type ScheduleName } from '../algorithms/index.ts';
import { DdpmGmm, METHODS, type Method } from '../estimator.ts';
import { DeviceError, DivergenceError, InputError } from '../errors.ts';
import { checkWritableLocation, writeTextFile } from '../io/files.ts';
import { toRows, type Matrix } from '../types.ts';
import { requireEnoughSamples, requirePositiveInteger, requireSameDimension, requireSeed } from '../validate.ts';
import { boolFlag, numberFlag, stringFlag, type FlagValues } from './args.ts';
import { openBackend } from './backend.ts';
import { divergenceAdvice } from './fit.ts';
import { readFiniteMatrix } from './inputs.ts';
import { fmt, matrixLines, printJson, printLines } from './output.ts';
import { Progress } from './progress.ts';

export const SCHEDULE_FLAGS = ['method', 'schedule', 'truth', 'history', 'checkpoint', 'checkpoint-every', 'resume', 'tol', 'average-steps', 'connections'] as const;

/** Whether the new path is asked for: any of its flags. */
export function wantsSchedule(v: FlagValues): boolean {
  return SCHEDULE_FLAGS.some((f) => v[f] !== undefined);
}

function positive(v: number | undefined, what: string): number | undefined {
  if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new InputError(`${what} must be a finite number > 0, got ${v}`);
  return v;
}

function historyCsv(rows: HistoryRow[]): string {
  const head = 'step,stage,noise_scale,loss,grad_norm,change,error,mean_error,angle,direction_gap,cos_power,cos_gradient_em,seconds';
  const cell = (v: number | null | undefined): string => (v === undefined || v === null ? '' : String(v));
  const lines = rows.map((r) =>
    [r.step, JSON.stringify(r.stage), cell(r.noiseScale), r.loss, r.gradNorm, r.change, cell(r.error), cell(r.meanError), cell(r.angle), cell(r.directionGap), cell(r.cosPower), cell(r.cosGradientEm), r.seconds].join(','),
  );
  return `${[head, ...lines].join('\n')}\n`;
}

export async function fitScheduleCommand(v: FlagValues): Promise<void> {
  const json = boolFlag(v, 'json');
  const method = (stringFlag(v, 'method') ?? 'ddpm') as Method;
  if (!METHODS.includes(method)) throw new InputError(`--method must be one of ${METHODS.join(', ')}, got '${method}'`);
  const scheduleRaw = stringFlag(v, 'schedule');
  if (scheduleRaw !== undefined && !SCHEDULES.includes(scheduleRaw as ScheduleName)) {
    throw new InputError(`--schedule must be one of ${SCHEDULES.join(', ')}, got '${scheduleRaw}'`);
  }
  const k = numberFlag(v, 'k');
  if (k === undefined) throw new InputError("'fit' needs --k; see 'ddpm-gmm fit --help'");
  requirePositiveInteger(k, 'the number of centres K (--k)');
  const t = positive(numberFlag(v, 't'), 'the noise scale t (--t)');
  const lr = positive(numberFlag(v, 'lr'), 'the learning rate (--lr)');
  const tol = positive(numberFlag(v, 'tol'), 'the tolerance (--tol)');
  const steps = numberFlag(v, 'steps');
  if (steps !== undefined) requirePositiveInteger(steps, 'the step limit (--steps)');
  const averageSteps = numberFlag(v, 'average-steps');
  const connections = boolFlag(v, 'connections');
  if (connections && method !== 'ddpm') throw new InputError(`--connections measures DDPM-GD steps; drop it with --method ${method}`);
  if (averageSteps !== undefined && (!Number.isSafeInteger(averageSteps) || averageSteps < 0)) {
    throw new InputError(`the averaging steps (--average-steps) must be a whole number >= 0, got ${averageSteps}`);
  }
  const logEvery = numberFlag(v, 'log-every');
  if (logEvery !== undefined) requirePositiveInteger(logEvery, 'the log interval (--log-every)');
  const seed = numberFlag(v, 'init-seed', 0);
  requireSeed(seed, 'the initialisation seed (--init-seed)');
  const noiseSeed = numberFlag(v, 'noise-seed', 0);
  requireSeed(noiseSeed, 'the noise seed (--noise-seed)');
  const checkpointEvery = numberFlag(v, 'checkpoint-every');
  if (checkpointEvery !== undefined) requirePositiveInteger(checkpointEvery, 'the checkpoint interval (--checkpoint-every)');
  const checkpointPath = stringFlag(v, 'checkpoint');
  const resumePath = stringFlag(v, 'resume');
  if (method === 'power' && (checkpointPath || resumePath)) throw new InputError('--method power runs on the host in one go: drop --checkpoint and --resume');
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
  const outPath = stringFlag(v, 'out');
  if (outPath !== undefined) {
    if (extname(outPath).toLowerCase() !== '.json') throw new InputError(`--out '${outPath}' must end in .json (the model is written as JSON)`);
    checkWritableLocation(outPath, '--out');
  }
  if (boolFlag(v, 'tied')) throw new InputError('--tied is implied by the K = 2 schedules (two-stage, projected); drop --tied with --method/--schedule');
  const dataPath = stringFlag(v, 'data');
  if (dataPath === undefined) throw new InputError("'fit' needs --data; see 'ddpm-gmm fit --help'");
  const data = readFiniteMatrix(dataPath, 'data (--data)');
  requireEnoughSamples(data.rows, k);
  let truth: Matrix | undefined;
  const truthPath = stringFlag(v, 'truth');
  if (truthPath !== undefined) {
    truth = readFiniteMatrix(truthPath, 'true centres (--truth)');
    requireSameDimension(data, truth, `true centres (--truth) file '${truthPath}'`);
    if (truth.rows !== k) throw new InputError(`true centres (--truth) file '${truthPath}' has ${truth.rows} rows but --k is ${k}`);
  }
  let init: Matrix | undefined;
  const initPath = stringFlag(v, 'init');
  if (initPath !== undefined) {
    init = readFiniteMatrix(initPath, 'initial centres (--init)');
    requireSameDimension(data, init, `initial centres (--init) file '${initPath}'`);
  }
  // averageSteps is undefined unless given, and JSON drops undefined: older checkpoints keep their fingerprint.
  const settings = { method, schedule: scheduleRaw ?? null, k, t, lr, tol, steps, logEvery, seed, init: initPath ?? null, averageSteps };
  const fingerprint = fingerprintOf(settings, data);
  const resume: LoopState | undefined = resumePath !== undefined ? readCheckpoint(resumePath, fingerprint, noiseSeed) : undefined;

  const backend = await openBackend(stringFlag(v, 'backend') === 'cpu' ? 'cpu' : 'gpu', (msg) => {
    if (!json) process.stderr.write(`${msg}\n`);
  });
  const total = steps ?? 300;
  const progress = new Progress({ total, label: 'fit', json });
  const model = new DdpmGmm({
    nComponents: k,
    method,
    schedule: scheduleRaw as ScheduleName | undefined,
    backend,
    init,
    seed,
    noiseSeed,
    noiseScale: t,
    lr,
    tol,
    averageSteps,
    maxSteps: steps,
    logEvery,
    truth,
    loop: {
      connections,
      resume,
      checkpointEvery,
      onCheckpoint: checkpointPath !== undefined ? (s) => writeCheckpoint(checkpointPath, s, fingerprint, noiseSeed) : undefined,
      onProgress: (row) => progress.update(Math.min(total, row.step + 1), `${row.stage} loss ${fmt(row.loss)}${row.error !== undefined ? ` error ${fmt(row.error)}` : ''}`),
    },
  });
  const start = performance.now();
  let out;
  try {
    out = await model.fit(data);
  } catch (e) {
    if (e instanceof DivergenceError) throw divergenceAdvice(e, lr ?? 1);
    if (e instanceof DeviceError && checkpointPath !== undefined) {
      throw new DeviceError(`${e.message}; the last checkpoint '${checkpointPath}' is usable: rerun with --resume ${checkpointPath}`);
    }
    throw e;
  } finally {
    progress.finish();
    backend.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  if (historyPath !== undefined) writeTextFile(historyPath, historyCsv(out.history));
  const last = out.history[out.history.length - 1];
  const result = {
    means: toRows(out.means),
    converged: out.converged,
    nIter: out.nIter,
    history: out.history,
    method,
    schedule: method === 'ddpm' ? model.schedule : null,
    ...(last?.error !== undefined ? { error: last.error } : {}),
    backend: backend.name,
    adapter: backend.adapter,
    seconds,
  };
  if (outPath !== undefined) writeTextFile(outPath, `${JSON.stringify({ ...result, settings }, null, 2)}\n`);
  if (json) return printJson(result);
  await printLines([
    `backend: ${backend.name} (${backend.adapter})`,
    `method: ${method}${method === 'ddpm' ? `, schedule ${model.schedule}` : ''}; N = ${data.rows}, d = ${data.cols}, K = ${k}`,
    `${out.converged ? 'converged' : 'stopped at the step limit'} after ${out.nIter} steps in ${fmt(seconds)} s${last ? `; last loss ${fmt(last.loss)}` : ''}${last?.error !== undefined ? `, matched error max ${fmt(last.error)}` : ''}`,
    'means:',
    ...matrixLines(out.means),
    ...(historyPath !== undefined ? [`wrote ${historyPath}`] : []),
    ...(outPath !== undefined ? [`wrote ${outPath}`] : []),
  ]);
}
