// ddpm-gmm generate: a seeded balanced mixture and its true centres, both written atomically.
import { InputError } from '../errors.ts';
import { generateMixture } from '../mixtures.ts';
import { checkWritableLocation, encodeMatrix, matrixFormatOf, writeFilesAtomic } from '../io/files.ts';
import { boolFlag, numberFlag, parseFlags, requireNumber, requireString, stringFlag, type FlagSpec } from './args.ts';
import { fmt, printJson, printLines, requireFiniteOutput } from './output.ts';
import { guardPaths } from './paths.ts';
import { requireAllocatable } from './inputs.ts';

/** Well separated for every K, as on the page. */
const DEFAULT_SEPARATION = 8;

export const GENERATE_USAGE = `Usage: ddpm-gmm generate --k K --d D --n N --out X.npy [--truth MU.npy] [--separation S] [--seed SEED]
                         [--dtype float64|float32] [--json]

Writes N samples of the balanced mixture (1/K) sum_i N(mu*_i, I_d) to --out and, with
--truth, the K x d true centres (.npy or .csv by extension). Defaults: --separation ${DEFAULT_SEPARATION},
--seed 0. The true centres are K
Gaussian vectors scaled so that the closest two are exactly S apart (K = 1: one centre
of norm S/2); sample i belongs to component i % K.`;

const FLAGS: FlagSpec = {
  k: { type: 'string' },
  d: { type: 'string' },
  n: { type: 'string' },
  separation: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  truth: { type: 'string' },
  dtype: { type: 'string' },
  json: { type: 'boolean' },
};

export async function generateCommand(argv: string[]): Promise<void> {
  const v = parseFlags('generate', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([GENERATE_USAGE]);
  const k = requireNumber(v, 'k', 'generate');
  const d = requireNumber(v, 'd', 'generate');
  const n = requireNumber(v, 'n', 'generate');
  const separation = numberFlag(v, 'separation', DEFAULT_SEPARATION);
  const seed = numberFlag(v, 'seed', 0);
  const out = requireString(v, 'out', 'generate');
  const truthPath = stringFlag(v, 'truth');
  const dtype = stringFlag(v, 'dtype') ?? 'float64';
  if (dtype !== 'float64' && dtype !== 'float32') {
    throw new InputError(`--dtype must be 'float64' or 'float32', got '${dtype}'`);
  }
  // Check the destinations before generating, so a bad path fails fast.
  matrixFormatOf(out, '--out');
  checkWritableLocation(out, '--out');
  if (truthPath !== undefined) {
    matrixFormatOf(truthPath, '--truth');
    checkWritableLocation(truthPath, '--truth');
  }
  guardPaths([], [{ flag: '--out', path: out }, { flag: '--truth', path: truthPath }]);
  if (Number.isSafeInteger(n) && Number.isSafeInteger(d) && n > 0 && d > 0) requireAllocatable(n, d, '--n');
  const { data, truth } = generateMixture({ k, d, n, separation, seed });
  requireFiniteOutput({ data, truth }, 'generate');
  writeFilesAtomic([
    { path: out, content: () => encodeMatrix(out, data, { dtype }) },
    ...(truthPath !== undefined ? [{ path: truthPath, content: () => encodeMatrix(truthPath, truth, { dtype }) }] : []),
  ]);
  if (boolFlag(v, 'json')) return printJson({ n, d, k, separation, seed, out, truth: truthPath ?? null });
  await printLines([
    `wrote ${n} x ${d} samples of a ${k}-component mixture (minimum centre separation ${fmt(separation)}, seed ${seed}) to ${out}`,
    ...(truthPath !== undefined ? [`wrote the ${k} x ${d} true centres to ${truthPath}`] : []),
  ]);
}
