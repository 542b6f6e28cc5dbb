// ddpm-gmm predict with --chunk-rows or --memory-budget: labels, responsibilities and the average
// log-likelihood of a file read chunk by chunk (src/data/files.ts), written chunk by chunk, so that data larger
// than memory can be labelled. The same float64 function as the whole-data predict, rows summed in order: the
// same numbers.
import { mixtureLogLikelihood } from '../algorithms/matrix-math.ts';
import { chunkCount, parseSize } from '../data/source.ts';
import { openRowWriter, type FileSource, type RowWriter } from '../data/files.ts';
import { openFileSource } from '../data/open.ts';
import type { DdpmGmm } from '../estimator.ts';
import { InputError } from '../errors.ts';
import { matrix } from '../types.ts';
import { numberFlag, requireString, stringFlag, type FlagValues } from './args.ts';
import { csvIndexFlag } from './inputs.ts';
import { fmt, printJson, printLines } from './output.ts';

export async function predictStreamed(v: FlagValues, model: DdpmGmm, dataPath: string, outPath: string | undefined, probaPath: string | undefined, json: boolean): Promise<void> {
  const budget = v['memory-budget'] !== undefined ? parseSize(requireString(v, 'memory-budget', 'predict')) : undefined;
  const wanted = numberFlag(v, 'chunk-rows');
  const means = model.means!;
  const k = means.rows;
  const label = `data (--data) file '${dataPath}'`;
  const source: FileSource = await openFileSource(dataPath, { budget, chunkRows: wanted, csv: csvIndexFlag(stringFlag(v, 'csv-index')), label });
  const writers: RowWriter[] = [];
  try {
    if (source.cols !== means.cols) {
      throw new InputError(`${label} has d = ${source.cols} columns but the model was fitted in d = ${means.cols}; give data with the model's ${means.cols} columns`);
    }
    const out = outPath !== undefined ? await openRowWriter(outPath, source.rows, 1) : undefined;
    if (out) writers.push(out);
    const probaOut = probaPath !== undefined ? await openRowWriter(probaPath, source.rows, k) : undefined;
    if (probaOut) writers.push(probaOut);
    const counts = new Array<number>(k).fill(0);
    let llSum = 0;
    for (let c = 0; c < chunkCount(source); c++) {
      const { rows } = await source.chunk(c);
      const proba = matrix(rows.rows, k);
      const ll = mixtureLogLikelihood(rows, means, proba.data);
      const labels = matrix(rows.rows, 1);
      for (let i = 0; i < rows.rows; i++) {
        llSum += ll[i]!;
        let best = 0;
        for (let j = 1; j < k; j++) if (proba.data[i * k + j]! > proba.data[i * k + best]!) best = j;
        labels.data[i] = best;
        counts[best]!++;
      }
      await out?.write(labels);
      await probaOut?.write(proba);
    }
    for (const w of writers) await w.finish();
    writers.length = 0;
    const score = llSum / source.rows;
    if (json) {
      return printJson({ n: source.rows, d: source.cols, nComponents: k, counts, averageLogLikelihood: score, chunkRows: source.chunkRows, ...(outPath !== undefined ? { out: outPath } : {}), ...(probaPath !== undefined ? { probaOut: probaPath } : {}) });
    }
    await printLines([
      `data: N = ${source.rows}, read ${source.chunkRows} rows a chunk; average log-likelihood ${fmt(score)}`,
      `rows per component: ${counts.map((n, i) => `${i}: ${n}`).join(', ')}`,
      ...(outPath !== undefined ? [`wrote ${outPath} (the 0-based component of each row)`] : []),
      ...(probaPath !== undefined ? [`wrote ${probaPath} (the ${source.rows} x ${k} responsibilities)`] : []),
    ]);
  } finally {
    for (const w of writers) await w.abort();
    await source.close();
  }
}
