// Checkpoints of a streamed fit (fit-streamed.ts), in one process or over ranks: rank 0 writes one at every
// log point; every rank reads it to resume (a shared file system). The run's settings, but for the number of
// steps, must match: a resumed run may also go on past the steps it first had. Log points re-derive the
// scaled centres from the reported ones, so a run resumed at one equals the uninterrupted run bit for bit.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { writeTextFile } from '../io/files.ts';
import { array, checkFile, checkWritten, flatRows, int, literal, matrix as rowsOf, measured, object, SchemaError, str } from '../io/schema.ts';
import type { HistoryEntry } from '../training/capability.ts';
import { matrix, toRows, type Matrix } from '../types.ts';

const FORMAT = 'ddpm-gmm-streamed-checkpoint';

/** The file's fields, declared once (src/io/schema.ts): the writer checks what it built, the reader what it read. */
const STREAMED_FILE = object({
  format: literal(FORMAT),
  version: literal(1),
  run: str(),
  done: int(0),
  centres: rowsOf(undefined, undefined),
  history: array(object({ step: int(0), loss: measured(), gradNorm: measured() }, { open: true }), { of: 'rows' }),
});

export interface StreamedCheckpoint {
  /** The run's settings as JSON, the number of steps excepted. */
  readonly run: string;
  /** Steps done: the next step's number. */
  readonly done: number;
  readonly centres: Matrix;
  readonly history: HistoryEntry[];
}

export function writeStreamedCheckpoint(path: string, c: StreamedCheckpoint): void {
  const file = { format: FORMAT, version: 1, run: c.run, done: c.done, centres: toRows(c.centres), history: c.history };
  checkWritten(STREAMED_FILE, file, 1, 'streamed checkpoint');
  writeTextFile(path, `${JSON.stringify(file)}\n`);
}

export function readStreamedCheckpoint(path: string, run: string, steps: number): StreamedCheckpoint {
  const label = `checkpoint (--resume) '${path}'`;
  let j: { format?: unknown; run?: unknown; done?: unknown; centres?: unknown; history?: unknown };
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${label} cannot be read (${(e as Error).message}); give a file written by --checkpoint`);
  }
  if (j === null || typeof j !== 'object' || j.format !== FORMAT) {
    throw new InputError(`${label} is not a streamed fit's checkpoint; give a file written by 'fit --schedule single --chunk-rows R --checkpoint FILE'`);
  }
  try {
    checkFile(STREAMED_FILE, j, 1);
  } catch (e) {
    throw e instanceof SchemaError ? new InputError(`${label} is damaged (its ${e.message}); rerun without --resume`) : e;
  }
  if (j.run !== run) throw new InputError(`${label} is of another run (data, chunk size or flags differ: ${j.run} vs ${run}); resume with the settings it was written with`);
  const done = j.done as number;
  if (done > steps) throw new InputError(`${label} is at step ${done} but --steps is ${steps}; give --steps ${done} or more`);
  const rows = j.centres as number[][];
  const d = rows[0]!.length;
  return { run, done, centres: matrix(rows.length, d, flatRows(rows, d)), history: j.history as HistoryEntry[] };
}
