// One declaration per file kind (src/io/schema.ts, src/model-schema.ts, the checkpoint's in
// src/algorithms/checkpoint.ts): the writers check what they built against it, so a writer that breaks it is an
// internal error, and the reader's field list is the writer's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointOf, CHECKPOINT_FILE } from '../../src/algorithms/checkpoint.ts';
import type { LoopState } from '../../src/algorithms/loop-types.ts';
import { readStreamedCheckpoint, writeStreamedCheckpoint } from '../../src/cli/streamed-checkpoint.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { InputError } from '../../src/errors.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { checkWritten, declaredFields } from '../../src/io/schema.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { createModelFile, createPiecewiseModelFile, readModelFile } from '../../src/model-file.ts';
import { PIECEWISE_FILE, STUDENT_FILE } from '../../src/model-schema.ts';
import { initialStudent } from '../../src/training/student.ts';
import { matrix } from '../../src/types.ts';

const { data } = generateMixture({ k: 3, d: 4, n: 400, separation: 6, seed: 5 });
const fitted = new DdpmGmm({ nComponents: 3, backend: new CpuBackend(), seed: 1, maxSteps: 20 });
await fitted.fit(data);
const file = fitted.toJSON() as unknown as Record<string, unknown>;

describe('the model file schema', () => {
  it('a fitted default model writes exactly the declared fields of its version, and reads back', () => {
    expect(Object.keys(file).sort()).toEqual(declaredFields(STUDENT_FILE, file['version'] as number).sort());
    expect(readModelFile(JSON.stringify(file)).kind).toBe('student');
    // The paper's student on the data as given is version 1: none of version 3's fields.
    const paper = createModelFile({ means: matrix(2, 3), method: 'em', schedule: null, converged: true, nIter: 1, backendUsed: null }) as unknown as Record<string, unknown>;
    expect(Object.keys(paper).sort()).toEqual(declaredFields(STUDENT_FILE, 1).sort());
  });

  it('the writer refuses a file its schema refuses, as an internal error (not an InputError)', () => {
    const wrongRow = { ...file, variances: (file['variances'] as number[][]).map((r, i) => (i === 1 ? r.slice(1) : r)) };
    const written = (f: unknown): void => checkWritten(STUDENT_FILE, f, 3, 'model file');
    expect(() => written(wrongRow)).toThrow(/internal error: the model file writer built a file its schema refuses \(variances row 2 \(1-based\) must be an array of 4 numbers/);
    expect(() => written(wrongRow)).not.toThrow(InputError);
    const { nIter: _dropped, ...missing } = file;
    expect(() => written(missing)).toThrow(/internal error: .*nIter must be a whole number >= 0, got missing/);
    expect(() => written({ ...file, extra: 1 })).toThrow(/internal error: .*extra is not a declared field of version 3/);
    // A fit's means the writer cannot write (JSON would turn NaN into null) stop it before any file is made.
    expect(() => createModelFile({ means: matrix(1, 2, Float64Array.of(0, NaN)), method: 'em', schedule: null, converged: true, nIter: 1, backendUsed: null })).toThrow(
      /internal error: .*means row 1, column 2 \(1-based\) is NaN, not a finite number/,
    );
  });

  it('the reader checks the consistency between fields: weights summing to 1, the general fields together, the sizes', () => {
    const refused = (changes: Record<string, unknown>, message: RegExp): void => {
      expect(() => readModelFile({ ...file, ...changes })).toThrow(InputError);
      expect(() => readModelFile({ ...file, ...changes })).toThrow(message);
    };
    refused({ mixingWeights: [0.5, 0.5, 0.5] }, /mixingWeights must sum to 1 \(within 0\.000001\), got 1\.5/);
    refused({ mixingWeights: undefined }, /mixingWeights must be given with covariance and weights and variances/);
    refused({ scaling: { ...(file['scaling'] as object), centre: [1, 2] } }, /scaling\.centre must be 4 finite numbers, got an array of 2/);
  });

  it('a piecewise model writes the declared fields', () => {
    const score = { kind: 'piecewise' as const, d: 1, degree: 1 as const, interpolation: 'linear' as const, levels: [{ t: 1, cells: matrix(1, 1), coef: matrix(2, 1) }] };
    const pw = createPiecewiseModelFile({ score, backendUsed: null }) as unknown as Record<string, unknown>;
    expect(Object.keys(pw).sort()).toEqual(declaredFields(PIECEWISE_FILE, 2).sort());
    expect(() => checkWritten(PIECEWISE_FILE, { ...pw, score: { ...score, d: 2 } }, 2, 'model file')).toThrow(/internal error: .*dimension = 1 but its score has d = 2/);
  });
});

describe('the checkpoint schema', () => {
  const state: LoopState = {
    stageIndex: 0,
    stepInStage: 3,
    globalStep: 3,
    centres: matrix(2, 3),
    history: [],
    stageResults: [],
    seconds: 0,
    student: initialStudent('diag', 'learned', 2, 3),
  };

  it('writes exactly the declared fields, and refuses to write a state its schema refuses', () => {
    const ck = checkpointOf(state, 'fp', 0) as unknown as Record<string, unknown>;
    expect(Object.keys(ck).sort()).toEqual(declaredFields(CHECKPOINT_FILE, 1).filter((k) => k !== 'average').sort());
    // gamma of a diag student is K x d: a row short is a writer bug.
    const short = { ...state, student: { ...state.student!, gamma: matrix(2, 2) } };
    expect(() => checkpointOf(short, 'fp', 0)).toThrow(/internal error: the checkpoint writer built a file its schema refuses \(student\.gamma row 1 \(1-based\) must be an array of 3 numbers/);
    expect(() => checkpointOf({ ...state, stepInStage: -1 }, 'fp', 0)).toThrow(/internal error: .*stepInStage must be a whole number >= 0, got -1/);
  });
});

describe('the streamed checkpoint schema', () => {
  it('reads back what it wrote, and refuses damaged centres with an InputError naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-'));
    const path = join(dir, 'ck.json');
    const c = { run: 'r', done: 4, centres: matrix(2, 3, Float64Array.of(1, 2, 3, 4, 5, 6)), history: [{ step: 3, loss: 0.5, gradNorm: 0.25 }] };
    writeStreamedCheckpoint(path, c);
    expect(readStreamedCheckpoint(path, 'r', 10)).toEqual(c);
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const [centres, message] of [[[], /centres must be an array of one or more rows/], [[[1, 2], [3]], /centres row 2 \(1-based\) must be an array of 2 numbers/]] as const) {
      writeFileSync(path, JSON.stringify({ ...written, centres }));
      expect(() => readStreamedCheckpoint(path, 'r', 10)).toThrow(InputError);
      expect(() => readStreamedCheckpoint(path, 'r', 10)).toThrow(message);
    }
    expect(() => writeStreamedCheckpoint(path, { ...c, done: -1 })).toThrow(/internal error: the streamed checkpoint writer .*done must be a whole number >= 0, got -1/);
  });
});
