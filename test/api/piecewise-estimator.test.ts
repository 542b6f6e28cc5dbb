// PiecewiseScoreModel (src/piecewise-estimator.ts) on the CPU reference: the fit is fitPiecewise's with the backend's
// cellMoments, sample() has DdpmGmm's sampler defaults with the ladder's horizon, and the model file round-trips
// (src/model-file.ts, version 2) with each bad file an InputError that names the problem.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { loadModel, MODEL_VERSION, PIECEWISE_DEFAULTS, PiecewiseScoreModel, type PiecewiseModel } from '../../src/index.ts';
import { fitPiecewise } from '../../src/piecewise/fit.ts';
import { piecewiseScore } from '../../src/piecewise/score.ts';
import { resolveSampleOptions } from '../../src/sample-options.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const backend = new CpuBackend();
const { data } = generateMixture({ k: 2, d: 2, n: 1500, separation: 6, seed: 4 });
const settings = { cells: 4, levels: 5, draws: 2, seed: 3 } as const;
const reports: number[] = [];
const fitted = new PiecewiseScoreModel({ ...settings, backend, onProgress: (r) => reports.push(r.level) });
await fitted.fit(data);
const file = JSON.parse(JSON.stringify(fitted)) as Record<string, unknown>;

function column(m: Matrix, c: number): number {
  let s = 0;
  for (let i = 0; i < m.rows; i++) s += m.data[i * m.cols + c]!;
  return s / m.rows;
}

/** The file with fields of its score replaced (undefined removes one). */
function editedScore(changes: Record<string, unknown>): unknown {
  const out = JSON.parse(JSON.stringify(file)) as { score: Record<string, unknown> };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out.score[k];
    else out.score[k] = v;
  }
  return out;
}

function edited(changes: Record<string, unknown>): unknown {
  return { ...JSON.parse(JSON.stringify(file)), ...changes };
}

describe('PiecewiseScoreModel', () => {
  it('fits through fitPiecewise with the backend cellMoments: the same model, one report per level', async () => {
    const direct = await fitPiecewise(data, { ...PIECEWISE_DEFAULTS, ...settings }, (d, c, o) => backend.cellMoments(d, c, o));
    expect(fitted.model).toEqual(direct.model);
    expect(reports).toEqual([0, 1, 2, 3, 4]);
    expect(fitted.dimension).toBe(2);
    expect(fitted.backendUsed).toEqual({ kind: 'cpu', adapter: 'CPU float64 reference', software: false });
  });

  it('score(x, t) is the model score; samples are n x d, seeded, and near the data', async () => {
    const x = matrix(3, 2, Float64Array.from([0, 0, 1, -1, 3, 2]));
    expect(fitted.score(x, 0.3).data).toEqual(piecewiseScore(fitted.model!, x, 0.3).data);
    const a = await fitted.sample(400, { seed: 5 });
    const b = await fitted.sample(400, { seed: 5 });
    expect([a.rows, a.cols]).toEqual([400, 2]);
    expect(a.data).toEqual(b.data);
    expect((await fitted.sample(400, { seed: 6 })).data).not.toEqual(a.data);
    for (const c of [0, 1]) expect(Math.abs(column(a, c) - column(data, c))).toBeLessThan(0.6);
    expect(fitted.sampledOn?.kind).toBe('cpu');
  });

  it("samples with DdpmGmm's defaults, from the ladder's top level down to tMin 0", () => {
    const model = fitted.model!;
    expect(resolveSampleOptions(model, 400, {})).toEqual({ method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: 100, grid: 'geometric', seed: 0 });
    // Below the smallest level the score is that level's.
    const x = matrix(1, 2, Float64Array.from([0.5, 0.5]));
    expect(fitted.score(x, 0).data).toEqual(fitted.score(x, model.levels[model.levels.length - 1]!.t).data);
  });

  it('refuses bad settings and requests with an InputError naming them', async () => {
    expect(() => new PiecewiseScoreModel({ degree: 3 as 1 })).toThrow(/degree must be 1 \(affine\) or 2/);
    expect(() => new PiecewiseScoreModel({ levels: 1 })).toThrow(/levels >= 2/);
    expect(() => new PiecewiseScoreModel({ cells: 0 })).toThrow(/number of cells J \(cells\) must be an integer >= 1/);
    expect(() => new PiecewiseScoreModel({ tMin: 0 })).toThrow(/tMin must be a finite number > 0/);
    expect(() => new PiecewiseScoreModel({ backend: 'tpu' as 'cpu' })).toThrow(/backend must be one of auto, gpu, cpu/);
    await expect(new PiecewiseScoreModel({ backend }).sample(10)).rejects.toThrow(/not fitted yet: call fit\(X\) first/);
    await expect(fitted.sample(10, { method: 'direct' })).rejects.toThrow(/no direct draw/);
    expect(() => fitted.score(matrix(2, 3), 0.1)).toThrow(/3 columns but the piecewise model has d = 2/);
    expect(() => fitted.score(matrix(2, 2), -1)).toThrow(/t must be a finite number >= 0/);
  });
});

