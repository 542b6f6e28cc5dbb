// ddpm-gmm demo: one self-contained run to see the engine work without a data file: a default synthetic
// mixture, the paper's warm start (Theorem 16), Algorithm 1 as `fit --schedule single` runs it, and the
// centre error against the truth.
import { DivergenceError } from '../errors.ts';
import { generateMixture } from '../mixtures.ts';
import { centreError, minPairwiseDistance } from '../centre-error.ts';
import { toRows } from '../types.ts';
import { type GdResult } from '../training/capability.ts';
import { requireLearningRate, requireNoiseScale, requireSteps } from '../validate.ts';
import { warmStart } from '../algorithms/seeding.ts';
import { describeBackend } from '../backend-choice.ts';
import { backendFlag, boolFlag, numberFlag, parseFlags, type FlagSpec } from './args.ts';
import { backendJson, backendText, openCliBackend, stderrLog } from './open-backend.ts';
import { fmt, printJson, printLines, requireFiniteOutput } from './output.ts';
import { Progress } from './progress.ts';
import { divergenceAdvice } from './run.ts';

/** The default problem and run: large enough to show the GPU's speed, short enough for a software adapter. */
export const DEMO_DEFAULTS = {
  k: 4,
  d: 16,
  n: 65536,
  separation: 8,
  seed: 1,
  t: 0.5,
  // Enough steps to reach the sampling-noise floor from the warm start, with margin (docs/cli.md shows a run).
  lr: 1,
  steps: 25,
} as const;

export const DEMO_USAGE = `Usage: ddpm-gmm demo [--k K] [--d D] [--n N] [--separation S] [--seed SEED]
                     [--t T] [--lr ETA] [--steps H] [--backend auto|gpu|cpu] [--json]

Generates a balanced mixture (defaults: K = ${DEMO_DEFAULTS.k}, d = ${DEMO_DEFAULTS.d}, N = ${DEMO_DEFAULTS.n}, separation ${DEMO_DEFAULTS.separation}, seed ${DEMO_DEFAULTS.seed}),
starts each centre a third of the minimum separation away from its true centre in a
random direction (the paper's warm start, Theorem 16), runs Algorithm 1 at
t = ${DEMO_DEFAULTS.t} with lr = ${DEMO_DEFAULTS.lr} for ${DEMO_DEFAULTS.steps} steps with fresh noise, and reports the centre error
after matching to the truth, the loss, the time and the sample-gradients per second.`;

const FLAGS: FlagSpec = {
  k: { type: 'string' },
  d: { type: 'string' },
  n: { type: 'string' },
  separation: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  t: { type: 'string' },
  lr: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
};

export async function demoCommand(argv: string[]): Promise<void> {
  const v = parseFlags('demo', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([DEMO_USAGE]);
  const json = boolFlag(v, 'json');
  const backendChoice = backendFlag(v);
  const D = DEMO_DEFAULTS;
  const k = numberFlag(v, 'k', D.k);
  const d = numberFlag(v, 'd', D.d);
  const n = numberFlag(v, 'n', D.n);
  const separation = numberFlag(v, 'separation', D.separation);
  const seed = numberFlag(v, 'seed', D.seed);
  const t = numberFlag(v, 't', D.t);
  const lr = numberFlag(v, 'lr', D.lr);
  const steps = numberFlag(v, 'steps', D.steps);
  requireNoiseScale(t);
  requireLearningRate(lr);
  requireSteps(steps);
  const { data, truth } = generateMixture({ k, d, n, separation, seed });
  // K = 1 has no pair: displace by a third of the distance scale the generator used (S).
  const minSep = k > 1 ? minPairwiseDistance(truth) : separation;
  const init = warmStart(truth, minSep / 3, seed);
  const initialError = centreError(init, truth);

  const backend = await openCliBackend(backendChoice, stderrLog(json));
  const info = describeBackend(backend);
  const progress = new Progress({ total: steps, label: 'demo', json });
  let result: GdResult;
  let seconds: number;
  let initialLoss: number;
  let finalLoss: number;
  // The loss on one shared noise draw (step 0) before and after: fresh-noise losses differ by their noise.
  const sameNoise = { noiseScale: t, tied: false, noise: { kind: 'seed', seed, mode: 'fixed', step: 0 } } as const;
  try {
    initialLoss = (await backend.lossAndGradient(data, init, sameNoise)).loss;
    const start = performance.now();
    result = await backend.gdSteps(data, init, {
      noiseScale: t,
      tied: false,
      noise: { kind: 'seed', seed, mode: 'fresh' },
      steps,
      lr,
      // Each log point reads back from the GPU: a handful is enough for the summary.
      logEvery: Math.max(1, Math.floor(steps / 5)),
      onProgress: (p) => progress.update(p.done, `loss ${fmt(p.last.loss)}`),
    });
    seconds = (performance.now() - start) / 1000;
    progress.finish();
    finalLoss = (await backend.lossAndGradient(data, result.centres, sameNoise)).loss;
  } catch (e) {
    throw e instanceof DivergenceError ? divergenceAdvice(e, lr) : e;
  } finally {
    progress.finish();
    backend.dispose();
  }
  const error = centreError(result.centres, truth);
  const sampleGradsPerSec = (n * result.nIter) / seconds;
  const last = result.history[result.history.length - 1]!;
  requireFiniteOutput({ means: result.centres, history: result.history, initialLoss, finalLoss, error }, 'demo');
  if (json) {
    return printJson({
      ...backendJson(info),
      problem: { k, d, n, separation, seed },
      settings: { t, lr, steps, noise: 'fresh', init: 'truth + separation/3 in a random direction' },
      initialError: { max: initialError.max, mean: initialError.mean },
      error: { max: error.max, mean: error.mean, matching: error.method },
      means: toRows(result.centres),
      truth: toRows(truth),
      loss: { initial: initialLoss, final: finalLoss, noise: 'the same draw (seed, step 0) for both' },
      history: result.history,
      nIter: result.nIter,
      seconds,
      sampleGradsPerSec,
    });
  }
  await printLines([
    `backend: ${backendText(info)}`,
    `problem: K = ${k} centres in d = ${d}, N = ${n} samples, minimum separation ${fmt(minSep)}, seed ${seed}`,
    `run: Algorithm 1 at t = ${t}, lr = ${lr}, ${steps} steps, fresh noise; warm start ${fmt(minSep / 3)} from each true centre`,
    `centre error (matched, ${error.method}): max ${fmt(error.max)}, mean ${fmt(error.mean)} (initially max ${fmt(initialError.max)}, mean ${fmt(initialError.mean)})`,
    `loss (same noise draw): ${fmt(initialLoss)} at the warm start -> ${fmt(finalLoss)} after ${result.nIter} steps; last logged |dL/dm| ${fmt(last.gradNorm)} (step ${last.step})`,
    `time: ${fmt(seconds)} s, ${fmt(sampleGradsPerSec)} sample-gradients/s (N x steps / seconds)`,
  ]);
}
