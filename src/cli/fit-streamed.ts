// ddpm-gmm fit --schedule single with --chunk-rows or --memory-budget: Algorithm 1 on data streamed from the
// file in chunks (src/data/files.ts) through the chunked trainer (src/training/chunked.ts), in one process or
// as one rank of several (src/ranks/: the launcher's variables, the gRPC rendezvous). The numbers depend on the
// chunk size only: the same file, flags and --chunk-rows give the same bits in memory, streamed, or over ranks.
import { seededRowIndices } from '../algorithms/seeding.ts';
import { describeBackend } from '../backend-choice.ts';
import { parseSize, rowsOf } from '../data/source.ts';
import { type FileSource } from '../data/files.ts';
import { openFileSource } from '../data/open.ts';
import { DivergenceError, InputError } from '../errors.ts';
import { createModelFile } from '../model-file.ts';
import { coordinatorOf, rankFromEnv } from '../ranks/launcher.ts';
import { joinRanks, type RankReducer } from '../ranks/grpc.ts';
import { chunkedTrainer } from '../training/chunked.ts';
import { toRows, type Matrix } from '../types.ts';
import { requireEnoughSamples, requireSeed, tiedCentres } from '../validate.ts';
import { backendFlag, boolFlag, numberFlag, requireString, stringFlag, type FlagValues } from './args.ts';
import { algorithm1Flags, refuseGeneralStudentFlags } from './fit-single.ts';
import { csvIndexFlag, readFiniteMatrix } from './inputs.ts';
import { modelOutputPaths, planModelOutput, writeModelOutput } from './model-output.ts';
import { backendJson, backendText, openCliBackend, stderrLog } from './open-backend.ts';
import { fmt, matrixLines, printJson, printLines } from './output.ts';
import { divergenceAdvice } from './run.ts';
import { readStreamedCheckpoint, writeStreamedCheckpoint } from './streamed-checkpoint.ts';
import { guardPaths } from './paths.ts';
import type { GdProgress } from '../training/capability.ts';

/** The flags that make a fit stream, and what they need. */
export const STREAM_FLAGS = ['chunk-rows', 'memory-budget', 'coordinator'] as const;

export function wantsStreaming(v: FlagValues): boolean {
  return v['chunk-rows'] !== undefined || v['memory-budget'] !== undefined || (rankFromEnv(process.env)?.world ?? 1) > 1;
}

