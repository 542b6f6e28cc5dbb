// Property-based tests of the model-file and checkpoint readers (issue 18): any JSON, any damage to a written file
// and any text give a valid model or state, or an InputError naming the file; what the writers write reads back
// the same. Seeded (test/support/properties.ts): a failure prints its seed and shrunk case, and reruns the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint, serializeCheckpoint } from '../../src/algorithms/checkpoint.ts';
import type { LoopState } from '../../src/algorithms/loop-types.ts';
import { SCHEDULES } from '../../src/algorithms/schedules.ts';
import { METHODS } from '../../src/methods.ts';
import { createModelFile, createPiecewiseModelFile, readModelFile, type FittedModel } from '../../src/model-file.ts';
import { featureCount, type PiecewiseModel } from '../../src/piecewise/model.ts';
import { checkPiecewiseModel } from '../../src/piecewise/checks.ts';
import { checkStudent, COVARIANCES, VARIANCE_FLOOR, varianceColumns, WEIGHTINGS, type StudentParams } from '../../src/training/student.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { matrixArb, mutate, mutationArb, refusesOrReads, runs } from '../support/properties.ts';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const rowsArb = (rows: number, cols: number, value: fc.Arbitrary<number> = finite): fc.Arbitrary<Matrix> =>
  fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((data) => matrix(rows, cols, Float64Array.from(data)));
const backendArb = fc.option(fc.record({ kind: fc.constantFrom('gpu' as const, 'cpu' as const), adapter: fc.string({ maxLength: 12 }), software: fc.boolean() }), { nil: null });

function studentArb(k: number, d: number): fc.Arbitrary<StudentParams> {
  return fc.tuple(fc.constantFrom(...COVARIANCES), fc.constantFrom(...WEIGHTINGS)).chain(([covariance, weights]) =>
    fc.record({
      covariance: fc.constant(covariance),
      weights: fc.constant(weights),
      gamma: rowsArb(k, varianceColumns(covariance, d), fc.double({ min: -30, max: 30, noNaN: true })),
      beta: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: k, maxLength: k }).map((b) => Float64Array.from(b)),
    }),
  );
}

/** A fitted student of each kind: the paper's, scaled, general (spherical/diag, learned weights), or both. */
const fittedArb: fc.Arbitrary<FittedModel> = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(...METHODS)).chain(([k, d, method]) =>
  fc.record({
    means: rowsArb(k, d),
    student: fc.option(studentArb(k, d), { nil: undefined }),
    method: fc.constant(method),
    schedule: method === 'ddpm' ? fc.constantFrom(...SCHEDULES) : fc.constant(null),
    converged: fc.boolean(),
    nIter: fc.nat(),
    backendUsed: backendArb,
    scaling: fc.option(
      fc.record({ method: fc.constantFrom('within' as const, 'standard' as const), centre: rowsArb(1, d).map((m) => m.data), scale: rowsArb(1, d, fc.double({ min: 1e-300, max: 1e300, noNaN: true })).map((m) => m.data) }),
      { nil: null },
    ),
  }),
);

const piecewiseArb: fc.Arbitrary<PiecewiseModel> = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1 as const, 2 as const), fc.uniqueArray(fc.double({ min: 1e-6, max: 100, noNaN: true }), { minLength: 1, maxLength: 3 }))
  .chain(([d, degree, times]) => {
    const level = (t: number) =>
      fc.integer({ min: 1, max: 3 }).chain((j) =>
        fc.record({ t: fc.constant(t), cells: rowsArb(j, d), coef: rowsArb(j * featureCount(d, degree), d) }, { requiredKeys: ['t', 'cells', 'coef'] }).chain((l) =>
          fc.option(fc.double({ min: 1e-3, max: 10, noNaN: true }), { nil: undefined }).map((tau) => (tau === undefined ? l : { ...l, tau })),
        ),
      );
    return fc.record({
      kind: fc.constant('piecewise' as const),
      d: fc.constant(d),
      degree: fc.constant(degree),
      levels: fc.tuple(...[...times].sort((a, b) => b - a).map(level)),
      interpolation: fc.constantFrom('nearest' as const, 'linear' as const),
    });
  });

/** JSON's view of a value: JSON has one zero and no NaN, so the writers' -0 reads back as 0 by design. */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x: unknown) => (x instanceof Float64Array ? Array.from(x) : x)));
const EPS = 2 ** -53;

