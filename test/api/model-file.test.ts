// The model file (src/model-file.ts) through DdpmGmm.toJSON / fromJSON: a round trip through JSON text
// predicts, scores and samples as the fitted model does, and every kind of bad file is an InputError
// that names what is wrong.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm, MODEL_FORMAT, MODEL_VERSION, type ModelFile } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix } from '../../src/types.ts';
import { VERSION } from '../../src/version.ts';

const backend = new CpuBackend();
const { data } = generateMixture({ k: 3, d: 4, n: 600, separation: 6, seed: 5 });
const fitted = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 40 });
await fitted.fit(data);
const file = fitted.toJSON();

/** The file with some fields replaced (undefined removes one). */
function edited(changes: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(file));
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

describe('the model file', () => {
  it('VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf-8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(file.createdBy).toBe(`ddpm-gmm ${pkg.version}`);
  });

  it('holds the documented fields', () => {
    expect(Object.keys(file).sort()).toEqual(
      ['backendUsed', 'converged', 'covariance', 'createdBy', 'dimension', 'format', 'means', 'method', 'mixingWeights', 'model', 'nComponents', 'nIter', 'scaling', 'schedule', 'variances', 'version', 'weights'].sort(),
    );
    // MODEL_VERSION 2 added the piecewise kind, 3 the extended student: the general student (docs/math.md section 14)
    // and the scaling (the default, section 15); the paper's student on the data as given is still version 1.
    expect(MODEL_VERSION).toBe(3);
    expect(file).toMatchObject({ format: MODEL_FORMAT, version: 3, model: 'student', nComponents: 3, dimension: 4, method: 'ddpm', schedule: 'screened', covariance: 'diag', weights: 'learned' });
    expect(file.scaling).toEqual({ method: 'within', centre: Array.from(fitted.scaling!.centre), scale: Array.from(fitted.scaling!.scale) });
    expect(file.means).toHaveLength(3);
    expect(file.nIter).toBe(fitted.nIter);
    expect(file.backendUsed).toEqual({ kind: 'cpu', adapter: 'CPU float64 reference', software: false });
  });

  it('round-trips through JSON text: the same predictions, responsibilities, scores and samples, without fit', () => {
    const text = JSON.stringify(fitted);
    for (const loaded of [DdpmGmm.fromJSON(JSON.parse(text)), DdpmGmm.fromJSON(text)]) {
      expect(loaded.means!.data).toEqual(fitted.means!.data);
      expect(loaded.predict(data)).toEqual(fitted.predict(data));
      expect(loaded.predictProba(data).data).toEqual(fitted.predictProba(data).data);
      expect(loaded.score(data)).toBe(fitted.score(data));
      expect(loaded.bic(data)).toBe(fitted.bic(data));
      expect(loaded.sampleDirect(50, 3).data).toEqual(fitted.sampleDirect(50, 3).data);
      expect([loaded.method, loaded.schedule, loaded.converged, loaded.nIter]).toEqual([fitted.method, fitted.schedule, fitted.converged, fitted.nIter]);
      expect(loaded.backendUsed).toEqual(fitted.backendUsed);
      expect(loaded.toJSON()).toEqual(file);
    }
  });

  it('round-trips em (schedule null) and power models', async () => {
    const em = new DdpmGmm({ nComponents: 3, method: 'em', backend, seed: 3 });
    await em.fit(data);
    const json = em.toJSON();
    expect(json.schedule).toBeNull();
    const loaded = DdpmGmm.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(loaded.method).toBe('em');
    expect(loaded.predict(data)).toEqual(em.predict(data));
  });

  it('toJSON before fit and predict before fit are InputErrors that say what to do', () => {
    const model = new DdpmGmm({ nComponents: 2, backend });
    expect(() => model.toJSON()).toThrow(/not fitted yet: call fit\(X\) first, or load one with DdpmGmm.fromJSON/);
  });

  const bad: [string, unknown, RegExp][] = [
    ['null', null, /a ddpm-gmm model file is a JSON object, got null/],
    ['an array', [1, 2], /is a JSON object, got an array of 2/],
    ['a number', 3, /is a JSON object, got 3/],
    ['text that is not JSON', '{"format": ', /the model file is not valid JSON/],
    ['no format', edited({ format: undefined }), /this is not a ddpm-gmm model file \(format is missing, expected "ddpm-gmm-model"\)/],
    ['another format', edited({ format: 'sklearn-gmm' }), /this is not a ddpm-gmm model file \(format is "sklearn-gmm"/],
    ['a newer version', edited({ version: 4 }), /model file version 4 is newer than this ddpm-gmm reads \(3\).*upgrade ddpm-gmm/],
    ['version 2 with the student fields but no model key', edited({ version: 2, model: undefined }), /model must be "student" or "piecewise" \(version 2 names its kind\), got missing/],
    ['version 0', edited({ version: 0 }), /version must be a whole number >= 1, got 0/],
    ['version as text', edited({ version: '1' }), /version must be a whole number >= 1, got "1"/],
    ['no createdBy', edited({ createdBy: undefined }), /createdBy must be a string/],
    ['nComponents not matching the means', edited({ nComponents: 2 }), /nComponents = 2 but its means have 3 rows/],
    ['nComponents 0', edited({ nComponents: 0 }), /nComponents must be a whole number >= 1, got 0/],
    ['dimension not matching the means', edited({ dimension: 5 }), /dimension = 5 but its means row 1 \(1-based\) has 4 values/],
    ['means not an array', edited({ means: 'abc' }), /means must be an array of nComponents rows/],
    ['a row not an array', edited({ means: [[1, 2, 3, 4], 7, [1, 2, 3, 4]] }), /means row 2 \(1-based\) must be an array of 4 numbers, got 7/],
    ['a ragged row', edited({ means: [[1, 2, 3, 4], [1, 2, 3], [1, 2, 3, 4]] }), /means row 2 \(1-based\) has 3 values/],
    ['a NaN mean (null in JSON)', edited({ means: [[1, 2, 3, 4], [1, 2, null, 4], [1, 2, 3, 4]] }), /means row 2, column 3 \(1-based\) is null, not a finite number/],
    ['a text mean', edited({ means: [[1, 2, 3, 4], [1, 2, 3, 4], [1, '2', 3, 4]] }), /means row 3, column 2 \(1-based\) is "2", not a finite number/],
    ['an unknown method', edited({ method: 'kmeans' }), /method must be one of ddpm, em, gradient-em, power, got "kmeans"/],
    ['an unknown schedule', edited({ schedule: 'fast' }), /schedule must be one of single, two-stage, projected, warm, annealed, screened or null, got "fast"/],
    ['ddpm without a schedule', edited({ schedule: null }), /schedule is null, but method 'ddpm' always has one/],
    ['converged not boolean', edited({ converged: 'yes' }), /converged must be true or false/],
    ['nIter negative', edited({ nIter: -1 }), /nIter must be a whole number >= 0, got -1/],
    ['backendUsed malformed', edited({ backendUsed: { kind: 'tpu' } }), /backendUsed\.kind must be "gpu" or "cpu", got "tpu"/],
    ['power with K = 3', edited({ method: 'power', covariance: undefined, weights: undefined, variances: undefined, mixingWeights: undefined }), /does not describe a valid model: method 'power'.*needs nComponents = 2/],
    ['power with a general student', edited({ method: 'power' }), /does not describe a valid model: method 'power' learns the paper's student only/],
  ];
  for (const [name, json, message] of bad) {
    it(`rejects ${name} with an InputError`, () => {
      expect(() => DdpmGmm.fromJSON(json)).toThrow(InputError);
      expect(() => DdpmGmm.fromJSON(json)).toThrow(message);
    });
  }

  it('a loaded model names both dimensions when the data do not match', () => {
    const loaded = DdpmGmm.fromJSON(file as ModelFile);
    expect(() => loaded.predict(matrix(2, 3))).toThrow(/X has d = 3 columns but the model was fitted in d = 4; give data with the model's 4 columns/);
    expect(() => loaded.score(matrix(2, 5))).toThrow(InputError);
  });

  it('keeps backendUsed null when the file says null, and ignores keys it does not know', () => {
    const loaded = DdpmGmm.fromJSON(edited({ backendUsed: null, history: [{ step: 0 }], settings: { k: 3 } }));
    expect(loaded.backendUsed).toBeUndefined();
    expect(loaded.toJSON().backendUsed).toBeNull();
  });
});