export async function fitStreamedCommand(v: FlagValues): Promise<void> {
  refuseGeneralStudentFlags(v);
  for (const flag of ['truth', 'history', 'checkpoint-every', 'tol', 'average-steps', 'connections', 'restarts', 'n-init', 'method']) {
    if (v[flag] !== undefined) throw new InputError(`--${flag} is not available for a streamed fit (--chunk-rows, --memory-budget or ranks), which runs Algorithm 1 (--schedule single); drop --${flag}`);
  }
  const json = boolFlag(v, 'json');
  const tied = boolFlag(v, 'tied');
  const { k, t, steps, lr, noiseSeed, noiseMode, logEvery } = algorithm1Flags(v, tied);
  const initPath = stringFlag(v, 'init');
  if (initPath !== undefined && v['init-seed'] !== undefined) throw new InputError("'fit' takes one of --init and --init-seed, not both; see 'ddpm-gmm fit --help'");
  const initSeed = numberFlag(v, 'init-seed', 0);
  requireSeed(initSeed, 'the initialisation seed (--init-seed)');
  const budget = v['memory-budget'] !== undefined ? parseSize(requireString(v, 'memory-budget', 'fit')) : undefined;
  const wantedRows = numberFlag(v, 'chunk-rows');
  const dataPath = requireString(v, 'data', 'fit');
  const ranks = rankFromEnv(process.env);
  const rank = ranks?.rank ?? 0;
  const outPath = stringFlag(v, 'out');
  const output = outPath !== undefined && rank === 0 ? planModelOutput(outPath) : undefined;
  // Every file it writes against every file it reads, before any work (src/cli/paths.ts).
  guardPaths(
    [{ flag: '--data', path: dataPath }, { flag: '--init', path: initPath }, { flag: '--resume', path: stringFlag(v, 'resume') }],
    [{ flag: '--checkpoint', path: stringFlag(v, 'checkpoint') }, ...modelOutputPaths(output)],
    [['--resume', '--checkpoint']],
  );

  const label = `data (--data) file '${dataPath}'`;
  const source: FileSource = await openFileSource(dataPath, { budget, chunkRows: wantedRows, csv: csvIndexFlag(stringFlag(v, 'csv-index')), label });
  let reducer: RankReducer | undefined;
  try {
    requireEnoughSamples(source.rows, k);
    let init: Matrix;
    if (initPath !== undefined) {
      const raw = readFiniteMatrix(initPath, 'initial centres (--init)');
      const what = `initial centres (--init) file '${initPath}'`;
      if (raw.cols !== source.cols) throw new InputError(`${what} has d = ${raw.cols} columns but the data has ${source.cols}; give centres in the data's dimension`);
      if (tied) init = tiedCentres(raw, what);
      else if (raw.rows !== k) throw new InputError(`${what} has ${raw.rows} rows but --k is ${k}; give one row per centre`);
      else init = raw;
    } else {
      const rows = await rowsOf(source, seededRowIndices(source.rows, k, initSeed));
      const d = rows.cols;
      init = tied ? { rows: 1, cols: d, data: rows.data.slice(0, d).map((x, c) => (x - rows.data[d + c]!) / 2) } : rows;
    }
    const backendChoice = backendFlag(v);
    const run = JSON.stringify({ n: source.rows, d: source.cols, chunkRows: source.chunkRows, k, t, lr, tied, noiseMode, noiseSeed, logEvery, init: Array.from(init.data) });
    const checkpointPath = stringFlag(v, 'checkpoint');
    const resumePath = stringFlag(v, 'resume');
    const resumed = resumePath !== undefined ? readStreamedCheckpoint(resumePath, run, steps) : undefined;
    const done = resumed?.done ?? 0;
    if (ranks && ranks.world > 1) {
      const { host, port } = coordinatorOf(stringFlag(v, 'coordinator'), process.env);
      const timeoutMs = 1000 * Number(process.env['DDPM_GMM_RANK_TIMEOUT'] ?? 60);
      // What every rank must agree on; the backend may differ (a rank's partials are its device's).
      const fingerprint = JSON.stringify({ run, steps, done, centres: resumed ? Array.from(resumed.centres.data) : null });
      reducer = await joinRanks({ ...ranks, host: rank === 0 ? (process.env['DDPM_GMM_LISTEN'] ?? host) : host, port, fingerprint, timeoutMs });
      process.stderr.write(`rank ${rank} of ${ranks.world} (${ranks.launcher}) joined at ${host}:${port}; chunks of ${source.chunkRows} rows\n`);
    }
    const backend = await openCliBackend(backendChoice, stderrLog(json));
    const info = describeBackend(backend);
    const trainer = chunkedTrainer(backend, source.chunkRows, reducer);
    const handle = trainer.open(source);
    const start = performance.now();
    let result: { centres: Matrix; history: GdProgress['last'][]; nIter: number };
    try {
      const history = resumed?.history.slice() ?? [];
      const onProgress = (p: GdProgress): void => {
        history.push(p.last);
        if (checkpointPath !== undefined && rank === 0) writeStreamedCheckpoint(checkpointPath, { run, done: done + p.done, centres: p.centres, history });
      };
      const r = done < steps
        ? await trainer.gdSteps(handle, resumed?.centres ?? init, { noiseScale: t, lr, steps: steps - done, startStep: done, tied, logEvery, noise: { kind: 'seed', seed: noiseSeed, mode: noiseMode }, onProgress })
        : { centres: resumed!.centres };
      result = { centres: r.centres, history, nIter: steps };
    } catch (e) {
      throw e instanceof DivergenceError ? divergenceAdvice(e, lr) : e;
    } finally {
      handle.dispose();
      backend.dispose();
    }
    const seconds = (performance.now() - start) / 1000;
    const means = tied ? { rows: 2, cols: result.centres.cols, data: Float64Array.from([...result.centres.data, ...result.centres.data.map((x) => -x)]) } : result.centres;
    if (rank !== 0) return;
    const settings = { data: dataPath, n: source.rows, d: source.cols, k, t, steps, lr, tied, noise: { mode: noiseMode, seed: noiseSeed }, init: initPath !== undefined ? { file: initPath } : { seed: initSeed }, logEvery, backend: backendChoice, chunkRows: source.chunkRows, ranks: ranks?.world ?? 1 };
    const file = createModelFile({ means, method: 'ddpm', schedule: 'single', converged: false, nIter: result.nIter, backendUsed: info });
    const wrote = output ? writeModelOutput(output, { ...file, history: result.history, settings }, means) : [];
    if (json) return printJson({ means: toRows(means), history: result.history, nIter: result.nIter, ...backendJson(info), seconds, chunkRows: source.chunkRows, ranks: ranks?.world ?? 1 });
    const last = result.history[result.history.length - 1];
    await printLines([
      `backend: ${backendText(info)}; ${ranks?.world ?? 1} rank(s), ${source.chunkRows} rows a chunk`,
      `problem: N = ${source.rows}, d = ${source.cols}, K = ${k}; Algorithm 1 at t = ${t}, ${steps} steps, lr = ${lr}, ${noiseMode} noise (seed ${noiseSeed})`,
      `loss: ${last ? fmt(last.loss) : '?'} at step ${last?.step ?? '?'}; time ${fmt(seconds)} s`,
      'means:',
      ...matrixLines(means),
      ...wrote,
    ]);
  } finally {
    await reducer?.close();
    await source.close();
  }
}