/** Replaces (or deletes) the value at a path of child indices in a JSON value. */
function damaged(json: unknown, path: readonly number[], value: unknown, remove: boolean): unknown {
  const root = structuredClone(json);
  let node = root as Record<string, unknown>;
  for (let i = 0; i < path.length; i++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[path[i]! % keys.length]!;
    const child = node[key];
    if (i === path.length - 1 || typeof child !== 'object' || child === null) {
      if (remove && !Array.isArray(node)) delete node[key];
      else node[key] = value;
      return root;
    }
    node = child as Record<string, unknown>;
  }
  return value;
}
/** Every number in a JSON-like value. */
function numbersIn(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (v instanceof Float64Array) return Array.from(v);
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(numbersIn);
  return [];
}
const damageArb = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1e15, 2 ** 53, 1e308, -5, '', null, [[]])), fc.boolean());

describe('model files', () => {
  it('a student of each kind, written then read, gives the same file (variances and weights to their rounding)', () => {
    fc.assert(
      fc.property(fittedArb, (m) => {
        const file = createModelFile(m);
        const back = readModelFile(JSON.stringify(file));
        expect(back.kind).toBe('student');
        const again = createModelFile(back as FittedModel);
        const first = asJson(file) as Record<string, unknown>;
        const { variances: v2, mixingWeights: w2, ...rest2 } = asJson(again) as Record<string, unknown>;
        const { variances: v1, mixingWeights: w1, ...rest1 } = first;
        expect(rest2).toEqual(rest1);
        if (v1 === undefined) {
          expect([v2, w2]).toEqual([undefined, undefined]);
          return;
        }
        // The file keeps c = floor + exp(gamma); reading takes g = log(c - floor): c's relative rounding is at most
        // eps (|g| + 3) (the subtraction, the log's absolute error eps |g|, exp, the addition), doubled for second order.
        (v1 as number[][]).forEach((row, i) =>
          row.forEach((c, j) => expect(Math.abs((v2 as number[][])[i]![j]! - c)).toBeLessThanOrEqual(2 * EPS * (Math.abs(Math.log(c - VARIANCE_FLOOR)) + 3) * c)),
        );
        // pi -> beta = log pi -> softmax: each log rounds by eps |log pi|, the log-sum-exp by eps (K + |max beta|) and
        // the exp by eps; bound |log pi| by the spread of beta (<= 20 here) plus log K.
        const k = (w1 as number[]).length;
        (w1 as number[]).forEach((p, i) => expect(Math.abs((w2 as number[])[i]! - p)).toBeLessThanOrEqual(2 * EPS * (2 * (20 + Math.log(k)) + k + 2) * p));
      }),
      runs(1811, 300),
    );
  });

  it('a piecewise model, written then read, gives the same file', () => {
    fc.assert(
      fc.property(piecewiseArb, backendArb, (score, backendUsed) => {
        const file = createPiecewiseModelFile({ score, backendUsed });
        const back = readModelFile(JSON.stringify(file));
        expect(back.kind).toBe('piecewise');
        if (back.kind !== 'piecewise') return;
        expect(asJson(createPiecewiseModelFile(back))).toEqual(asJson(file));
      }),
      runs(1812, 200),
    );
  });

  /** What a reader returns must be a model the writers can write again, finite throughout. */
  const validModel = (r: ReturnType<typeof readModelFile>): void => {
    if (r.kind === 'piecewise') {
      checkPiecewiseModel(r.score);
      return;
    }
    expect(r.means.data.every(Number.isFinite)).toBe(true);
    if (r.student) checkStudent(r.student, r.means.rows, r.means.cols);
    expect(numbersIn(createModelFile(r)).every(Number.isFinite)).toBe(true);
  };

  it('any damage to a written file of either kind gives a valid model or an InputError naming the model file', () => {
    const files = fc.oneof(fittedArb.map((m) => createModelFile(m) as unknown), piecewiseArb.map((score) => createPiecewiseModelFile({ score, backendUsed: null }) as unknown));
    fc.assert(
      fc.property(files, damageArb, (file, [path, value, remove]) => {
        const text = JSON.stringify(damaged(asJson(file), path, value, remove));
        refusesOrReads(() => readModelFile(text), /model file/, validModel);
      }),
      runs(1813, 500),
    );
  });

  it('any bytes of a written file changed, and any JSON at all, give a valid model or an InputError', () => {
    fc.assert(
      fc.property(fittedArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (m, mutations) => {
        const text = new TextDecoder().decode(mutate(new TextEncoder().encode(JSON.stringify(createModelFile(m))), mutations));
        refusesOrReads(() => readModelFile(text), /model file/, validModel);
      }),
      runs(1814, 300),
    );
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (json) => refusesOrReads(() => readModelFile(json), /model file/, validModel)), runs(1815, 300));
  });
});

const FP = 'fingerprint';
const SEED = 7;

