// Data as people hold it (src/data-input.ts): number[][], a typed array with its shape, and the Matrix give the
// same fit and answers; anything else, ragged rows and non-numbers are InputErrors naming what was passed.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { PiecewiseScoreModel } from '../../src/piecewise-estimator.ts';
import { InputError } from '../../src/errors.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { toRows } from '../../src/types.ts';

const backend = new CpuBackend();
const { data } = generateMixture({ k: 3, d: 4, n: 300, separation: 6, seed: 7 });
const rows = toRows(data);

describe('input forms', () => {
  it('number[][], { data: Float64Array | number[], rows, cols } and the Matrix fit the same bits; the input is not written', async () => {
    const copy = data.data.slice();
    const fits = [];
    for (const X of [data, rows, { data: Array.from(data.data), rows: data.rows, cols: data.cols }]) {
      const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 30 });
      await model.fit(X);
      fits.push({ means: Array.from(model.means!.data), labels: Array.from(model.predict(X)), score: model.score(X), bic: model.bic(X), proba: Array.from(model.predictProba(X).data) });
    }
    expect(fits[1]).toEqual(fits[0]);
    expect(fits[2]).toEqual(fits[0]);
    expect(Array.from(data.data)).toEqual(Array.from(copy));
    const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 30 });
    expect(Array.from(await model.fitPredict(rows))).toEqual(fits[0]!.labels);
  });

  it('a Float32Array with its shape is read as its float32 values', async () => {
    const f32 = Float32Array.from(data.data);
    const a = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 30, scale: 'none' });
    const b = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 30, scale: 'none' });
    await a.fit({ data: f32, rows: data.rows, cols: data.cols });
    await b.fit({ data: Float64Array.from(f32), rows: data.rows, cols: data.cols });
    expect(a.means!.data).toEqual(b.means!.data);
  });

  it("the issue's example: fit([[1, 2], [3, 4], ...]) works", async () => {
    const model = new DdpmGmm({ nComponents: 2, backend, method: 'em' });
    await model.fit([[1, 2], [3, 4], [10, 11], [12, 13], [1.5, 2.5], [11, 12]]);
    expect(new Set(model.predict([[1, 2], [12, 13]]))).toEqual(new Set([0, 1]));
  });

  it('anything else is an InputError naming what was passed', async () => {
    const model = new DdpmGmm({ nComponents: 2, backend });
    const cases: [unknown, RegExp][] = [
      ['x', /X must be number\[\]\[\].*got the string "x"/],
      [undefined, /got undefined/],
      [new Float64Array(4), /got a Float64Array of 4 without its shape/],
      [new Map(), /got a Map/],
      [[1, 2, 3], /first entry is the number 1; for one feature per sample write X as \[\[x1\], \[x2\], \.\.\.\]/],
      [[[1, 2], [3, 4], [5]], /ragged rows: row 3 \(1-based\) has 1 values but row 1 has 2/],
      [[[1, 2], ['a', 4]], /row 2, column 1 \(1-based\) is the string "a", not a number/],
      [[[1, 2], [null, 4]], /row 2, column 1 \(1-based\) is null/],
      [{ data: new Float64Array(4), rows: 2, cols: 3 }, /says 2 x 3 but its data holds 4 values/],
      [{ data: 'abc', rows: 1, cols: 3 }, /X\.data is the string "abc"/],
      [{ data: new Float64Array(4), rows: '2', cols: 2 }, /rows and cols are the string "2" and the number 2/],
    ];
    for (const [x, message] of cases) {
      await expect(model.fit(x as never)).rejects.toThrow(InputError);
      await expect(model.fit(x as never)).rejects.toThrow(message);
    }
    await model.fit(rows);
    expect(() => model.predict('x' as never)).toThrow(/got the string "x"/);
    expect(() => model.score([[1, 2, 3, 4], [1]] as never)).toThrow(/ragged rows/);
  });

  it('PiecewiseScoreModel takes number[][] for fit and score', async () => {
    const small = generateMixture({ k: 2, d: 2, n: 400, separation: 4, seed: 3 });
    const a = new PiecewiseScoreModel({ backend, cells: 4, levels: 3 });
    const b = new PiecewiseScoreModel({ backend, cells: 4, levels: 3 });
    await a.fit(small.data);
    await b.fit(toRows(small.data));
    expect(b.score([[0, 0], [1, 1]], 0.5).data).toEqual(a.score(toRows(small.data).slice(0, 0).concat([[0, 0], [1, 1]]), 0.5).data);
    await expect(b.fit('x' as never)).rejects.toThrow(/X must be number\[\]\[\].*got the string "x"/);
  });
});
