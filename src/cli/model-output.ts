// fit --out: a model file (.json), or the centres (.npy / .csv) with the model file beside them, so that a
// NumPy user gets a plain array and `ddpm-gmm predict` still gets a model.
import { extname } from 'node:path';
import { InputError } from '../errors.ts';
import { checkWritableLocation, encodeMatrix, writeFilesAtomic } from '../io/files.ts';
import type { ModelFile } from '../model-file.ts';
import type { Matrix } from '../types.ts';
import type { PathUse } from './paths.ts';

export interface ModelOutput {
  /** The K x d centres (.npy or .csv), when --out names one. */
  readonly centres?: string;
  /** The model file (.json). */
  readonly model: string;
}

/** Where --out writes; checked before the fit, so a bad path fails fast (the command's guardPaths checks its inputs). */
export function planModelOutput(path: string): ModelOutput {
  const ext = extname(path).toLowerCase();
  let out: ModelOutput;
  if (ext === '.json') out = { model: path };
  else if (ext === '.npy' || ext === '.csv') out = { centres: path, model: `${path.slice(0, -ext.length)}.json` };
  else {
    throw new InputError(`--out '${path}' must end in .json (the model file), or in .npy or .csv (the centres, with the model file written beside them as .json)`);
  }
  for (const p of [out.centres, out.model]) {
    if (p === undefined) continue;
    checkWritableLocation(p, '--out');
  }
  return out;
}

/** Writes the model file (with a command's extra keys) and the centres, all or nothing; returns the lines to print. */
/** The files --out writes, for guardPaths: the centres and the model file beside them, both as --out. */
export function modelOutputPaths(out: ModelOutput | undefined): PathUse[] {
  return [{ flag: '--out', path: out?.centres }, { flag: '--out', path: out?.model }];
}

export function writeModelOutput(out: ModelOutput, file: ModelFile & Record<string, unknown>, means: Matrix): string[] {
  const text = `${JSON.stringify(file, null, 2)}\n`;
  const centres = out.centres;
  writeFilesAtomic([
    ...(centres !== undefined ? [{ path: centres, content: () => encodeMatrix(centres, means) }] : []),
    { path: out.model, content: () => text },
  ]);
  const use = `for 'ddpm-gmm predict --model ${out.model}'`;
  if (centres === undefined) return [`wrote the model file ${out.model} (${use})`];
  return [`wrote the ${means.rows} x ${means.cols} centres to ${centres}, and the model file beside them to ${out.model} (${use})`];
}
