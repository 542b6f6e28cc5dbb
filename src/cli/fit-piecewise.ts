// ddpm-gmm fit --model piecewise: the piecewise score model (docs/math.md section 13) through its estimator
// (src/piecewise-estimator.ts) with the estimator's defaults, so the CLI runs the fit the library and the page run.
// Adds a progress bar over the ladder's levels and the model file, written only once the fit is complete.
import { extname } from 'node:path';
import { InputError } from '../errors.ts';
import { checkWritableLocation, writeFilesAtomic } from '../io/files.ts';
import { PIECEWISE_DEFAULTS, PiecewiseScoreModel, type PiecewiseLevelReport } from '../piecewise-estimator.ts';
import { backendFlag, boolFlag, numberFlag, stringFlag, type FlagValues } from './args.ts';
import { csvIndexFlag, readFiniteMatrix } from './inputs.ts';
import { backendJson, backendText, prepareBackend, stderrLog } from './open-backend.ts';
import { fmt, printJson, printLines, requireFiniteOutput } from './output.ts';
import { guardPaths } from './paths.ts';
import { Progress } from './progress.ts';

export const FIT_PIECEWISE_USAGE = `The piecewise score model (docs/math.md section 13): cells and a polynomial score per cell at each
level of a ladder of times, fitted by least squares on the DDPM objective; 'ddpm-gmm sample' reads its model file:
  ddpm-gmm fit --model piecewise --data X.npy [--degree 1|2] [--levels L] [--cells J] [--draws R]
               [--horizon T] [--t-min T] [--seed S] [--interpolation linear|nearest] [--ridge held-out|LAMBDA]
               [--backend auto|gpu|cpu] [--csv-index drop|keep|error] [--out model.json] [--json]
  --degree         1: affine per cell (default); 2: with diagonal quadratic terms
  --levels L       ladder levels, geometric from --horizon (default ${PIECEWISE_DEFAULTS.horizon}) down to --t-min (default ${PIECEWISE_DEFAULTS.tMin});
                   default ${PIECEWISE_DEFAULTS.levels}
  --cells J        cells (default ${PIECEWISE_DEFAULTS.cells}): k-means++ and Lloyd on the data; a cell with too few points is merged
  --draws R        noise draws per data row and level (default ${PIECEWISE_DEFAULTS.draws})
  --seed S         Philox seed of the draws and of k-means++ (default ${PIECEWISE_DEFAULTS.seed})
  --interpolation  how the score is read between levels: linear in t (default) or the nearest level
  --ridge          held-out (default: lambda chosen per level on a fifth of the rows, N >= 10) or a fixed
                   relative lambda >= 0, such as 1e-6
  --backend        where the per-cell sums run: auto (default), gpu or cpu
  --out FILE.json  the model file, for 'ddpm-gmm sample' and PiecewiseScoreModel.fromJSON`;

/** The flags of a piecewise fit; any other fit flag belongs to the student and is refused. */
export const PIECEWISE_FLAGS = ['degree', 'levels', 'cells', 'draws', 'seed', 'horizon', 't-min', 'interpolation', 'ridge'] as const;
const SHARED = ['model', 'data', 'csv-index', 'backend', 'out', 'json', 'help'];

