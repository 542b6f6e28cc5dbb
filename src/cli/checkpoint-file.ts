// Checkpoint files of `ddpm-gmm fit` (--checkpoint, --resume): the file side of src/algorithms/checkpoint.ts,
// which keeps the runtime-neutral text form. A file is written whole or not at all (writeTextFile renames a
// temporary file), so a run killed while writing leaves the previous checkpoint usable.
import { readFileSync } from 'node:fs';
import { serializeCheckpoint, stateFromCheckpoint } from '../algorithms/checkpoint.ts';
import type { LoopState } from '../algorithms/loop.ts';
import { InputError } from '../errors.ts';
import { writeTextFile } from '../io/files.ts';

export function writeCheckpoint(path: string, state: LoopState, fingerprint: string, noiseSeed: number): void {
  writeTextFile(path, serializeCheckpoint(state, fingerprint, noiseSeed));
}

/** Reads a checkpoint and checks it belongs to this run; returns the loop state to resume from. */
export function readCheckpoint(path: string, fingerprint: string, noiseSeed: number): LoopState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf-8').replace(/^\uFEFF/, ''));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InputError(`cannot read the checkpoint '${path}' (${why}); give a file written by --checkpoint`);
  }
  return stateFromCheckpoint(parsed, fingerprint, noiseSeed, path);
}
