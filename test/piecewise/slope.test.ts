// The piecewise fit's slope options (docs/math.md section 13): the slope rows left unpenalised (`slopeRidge`) and
// the data-driven shrinkage targets of the slope (`shrink: 'cell-gaussian'`, `'pooled'`), on one isotropic
// Gaussian N(mu, s^2 I), where the exact score at t is affine with slope -I / C, C = a_t^2 s^2 + sigma_t^2.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { matrix } from '../../src/matrix.ts';
import { fitPiecewise, type PiecewiseFitOptions } from '../../src/piecewise/fit.ts';
import { gaussianMixture, generateGaussianMixture } from '../../src/full-covariance/mixture.ts';

const S2 = 0.5;
const MU = [1, -2];
const N = 40000;
const DATA = generateGaussianMixture(gaussianMixture([1], matrix(1, 2, Float64Array.from(MU)), [S2, 0, 0, S2]), N, 5).data;
const T = 0.3;
const BASE = { levels: 2, horizon: 1, tMin: T, draws: 4, seed: 1 } as const;
const C = Math.exp(-2 * T) * S2 - Math.expm1(-2 * T); // 0.7256
const EXACT = -1 / C; // -1.378

/** The bottom level's slope block of every cell: per cell, the d x d rows of u (coef[f, c] = d s_c / d u_f). */
async function slopes(o: Partial<PiecewiseFitOptions>): Promise<number[][]> {
  const fit = await fitPiecewise(DATA, { cells: 1, ...BASE, ...o });
  const level = fit.model.levels[fit.model.levels.length - 1]!;
  const p = level.coef.rows / level.cells.rows;
  return Array.from({ length: level.cells.rows }, (_, j) => Array.from(level.coef.data.subarray(j * p * 2, j * p * 2 + 4)));
}

describe('the slope options on one isotropic Gaussian', () => {
  // Sampling error of the slope: the target's conditional variance per coordinate is V = (1 - sigma^2 / C) / sigma^2
  // = 0.84 at t = 0.3, so a slope entry has standard deviation about sqrt(V / (N C)) = 0.0054 with N = 40000 rows
  // (the R = 4 draws of a row count as at least one); 0.04 is more than 7 of them.
  const TOL = 0.04;

  it('unpenalised, the slope is the exact -1 / C where the same ridge on every row flattens it', async () => {
    // With the relative ridge lambda = 0.1 on every row, mu = lambda tr(G) / p = 0.1 n (2 C + 1) / 3 = 0.082 n, and
    // the slope is -n / (n C + mu) = -1.239: 0.14 flatter than -1.378. With slopeRidge 0 only the offset row is
    // penalised, and the slope is the least-squares one.
    const flat = await slopes({ ridge: 0.1 });
    const free = await slopes({ ridge: 0.1, slopeRidge: 0 });
    for (const [B, near] of [[flat[0]!, false], [free[0]!, true]] as const) {
      const diag = (B[0]! + B[3]!) / 2;
      if (near) expect(Math.abs(diag - EXACT)).toBeLessThan(TOL);
      else expect(Math.abs(diag - EXACT)).toBeGreaterThan(0.1);
      expect(Math.abs(B[1]!)).toBeLessThan(TOL);
      expect(Math.abs(B[2]!)).toBeLessThan(TOL);
    }
  });

  it("toward the cell's Gaussian, a large ridge gives -C^{-1} of the cell's points", async () => {
    // lambda = 1e4 leaves the least squares a pull of order 1e-4 (test/piecewise/fit.test.ts): the slope is the
    // target, -1 / the sample covariance of the N R noisy points, whose relative error is about sqrt(2 / N) = 0.007
    // (0.01 on the slope), inside TOL. A target toward 0 would give a slope near 0.
    const [B] = await slopes({ ridge: 1e4, shrink: 'cell-gaussian' });
    expect(Math.abs((B![0]! + B![3]!) / 2 - EXACT)).toBeLessThan(TOL);
    expect(Math.abs(B![1]!)).toBeLessThan(TOL);
  });

  it('pooled, a large ridge gives every cell the one within-cell slope, here the exact one', async () => {
    // Two cells cut the Gaussian in half; the score is affine in each half, so each cell's and the pooled least
    // squares are unbiased. At lambda = 1e4 both cells hold the pooled slope to about 1e-4 of its size.
    const cells = matrix(2, 2, Float64Array.from([MU[0]! - 1, MU[1]!, MU[0]! + 1, MU[1]!]));
    const [B0, B1] = await slopes({ cells, ridge: 1e4, shrink: 'pooled' });
    for (let i = 0; i < 4; i++) expect(Math.abs(B0![i]! - B1![i]!)).toBeLessThan(1e-3);
    expect(Math.abs((B0![0]! + B0![3]!) / 2 - EXACT)).toBeLessThan(TOL);
  });

  it('refuses a negative slopeRidge and a moment-based target with soft cells', async () => {
    await expect(fitPiecewise(DATA, { cells: 1, ...BASE, slopeRidge: -1 })).rejects.toThrow(InputError);
    await expect(fitPiecewise(DATA, { cells: 2, ...BASE, assignment: 'soft', shrink: 'cell-gaussian' })).rejects.toThrow(/hard cells/);
  });
});