function integerFlag(v: FlagValues, name: string, allowed?: readonly number[]): number | undefined {
  const n = numberFlag(v, name);
  if (n === undefined) return undefined;
  if (allowed && !allowed.includes(n)) throw new InputError(`--${name} must be ${allowed.join(' or ')}, got ${n}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`--${name} must be a positive whole number, got ${n}`);
  return n;
}

/** --ridge: 'held-out' or a relative lambda >= 0 (docs/math.md section 13). */
function ridgeFlag(v: FlagValues): 'held-out' | number | undefined {
  const text = stringFlag(v, 'ridge');
  if (text === undefined || text === 'held-out') return text;
  const lambda = Number(text);
  if (text.trim() === '' || !Number.isFinite(lambda) || lambda < 0) throw new InputError(`--ridge must be 'held-out' or a relative lambda >= 0 such as 1e-6, got '${text}'`);
  return lambda;
}

function summary(r: PiecewiseLevelReport): string {
  return `t ${fmt(r.t)}, ${r.cells} cells, loss ${fmt(r.loss)}`;
}

export async function fitPiecewiseCommand(v: FlagValues): Promise<void> {
  const stray = Object.keys(v).filter((k) => v[k] !== undefined && !SHARED.includes(k) && !(PIECEWISE_FLAGS as readonly string[]).includes(k));
  if (stray.length > 0) {
    throw new InputError(`--${stray[0]} is a flag of the student model, not of --model piecewise: drop it (see 'ddpm-gmm fit --help')`);
  }
  const json = boolFlag(v, 'json');
  const log = stderrLog(json);
  const backendChoice = backendFlag(v);
  const degree = integerFlag(v, 'degree', [1, 2]) as 1 | 2 | undefined;
  const levels = integerFlag(v, 'levels');
  const cells = integerFlag(v, 'cells');
  const draws = integerFlag(v, 'draws');
  const seed = numberFlag(v, 'seed');
  const horizon = numberFlag(v, 'horizon');
  const tMin = numberFlag(v, 't-min');
  const interpolation = stringFlag(v, 'interpolation');
  if (interpolation !== undefined && interpolation !== 'linear' && interpolation !== 'nearest') {
    throw new InputError(`--interpolation must be 'linear' or 'nearest', got '${interpolation}'`);
  }
  const ridge = ridgeFlag(v);
  const settings = { degree, levels, cells, draws, seed, horizon, tMin, interpolation: interpolation as 'linear' | 'nearest' | undefined, ridge };
  const dataPath = stringFlag(v, 'data');
  if (dataPath === undefined) throw new InputError("'fit' needs --data; see 'ddpm-gmm fit --help'");
  const outPath = stringFlag(v, 'out');
  if (outPath !== undefined) {
    if (extname(outPath).toLowerCase() !== '.json') throw new InputError(`--out '${outPath}' must end in .json: a piecewise model is a model file, with no centres to write as .npy or .csv`);
    checkWritableLocation(outPath, '--out');
  }
  guardPaths([{ flag: '--data', path: dataPath }], [{ flag: '--out', path: outPath }]);
  const total = levels ?? PIECEWISE_DEFAULTS.levels;
  const progress = new Progress({ total, label: 'fit (piecewise)', json });
  // The constructor checks every setting (naming it) before the data are read.
  const model = new PiecewiseScoreModel({
    ...Object.fromEntries(Object.entries(settings).filter(([, x]) => x !== undefined)),
    backend: await prepareBackend(backendChoice, log),
    log,
    onProgress: (r) => progress.update(r.level + 1, summary(r)),
  });
  const data = readFiniteMatrix(dataPath, 'data (--data)', csvIndexFlag(stringFlag(v, 'csv-index')));
  const start = performance.now();
  try {
    await model.fit(data);
  } finally {
    progress.finish();
    model.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const fitted = model.model!;
  const info = model.backendUsed!;
  const file = { ...model.toJSON(), reports: model.reports, settings: { ...settings, backend: backendChoice } };
  // The reports keep NaN for 'not applicable' (a held-out loss under a fixed ridge): the model itself is checked.
  requireFiniteOutput({ model: model.toJSON(), loss: model.reports.map((r) => r.loss) }, 'fit');
  if (outPath !== undefined) writeFilesAtomic([{ path: outPath, content: () => `${JSON.stringify(file, null, 2)}\n` }]);
  if (json) {
    return printJson({ model: 'piecewise', degree: fitted.degree, d: fitted.d, levels: model.reports, notes: model.notes, out: outPath ?? null, ...backendJson(info), seconds }, false);
  }
  const last = model.reports[model.reports.length - 1]!;
  await printLines([
    `backend: ${backendText(info)}`,
    `model: piecewise, degree ${fitted.degree}; N = ${data.rows}, d = ${data.cols}; ${fitted.levels.length} levels from t = ${fmt(fitted.levels[0]!.t)} to ${fmt(last.t)}`,
    `fitted in ${fmt(seconds)} s; the lowest level: ${summary(last)}`,
    ...model.notes.map((n) => `note: ${n}`),
    ...(outPath !== undefined ? [`wrote the model file ${outPath} (for 'ddpm-gmm sample --model ${outPath}')`] : []),
  ]);
}