const stateArb: fc.Arbitrary<LoopState> = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).chain(([k, d]) => {
  const historyRow = fc.record({ step: fc.nat(), stage: fc.string({ maxLength: 8 }), noiseScale: fc.option(finite, { nil: null }), loss: finite, gradNorm: finite, change: finite, seconds: fc.double({ min: 0, max: 1e6, noNaN: true }) });
  return fc.record(
    {
      stageIndex: fc.nat({ max: 5 }),
      stepInStage: fc.nat(),
      globalStep: fc.nat(),
      centres: rowsArb(k, d),
      history: fc.array(historyRow, { maxLength: 4 }),
      stageResults: fc.array(fc.record({ name: fc.string({ maxLength: 8 }), steps: fc.nat(), converged: fc.boolean() }), { maxLength: 3 }),
      seconds: fc.double({ min: 0, max: 1e6, noNaN: true }),
      average: fc.record({ sum: rowsArb(k, d), count: fc.integer({ min: 1, max: 1000 }) }),
      student: studentArb(k, d),
    },
    { requiredKeys: ['stageIndex', 'stepInStage', 'globalStep', 'centres', 'history', 'stageResults', 'seconds'] },
  ).chain((s) => {
    if (!s.average || !s.student) return fc.constant(s);
    // The averaging tail of a general student also sums its gamma and log pi (stage-kinds.ts): same kind, other numbers.
    const { covariance, weights, gamma } = s.student;
    const sums = fc.record({ gamma: rowsArb(k, gamma.cols), beta: rowsArb(1, k).map((m) => m.data) });
    return fc.option(sums, { nil: undefined }).map((sum) => (sum ? { ...s, average: { ...s.average!, student: { covariance, weights, ...sum } } } : s));
  });
});

describe('checkpoints', () => {
  it('a loop state, written then read, is the same state (the paper student, the general one, inside an averaging tail)', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const back = parseCheckpoint(serializeCheckpoint(state, FP, SEED), FP, SEED);
        expect(asJson(back)).toEqual(asJson(state));
        // Matrices come back as matrices of the same shape, not only the same numbers.
        expect([back.centres.rows, back.centres.cols]).toEqual([state.centres.rows, state.centres.cols]);
        if (state.student) expect([back.student!.gamma.rows, back.student!.gamma.cols]).toEqual([state.student.gamma.rows, state.student.gamma.cols]);
      }),
      runs(1821, 300),
    );
  });

  const validState = (s: LoopState): void => {
    expect(s.centres.data.every(Number.isFinite) && s.centres.rows >= 1 && s.centres.data.length === s.centres.rows * s.centres.cols).toBe(true);
    expect([s.stageIndex, s.stepInStage, s.globalStep].every(Number.isSafeInteger)).toBe(true);
    expect(s.stepInStage >= 0 && s.globalStep >= 0).toBe(true);
    expect(Array.isArray(s.history) && Array.isArray(s.stageResults) && Number.isFinite(s.seconds)).toBe(true);
    if (s.student) checkStudent(s.student, s.centres.rows, s.centres.cols);
    if (s.average) expect([s.average.sum.rows, s.average.sum.cols, s.average.sum.data.every(Number.isFinite)]).toEqual([s.centres.rows, s.centres.cols, true]);
  };

  it('any damage to a written checkpoint, any changed bytes and any JSON give a valid state or an InputError naming it', () => {
    const what = "the checkpoint 'ck.json'";
    const names = /the checkpoint 'ck\.json'/;
    fc.assert(
      fc.property(stateArb, damageArb, (state, [path, value, remove]) => {
        const text = JSON.stringify(damaged(JSON.parse(serializeCheckpoint(state, FP, SEED)), path, value, remove));
        refusesOrReads(() => parseCheckpoint(text, FP, SEED, what), names, validState);
      }),
      runs(1822, 500),
    );
    fc.assert(
      fc.property(stateArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (state, mutations) => {
        const text = new TextDecoder().decode(mutate(new TextEncoder().encode(serializeCheckpoint(state, FP, SEED)), mutations));
        refusesOrReads(() => parseCheckpoint(text, FP, SEED, what), names, validState);
      }),
      runs(1823, 300),
    );
    const wrapped = fc.jsonValue({ maxDepth: 3 }).map((j) => (typeof j === 'object' && j !== null && !Array.isArray(j) ? { format: 'ddpm-gmm-checkpoint', version: 1, fingerprint: FP, noise: { seed: SEED, nextStep: 0 }, ...j } : j));
    fc.assert(fc.property(wrapped, (json) => refusesOrReads(() => parseCheckpoint(JSON.stringify(json), FP, SEED, what), names, validState)), runs(1824, 300));
  });
});
