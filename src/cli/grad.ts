// ddpm-gmm grad: one DDPM loss and gradient evaluation (docs/math.md sections 4 and 5).
import { InputError } from '../errors.ts';
import type { NoiseSpec } from '../training/capability.ts';
import { toRows } from '../types.ts';
import {
  requireEnoughSamples,
  requireNoiseScale,
  requireNoiseShape,
  requireSameDimension,
  requireSeed,
  requireSquarableRows,
  requireTiedK,
  tiedCentres,
} from '../validate.ts';
import {
  backendFlag,
  boolFlag,
  exactlyOne,
  numberFlag,
  parseFlags,
  requireNumber,
  requireString,
  type FlagSpec,
} from './args.ts';
import { describeBackend } from '../backend-choice.ts';
import { backendJson, backendText, openCliBackend, stderrLog } from './open-backend.ts';
import { readFiniteMatrix } from './inputs.ts';
import { fmt, matrixLines, printJson, printLines, requireFiniteOutput, rowNorms } from './output.ts';

export const GRAD_USAGE = `Usage: ddpm-gmm grad --data X.npy --means M.npy --t T (--noise Z.npy | --seed SEED [--step STEP]) [--tied] [--backend auto|gpu|cpu] [--json]

Evaluates the DDPM loss L and its gradients at the centres in --means (K x d, unscaled
mu) at noise scale T > 0: gradCentres = dL/dmu, gradScaled = dL/dm with m = exp(-T) mu.
The noise z is an N x d file (--noise), or Philox noise from --seed at counter step
--step (default 0, 'fixed' noise). --tied: the symmetric two-centre student; --means is
then one row m or two rows m, -m, and the gradients are 1 x d (with respect to m).
Files are .npy (float32/float64, 2-D) or numeric CSV.`;

const FLAGS: FlagSpec = {
  data: { type: 'string' },
  means: { type: 'string' },
  t: { type: 'string' },
  noise: { type: 'string' },
  seed: { type: 'string' },
  step: { type: 'string' },
  tied: { type: 'boolean' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
};

export async function gradCommand(argv: string[]): Promise<void> {
  const v = parseFlags('grad', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([GRAD_USAGE]);
  const json = boolFlag(v, 'json');
  const tied = boolFlag(v, 'tied');
  const backendChoice = backendFlag(v);
  const t = requireNumber(v, 't', 'grad');
  requireNoiseScale(t);
  const dataPath = requireString(v, 'data', 'grad');
  const meansPath = requireString(v, 'means', 'grad');
  const noiseFrom = exactlyOne(v, 'noise', 'seed', 'grad');
  let seed = 0;
  let step = 0;
  if (noiseFrom === 'b') {
    seed = requireNumber(v, 'seed', 'grad');
    requireSeed(seed);
    step = numberFlag(v, 'step', 0);
    // Philox counter words are 32-bit (docs/math.md section 7).
    if (!Number.isSafeInteger(step) || step < 0 || step >= 2 ** 32) {
      throw new InputError(`--step must be an integer with 0 <= step < 2^32, got ${step}`);
    }
  } else if (v['step'] !== undefined) {
    throw new InputError(`--step only applies to --seed noise; drop it or use --seed instead of --noise`);
  }

  const data = readFiniteMatrix(dataPath, 'data (--data)');
  requireSquarableRows(data, `data (--data) file '${dataPath}'`);
  const rawMeans = readFiniteMatrix(meansPath, 'means (--means)');
  requireSquarableRows(rawMeans, `means (--means) file '${meansPath}'`);
  requireSameDimension(data, rawMeans, `means (--means) file '${meansPath}'`);
  if (tied && rawMeans.rows > 2) requireTiedK(rawMeans.rows);
  const means = tied ? tiedCentres(rawMeans, `means (--means) file '${meansPath}'`) : rawMeans;
  requireEnoughSamples(data.rows, tied ? 2 : means.rows);
  let noise: NoiseSpec;
  if (noiseFrom === 'a') {
    const z = readFiniteMatrix(String(v['noise']), 'noise (--noise)');
    requireNoiseShape(z, data, `noise (--noise) file '${String(v['noise'])}'`);
    noise = { kind: 'matrix', z };
  } else {
    noise = { kind: 'seed', seed, mode: 'fixed', step };
  }

  const backend = await openCliBackend(backendChoice, stderrLog(json));
  const info = describeBackend(backend);
  try {
    const result = await backend.lossAndGradient(data, means, { noiseScale: t, tied, noise });
    requireFiniteOutput(result, 'grad');
    if (json) {
      return await printJson({
        loss: result.loss,
        gradCentres: toRows(result.gradCentres),
        gradScaled: toRows(result.gradScaled),
        ...backendJson(info),
      });
    }
    const norms = rowNorms(result.gradCentres).map(fmt).join(', ');
    await printLines([
      `backend: ${backendText(info)}`,
      `problem: N = ${data.rows}, d = ${data.cols}, K = ${tied ? '2 (tied)' : means.rows}, t = ${t}, noise ${noiseFrom === 'a' ? `from ${String(v['noise'])}` : `seed ${seed}, step ${step}`}`,
      `loss: ${fmt(result.loss)}`,
      `|dL/dmu| per centre: ${norms}`,
      'dL/dmu (gradCentres):',
      ...matrixLines(result.gradCentres),
      'dL/dm (gradScaled):',
      ...matrixLines(result.gradScaled),
    ]);
  } finally {
    backend.dispose();
  }
}
