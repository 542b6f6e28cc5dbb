// Checkpoints of a streamed fit (fit-streamed.ts), in one process or over ranks: rank 0 writes one at every
// log point; every rank reads it to resume (a shared file system). The run's settings, but for the number of
// steps, must match: a resumed run may also go on past the steps it first had. Log points re-derive the
// scaled centres from the reported ones, so a run resumed at one equals the uninterrupted run bit for bit.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { writeTextFile } from '../io/files.ts';
import type { HistoryEntry } from '../training/capability.ts';
import { matrix, toRows, type Matrix } from '../types.ts';

const FORMAT = 'ddpm-gmm-streamed-checkpoint';

export interface StreamedCheckpoint {
  /** The run's settings as JSON, the number of steps excepted. */
  readonly run: string;
  /** Steps done: the next step's number. */
  readonly done: number;
  readonly centres: Matrix;
  readonly history: HistoryEntry[];
}

export function writeStreamedCheckpoint(path: string, c: StreamedCheckpoint): void {
  writeTextFile(path, `${JSON.stringify({ format: FORMAT, version: 1, run: c.run, done: c.done, centres: toRows(c.centres), history: c.history })}\n`);
}

export function readStreamedCheckpoint(path: string, run: string, steps: number): StreamedCheckpoint {
  const label = `checkpoint (--resume) '${path}'`;
  let j: { format?: unknown; run?: unknown; done?: unknown; centres?: unknown; history?: unknown };
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${label} cannot be read (${(e as Error).message}); give a file written by --checkpoint`);
  }
  if (j.format !== FORMAT || typeof j.run !== 'string' || !Number.isSafeInteger(j.done) || !Array.isArray(j.centres) || !Array.isArray(j.history)) {
    throw new InputError(`${label} is not a streamed fit's checkpoint; give a file written by 'fit --schedule single --chunk-rows R --checkpoint FILE'`);
  }
  if (j.run !== run) throw new InputError(`${label} is of another run (data, chunk size or flags differ: ${j.run} vs ${run}); resume with the settings it was written with`);
  const done = j.done as number;
  if (done > steps) throw new InputError(`${label} is at step ${done} but --steps is ${steps}; give --steps ${done} or more`);
  const rows = j.centres as number[][];
  return { run, done, centres: matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat())), history: j.history as HistoryEntry[] };
}