describe('the piecewise model file', () => {
  it('is version 2 with model "piecewise", and round-trips: the same score and samples, without fit', async () => {
    // A piecewise model stays version 2; MODEL_VERSION 3 added the student's scaling.
    expect(file).toMatchObject({ format: 'ddpm-gmm-model', version: 2, model: 'piecewise', dimension: 2 });
    expect(MODEL_VERSION).toBe(3);
    for (const loaded of [PiecewiseScoreModel.fromJSON(file), PiecewiseScoreModel.fromJSON(JSON.stringify(fitted), { backend }), loadModel(file, { backend })]) {
      expect(loaded).toBeInstanceOf(PiecewiseScoreModel);
      const m = loaded as PiecewiseScoreModel;
      expect(m.model).toEqual(fitted.model);
      expect(m.backendUsed).toEqual(fitted.backendUsed);
      expect(m.toJSON()).toEqual(file);
    }
    const loaded = PiecewiseScoreModel.fromJSON(file, { backend });
    expect((await loaded.sample(200, { seed: 2 })).data).toEqual((await fitted.sample(200, { seed: 2 })).data);
  });

  it('keeps fields it does not know on the model and its levels (such as a soft assignment width)', () => {
    const model = { ...fitted.model!, levels: fitted.model!.levels.map((l) => ({ ...l, tau: 0.5 })), extra: 'x' } as PiecewiseModel;
    const m = PiecewiseScoreModel.fromJSON(file);
    m.model = model;
    const again = PiecewiseScoreModel.fromJSON(JSON.stringify(m)).model as PiecewiseModel & { extra: string };
    expect(again.levels.map((l) => (l as { tau?: number }).tau)).toEqual(model.levels.map(() => 0.5));
    expect(again.extra).toBe('x');
  });

  it('loadModel gives each kind its estimator, and each estimator names the other kind', async () => {
    const student = new DdpmGmm({ nComponents: 2, method: 'em', backend });
    await student.fit(data);
    expect(loadModel(JSON.stringify(student))).toBeInstanceOf(DdpmGmm);
    expect(() => PiecewiseScoreModel.fromJSON(student.toJSON())).toThrow(/the student's model file, not a piecewise one: load it with DdpmGmm.fromJSON/);
    expect(() => DdpmGmm.fromJSON(file)).toThrow(/a piecewise model file, a score with no mixture components/);
  });

  const level0 = (file.score as { levels: Record<string, unknown>[] }).levels[0]!;
  const bad: [string, unknown, RegExp][] = [
    ['a version 2 file without model', edited({ model: undefined }), /model must be "student" or "piecewise" \(version 2 names its kind\), got missing/],
    ['an unknown model', edited({ model: 'flow' }), /model must be "student" or "piecewise".*got "flow"/],
    ['a newer version', edited({ version: 4 }), /model file version 4 is newer than this ddpm-gmm reads \(3\).*upgrade/],
    ['no score', edited({ score: undefined }), /score must be an object/],
    ['another d in the score', edited({ dimension: 3 }), /dimension = 3 but its score has d = 2/],
    ['no levels', editedScore({ levels: [] }), /score.levels must be a non-empty array/],
    ['a level without t', editedScore({ levels: [{ ...level0, t: undefined }] }), /level 1 \(1-based\)'s t must be a number > 0, got missing/],
    ['ragged cells', editedScore({ levels: [{ ...level0, cells: [[1, 2], [3]] }] }), /level 1 \(1-based\)'s cells row 2 \(1-based\) must be an array of 2 numbers/],
    ['a NaN coefficient', editedScore({ levels: [{ ...level0, coef: [[null, 1]] }] }), /coef row 1, column 1 \(1-based\) is null, not a finite number/],
    ['coefficients of the wrong shape', editedScore({ levels: [{ ...level0, coef: [[1, 2]] }] }), /not describe a valid piecewise model: .*coefficients are 1 x 2, need/],
    ['levels out of order', editedScore({ levels: [level0, level0] }), /strictly decreasing/],
    ['degree 3', editedScore({ degree: 3 }), /degree must be 1 \(affine\) or 2/],
  ];
  for (const [name, json, message] of bad) {
    it(`rejects ${name} with an InputError`, () => {
      expect(() => PiecewiseScoreModel.fromJSON(json)).toThrow(InputError);
      expect(() => loadModel(json)).toThrow(message);
    });
  }
});
