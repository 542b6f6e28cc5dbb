// Bad input to the piecewise fit and model (docs/math.md section 13): one-line InputErrors that name the fix;
// the ladder; and levelWeights, which both samplers read between levels.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { matrix } from '../../src/matrix.ts';
import { fitPiecewise, ladderTimes, type PiecewiseFitOptions } from '../../src/piecewise/fit.ts';
import { piecewiseScore } from '../../src/piecewise/score.ts';
import { levelWeights, type PiecewiseLevel, type PiecewiseModel } from '../../src/piecewise/model.ts';

const DATA = matrix(50, 2, Float64Array.from({ length: 100 }, (_, i) => Math.sin(i * 1.7) * 3));

async function messageOf(options: Partial<PiecewiseFitOptions>, data = DATA): Promise<string> {
  try {
    await fitPiecewise(data, { cells: 2, levels: 3, horizon: 1, tMin: 0.1, ...options } as PiecewiseFitOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('no error');
}

describe('piecewise input checks', () => {
  it('refuse a bad degree, ladder, draw count, cell count, ridge and data, one line each', async () => {
    expect(await messageOf({ degree: 3 as 1 })).toMatch(/degree must be 1 \(affine\) or 2 .*got 3/);
    expect(await messageOf({ horizon: 0.1, tMin: 0.1 })).toMatch(/horizon T must be a finite number > tMin = 0.1, got 0.1/);
    expect(await messageOf({ horizon: 0.05, tMin: 0.1 })).toMatch(/horizon T must be a finite number > tMin/);
    expect(await messageOf({ tMin: 0 })).toMatch(/tMin must be a finite number > 0/);
    expect(await messageOf({ levels: 1 })).toMatch(/levels >= 2/);
    expect(await messageOf({ draws: 0 })).toMatch(/noise draws per row R must be an integer >= 1, got 0/);
    expect(await messageOf({ cells: 51 })).toMatch(/J = 51 cells but only N = 50 data rows/);
    expect(await messageOf({ cells: 0 })).toMatch(/number of cells J must be an integer >= 1/);
    expect(await messageOf({ cells: matrix(2, 3) })).toMatch(/given cells are 2 x 3; .*d = 2 columns/);
    expect(await messageOf({ ridge: -1 })).toMatch(/ridge must be 'held-out' or a finite relative lambda >= 0, got -1/);
    expect(await messageOf({ interpolation: 'cubic' as 'linear' })).toMatch(/interpolation must be 'nearest' or 'linear'/);
    expect(await messageOf({ smallCells: 'drop' as 'merge' })).toMatch(/smallCells must be 'merge' or 'refuse'/);
    expect(await messageOf({}, matrix(8, 2))).toMatch(/held-out ridge rule needs N >= 10 rows/);
    const bad = matrix(50, 2, DATA.data.slice());
    bad.data[7] = NaN;
    expect(await messageOf({}, bad)).toMatch(/non-finite value \(NaN\) at row 4, column 2/);
  });

  it('check a model before scoring with it', () => {
    const level: PiecewiseLevel = { t: 1, cells: matrix(1, 2), coef: matrix(2, 2) };
    const model: PiecewiseModel = { kind: 'piecewise', d: 2, degree: 1, levels: [level], interpolation: 'linear' };
    expect(() => piecewiseScore(model, matrix(1, 2), 0.5)).toThrow(/coefficients are 2 x 2, need \(J p\) x d = 3 x 2/);
    const twoLevels = { ...model, levels: [{ ...level, coef: matrix(3, 2) }, { ...level, coef: matrix(3, 2) }] };
    expect(() => piecewiseScore(twoLevels, matrix(1, 2), 0.5)).toThrow(/strictly decreasing/);
  });
});

describe('the ladder and the level weights', () => {
  const levels = [8, 2, 0.5].map((t): PiecewiseLevel => ({ t, cells: matrix(1, 1), coef: matrix(2, 1) }));

  it('ladderTimes is geometric from T to tMin with exact ends', () => {
    const t = ladderTimes(8, 0.5, 3);
    expect(Array.from(t)).toEqual([8, 2, 0.5]);
    expect(t[1]! / t[0]!).toBeCloseTo(t[2]! / t[1]!, 14);
  });

  it('clamp outside the ladder and pick the level nearest in ln t, or interpolate linearly in t', () => {
    expect(levelWeights(levels, 20, 'linear')).toEqual({ lo: 0, hi: 0, w: 0 });
    expect(levelWeights(levels, 0, 'nearest')).toEqual({ lo: 2, hi: 2, w: 0 });
    expect(levelWeights(levels, 2, 'linear')).toEqual({ lo: 0, hi: 1, w: 1 });
    // The geometric midpoint of 8 and 2 is 4: 3.9 is nearer 2 in ln t, 4.1 nearer 8.
    expect(levelWeights(levels, 3.9, 'nearest')).toEqual({ lo: 1, hi: 1, w: 0 });
    expect(levelWeights(levels, 4.1, 'nearest')).toEqual({ lo: 0, hi: 0, w: 0 });
    // Linear in t: 5 is half-way between 8 and 2.
    expect(levelWeights(levels, 5, 'linear')).toEqual({ lo: 0, hi: 1, w: 0.5 });
    expect(levelWeights(levels, 1, 'linear').w).toBeCloseTo(2 / 3, 14);
  });
});
