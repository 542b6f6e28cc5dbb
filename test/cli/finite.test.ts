// No NaN reported as success (issue 18): finite inputs give finite results or a refusal naming the row, and
// the CLI's last check refuses a NaN or Inf in what it would print or write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { padRows } from '../../host/core/buffers.ts';
import { mixtureLogLikelihood, requireFiniteLogLikelihood } from '../../src/algorithms/matrix-math.ts';
import { requireFiniteOutput } from '../../src/cli/output.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { createModelFile } from '../../src/model-file.ts';
import { matrix } from '../../src/types.ts';


describe('the host maths stay finite', () => {
  it('responsibilities of a row whose squared distances overflow are finite and sum to 1; its log-likelihood is refused by row', () => {
    const means = matrix(2, 3, Float64Array.from([1e200, 0, 0, 0, 0, 1e200]));
    const data = matrix(3, 3, Float64Array.from([1, 2, 3, 9e199, 0, 0, 0, 1, 1e200]));
    const proba = new Float64Array(6);
    const ll = mixtureLogLikelihood(data, means, proba);
    for (const p of proba) expect(Number.isFinite(p)).toBe(true);
    // Row 2 is 1e199 from centre 1 and 1.3e200 from centre 2: all weight on centre 1; row 3 the other way.
    expect(Array.from(proba.subarray(2, 6))).toEqual([1, 0, 0, 1]);
    // Row 1 is equidistant from both centres: 1/2 each, exactly, as the ordinary path would give.
    expect(Array.from(proba.subarray(0, 2))).toEqual([0.5, 0.5]);
    expect(() => requireFiniteLogLikelihood(ll, 'X')).toThrow(/row 1 \(1-based\) of X is so far from every centre/);
  });

  it('the estimator predicts far rows and refuses their score, BIC and AIC with InputError', () => {
    const means = matrix(2, 2, Float64Array.from([0, 0, 1e200, 0]));
    const model = DdpmGmm.fromJSON(createModelFile({ means, method: 'ddpm', schedule: 'single', converged: false, nIter: 0, backendUsed: null }));
    const X = matrix(2, 2, Float64Array.from([1, 1, 0, 1e200]));
    expect(Array.from(model.predict(X))).toEqual([0, 0]);
    for (const f of [() => model.score(X), () => model.bic(X), () => model.aic(X), () => model.scoreSamples(X)]) {
      expect(f).toThrow(InputError);
      expect(f).toThrow(/row 2 \(1-based\) of X/);
    }
  });

  it('a finite value beyond float32 is refused on its way to the GPU, naming the row and column', () => {
    const m = matrix(2, 2, Float64Array.from([1, 2, 3, 1e39]));
    expect(() => padRows(m, 0, 2, 1)).toThrow(/row 2, column 2 \(1-based\) holds 1e\+39, beyond float32's range/);
    expect(Array.from(padRows(matrix(1, 2, Float64Array.from([3e38, -1])), 0, 1, 1))).toEqual([Math.fround(3e38), -1, 0, 0]);
  });

  it('requireFiniteOutput names the first NaN or Inf in numbers, arrays, typed arrays and objects', () => {
    expect(() => requireFiniteOutput({ a: [1, 2], m: matrix(1, 2, Float64Array.from([1, 2])), s: 'NaN', n: null }, 'fit')).not.toThrow();
    expect(() => requireFiniteOutput({ history: [{ loss: 1 }, { loss: NaN }] }, 'fit')).toThrow(/the result fit\.history\[1\]\.loss is NaN/);
    expect(() => requireFiniteOutput({ m: matrix(1, 2, Float64Array.from([1, -Infinity])) }, 'x')).toThrow(/x\.m\.data\[1\] is -Infinity/);
  });
});

describe('the CLI refuses, by row or field, where a result cannot be finite', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-finite-'));
    writeFileSync(join(dir, 'x.csv'), '1,2,3\n-1,-2,-3\n2,2,2\n0,1,0\n');
    writeFileSync(join(dir, 'big.csv'), '1e200,0,0\n1,2,3\n-1,-2,-3\n2,2,2\n');
    const model = (means: number[][]) => JSON.stringify({ format: 'ddpm-gmm-model', version: 1, createdBy: 'ddpm-gmm 0.1.0', nComponents: 2, dimension: 3, means, method: 'ddpm', schedule: 'two-stage', converged: true, nIter: 1, backendUsed: null });
    writeFileSync(join(dir, 'big.json'), model([[1e200, 0, 0], [0, 0, 1e200]]));
    writeFileSync(join(dir, 'm.json'), model([[1, 0, 0], [0, 0, 1]]));
  });
  const cases: [string, string[], RegExp][] = [
    ['predict, means of 1e200', ['predict', '--model', 'big.json', '--data', 'x.csv', '--json'], /row 1 \(1-based\) of X is so far from every centre/],
    ['predict, a data row 1e200,0,0', ['predict', '--model', 'm.json', '--data', 'big.csv', '--json'], /row 1 \(1-based\) of X is so far/],
    ['fit --method em on a row 1e200,0,0', ['fit', '--data', 'big.csv', '--k', '2', '--method', 'em', '--backend', 'cpu'], /X row 1 \(1-based\) holds 1\.00e\+200, whose square is beyond float64's range/],
    ['fit --schedule single on it', ['fit', '--data', 'big.csv', '--k', '2', '--schedule', 'single', '--backend', 'cpu'], /'big\.csv' row 1 \(1-based\) holds 1\.00e\+200/],
    ['grad on it', ['grad', '--data', 'big.csv', '--means', 'x.csv', '--t', '1', '--seed', '0', '--backend', 'cpu'], /'big\.csv' row 1 \(1-based\) holds/],
    ['sample with means of 1e200, not a horizon never passed', ['sample', '--model', 'big.json', '--n', '5', '--out', 's.npy', '--backend', 'cpu'], /the means of the model \(--model\) 'big\.json' row 1/],
  ];
  it.each(cases)('%s', async (_name, argv, pattern) => {
    const r = await cli(argv, dir);
    expect(r.stderr.trim()).toMatch(/^ddpm-gmm: error: [^\n]*$/);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('the direct draw from means of 1e200 is finite and succeeds', async () => {
    const r = await cli(['sample', '--model', 'big.json', '--n', '5', '--method', 'direct', '--out', 'd.npy', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
  });
});
