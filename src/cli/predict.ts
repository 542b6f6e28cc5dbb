// ddpm-gmm predict: labels and responsibilities for new data under a model file that `fit --out` wrote,
// through DdpmGmm.fromJSON. No backend: the responsibilities are one float64 pass over the data on the host
// (O(N K d), docs/math.md section 9), the same function the estimator's predict uses.
import { DdpmGmm } from '../estimator.ts';
import { InputError } from '../errors.ts';
import { checkWritableLocation, encodeMatrix, matrixFormatOf, readFileBounded, writeFilesAtomic, type PendingFile } from '../io/files.ts';
import { matrix, toRows } from '../types.ts';
import { boolFlag, parseFlags, requireString, stringFlag, type FlagSpec } from './args.ts';
import { csvIndexFlag, readFiniteMatrix } from './inputs.ts';
import { fmt, printJson, printLines, requireFiniteOutput } from './output.ts';
import { backendText } from './open-backend.ts';
import { guardPaths } from './paths.ts';
import { predictStreamed } from './predict-streamed.ts';

export const PREDICT_USAGE = `Usage: ddpm-gmm predict --model MODEL.json --data X.npy [--out LABELS.csv|LABELS.npy]
                       [--proba P.npy|P.csv] [--csv-index drop|keep|error] [--chunk-rows R | --memory-budget SIZE] [--json]

Labels each row of --data (N x d) with its most likely component under a model written by
'ddpm-gmm fit --out' (a 0-based index), and gives the N x K responsibilities w_i(x) of the
balanced mixture (1/K) sum_i N(mu_i, I). Computed in float64 on the host; no GPU is needed.
  --out FILE    the labels, one per row (N x 1; whole numbers, stored as float64 in .npy)
  --proba FILE  the responsibilities, N x K, each row summing to 1
  --json        print {n, d, nComponents, labels, proba, counts, averageLogLikelihood, ...}
  --chunk-rows R, --memory-budget SIZE
                read and write the data chunk by chunk (data larger than memory): the same numbers;
                --json then prints the counts and the log-likelihood, not every label`;

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  proba: { type: 'string' },
  json: { type: 'boolean' },
  'chunk-rows': { type: 'string' },
  'memory-budget': { type: 'string' },
};

/** Reads and checks a student model file, naming it in every error; `options` go to DdpmGmm.fromJSON (e.g. the backend). */
export function readModel(path: string, options: Parameters<typeof DdpmGmm.fromJSON>[1] = {}): DdpmGmm {
  return readModelWith(path, (json) => DdpmGmm.fromJSON(json, options));
}

/** Reads a model file's JSON and hands it to `load`, naming the file (--model) in every error. */
export function readModelWith<T>(path: string, load: (json: unknown) => T): T {
  const label = `model file (--model) '${path}'`;
  let text: string;
  try {
    text = new TextDecoder('utf-8').decode(readFileBounded(path, label));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    if (code === 'ENOENT') throw new InputError(`${label} does not exist; check the path, or write one with 'ddpm-gmm fit --out model.json'`);
    if (code === 'EISDIR') throw new InputError(`${label} is a directory, not a file; check the path`);
    throw new InputError(`${label} cannot be read (${e instanceof Error ? e.message : String(e)}); check the path`);
  }
  let json: unknown;
  try {
    // A byte-order mark, as some Windows editors write, is accepted as it is in CSV.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InputError(`${label} is not valid JSON (${e instanceof Error ? e.message : String(e)}); give a file written by 'ddpm-gmm fit --out model.json'`);
  }
  try {
    return load(json);
  } catch (e) {
    throw e instanceof InputError ? new InputError(`${label}: ${e.message}`) : e;
  }
}

export async function predictCommand(argv: string[]): Promise<void> {
  const v = parseFlags('predict', argv, FLAGS);
  if (boolFlag(v, 'help')) return printLines([PREDICT_USAGE]);
  const json = boolFlag(v, 'json');
  const modelPath = requireString(v, 'model', 'predict');
  const dataPath = requireString(v, 'data', 'predict');
  const outPath = stringFlag(v, 'out');
  const probaPath = stringFlag(v, 'proba');
  // Check the destinations before any work, so a bad path fails fast and nothing is half-written.
  for (const [flag, path] of [['--out', outPath], ['--proba', probaPath]] as const) {
    if (path === undefined) continue;
    matrixFormatOf(path, flag);
    checkWritableLocation(path, flag);
  }
  guardPaths([{ flag: '--model', path: modelPath }, { flag: '--data', path: dataPath }], [{ flag: '--out', path: outPath }, { flag: '--proba', path: probaPath }]);

  const model = readModel(modelPath);
  if (v['chunk-rows'] !== undefined || v['memory-budget'] !== undefined) return predictStreamed(v, model, dataPath, outPath, probaPath, json);
  const data = readFiniteMatrix(dataPath, 'data (--data)', csvIndexFlag(stringFlag(v, 'csv-index')));
  const d = model.dimension!;
  if (data.cols !== d) {
    throw new InputError(
      `data (--data) file '${dataPath}' has d = ${data.cols} columns but the model (--model) '${modelPath}' was fitted in d = ${d}; give data with the model's ${d} columns, or the model fitted on this data`,
    );
  }
  const labels = model.predict(data);
  const proba = model.predictProba(data);
  const score = model.score(data);
  requireFiniteOutput({ proba, averageLogLikelihood: score }, 'predict');
  const k = model.nComponents;
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) counts[l]!++;

  const files: PendingFile[] = [];
  if (outPath !== undefined) files.push({ path: outPath, content: () => encodeMatrix(outPath, matrix(labels.length, 1, Float64Array.from(labels))) });
  if (probaPath !== undefined) files.push({ path: probaPath, content: () => encodeMatrix(probaPath, proba) });
  writeFilesAtomic(files);

  if (json) {
    return printJson({
      n: data.rows,
      d,
      nComponents: k,
      labels: Array.from(labels),
      proba: toRows(proba),
      counts,
      averageLogLikelihood: score,
      ...(outPath !== undefined ? { out: outPath } : {}),
      ...(probaPath !== undefined ? { probaOut: probaPath } : {}),
    });
  }
  const shown = 20;
  await printLines([
    `model: K = ${k}, d = ${d}, method ${model.method}${model.method === 'ddpm' ? ` (schedule ${model.schedule})` : ''}${model.backendUsed ? `, fitted on ${backendText(model.backendUsed)}` : ''}`,
    `data: N = ${data.rows}; average log-likelihood ${fmt(score)}`,
    `rows per component: ${counts.map((c, i) => `${i}: ${c}`).join(', ')}`,
    ...(outPath === undefined
      ? [`labels${labels.length > shown ? ` (first ${shown} rows; --out FILE writes all)` : ''}: ${Array.from(labels.subarray(0, shown)).join(' ')}`]
      : [`wrote ${outPath} (the 0-based component of each row)`]),
    ...(probaPath !== undefined ? [`wrote ${probaPath} (the ${data.rows} x ${k} responsibilities)`] : []),
  ]);
}
