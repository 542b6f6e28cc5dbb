// The piecewise fit (docs/math.md section 13) on one anisotropic Gaussian, where the exact score is affine and
// the degree-1 model is well specified; the injectable moments; the run's notes on merged and singular cells.
import { describe, expect, it } from 'vitest';
import { matrix, type Matrix } from '../../src/matrix.ts';
import { fitPiecewise, heldOutSplit, type MomentsFunction } from '../../src/piecewise/fit.ts';
import { gaussianMixture, generateGaussianMixture } from '../../src/full-covariance/mixture.ts';
import { choleskyInto } from '../../src/piecewise/linalg.ts';
import { cellMoments, type MomentOptions } from '../../src/piecewise/moments.ts';
import { solveCells } from '../../src/piecewise/solve.ts';
import type { PiecewiseLevel } from '../../src/piecewise/model.ts';

const MU = [1, -2];
const SIGMA = [4, 1.2, 1.2, 0.5];
const GAUSSIAN = gaussianMixture([1], matrix(1, 2, Float64Array.from(MU)), SIGMA);
const N = 4000;
const DATA = generateGaussianMixture(GAUSSIAN, N, 3).data;
const OPTIONS = { cells: 1, levels: 4, horizon: 2, tMin: 0.05, draws: 4, seed: 1 } as const;

/** C = a^2 Sigma + sigma^2 I at t, its inverse P and its Cholesky factor (2 x 2). */
function covarianceAt(t: number): { a: number; s2: number; C: number[]; P: number[]; L: Float64Array } {
  const a = Math.exp(-t);
  const s2 = -Math.expm1(-2 * t);
  const C = SIGMA.map((v, i) => a * a * v + (i === 0 || i === 3 ? s2 : 0));
  const det = C[0]! * C[3]! - C[1]! * C[2]!;
  const P = [C[3]! / det, -C[1]! / det, -C[2]! / det, C[0]! / det];
  const L = new Float64Array(4);
  choleskyInto(Float64Array.from(C), 2, L);
  return { a, s2, C, P, L };
}

/**
 * eps^2(t) = E_{x ~ q_t} ||s_hat(x) - s*(x)||^2 in closed form for an affine s_hat(x) = A (x - c) + b against
 * s*(x) = -P (x - a mu): with M = A + P and x - a mu ~ N(0, C = L L^T), eps^2 = ||M L||_F^2 + ||s_hat(a mu)||^2.
 */
function affineError(A: number[], b: number[], c: number[], t: number): number {
  const { a, P, L } = covarianceAt(t);
  const M = A.map((v, i) => v + P[i]!);
  let frob = 0;
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) frob += (M[i * 2]! * L[j]! + M[i * 2 + 1]! * L[2 + j]!) ** 2;
  let off = 0;
  for (let i = 0; i < 2; i++) off += (A[i * 2]! * (a * MU[0]! - c[0]!) + A[i * 2 + 1]! * (a * MU[1]! - c[1]!) + b[i]!) ** 2;
  return frob + off;
}

/** The affine map of a one-cell degree-1 level: coef rows 0..d-1 are A^T, row d is b. */
function affineOf(level: PiecewiseLevel): { A: number[]; b: number[]; c: number[] } {
  const B = level.coef.data;
  return { A: [B[0]!, B[2]!, B[1]!, B[3]!], b: [B[4]!, B[5]!], c: [level.cells.data[0]!, level.cells.data[1]!] };
}

describe('the degree-1 fit on one anisotropic Gaussian', () => {
  it('recovers the exact affine score -(a^2 Sigma + sigma^2 I)^{-1}(x - a mu) at every level within 4 p tr(V) / N', async () => {
    const fit = await fitPiecewise(DATA, OPTIONS);
    expect(fit.model.levels.map((l) => l.t)).toEqual([2, 2 * (0.025 ** (1 / 3)), 2 * (0.025 ** (2 / 3)), 0.05].map((v, i) => (i === 0 || i === 3 ? v : expect.closeTo(v, 12))));
    for (const level of fit.model.levels) {
      const { A, b, c } = affineOf(level);
      const { s2, P } = covarianceAt(level.t);
      // y = -z / sigma given x_t has covariance V = (I - sigma^2 C^{-1}) / sigma^2 (Gaussian conditioning): the
      // least-squares error on M independent pairs is E eps^2 = p tr(V) / M. The R draws of a row share x0, so the
      // N R pairs are worth at least N independent ones: E eps^2 <= p tr(V) / N. eps^2 is then about that times
      // chi^2 with p d = 6 degrees of freedom over 6, and P(chi^2_6 > 24) = 5e-4: the factor 4.
      const trV = (2 - s2 * (P[0]! + P[3]!)) / s2;
      const bound = (4 * 3 * trV) / N;
      const eps2 = affineError(A, b, c, level.t);
      expect(eps2).toBeLessThan(bound);
      // The bound tells models apart: the isotropic guess -(x - a mu) is far outside it.
      const { a } = covarianceAt(level.t);
      expect(affineError([-1, 0, 0, -1], [0, 0], [a * MU[0]!, a * MU[1]!], level.t)).toBeGreaterThan(10 * bound);
    }
  });

  it('takes its moments through the injected function, awaited, level l at counter steps l R (fit) and (L + l) R (held out)', async () => {
    const steps: number[] = [];
    const counting: MomentsFunction = async (data: Matrix, cells: Matrix, o: MomentOptions) => {
      steps.push(o.firstStep);
      return cellMoments(data, cells, o);
    };
    const viaAsync = await fitPiecewise(DATA, OPTIONS, counting);
    const direct = await fitPiecewise(DATA, OPTIONS);
    expect(steps).toEqual([0, 16, 4, 20, 8, 24, 12, 28]);
    viaAsync.model.levels.forEach((l, i) => expect(l.coef.data).toEqual(direct.model.levels[i]!.coef.data));
  });

  it('reports a singular Gram matrix that the ridge made solvable', async () => {
    // Feature 1's row and column zeroed: its Gram matrix is singular whatever the data.
    const singular: MomentsFunction = (data, cells, o) => {
      const m = cellMoments(data, cells, o);
      const p = 3;
      for (let j = 0; j < cells.rows; j++) {
        for (let f = 0; f < p; f++) m.gram[j * p * p + f] = m.gram[j * p * p + f * p] = 0;
        for (let c = 0; c < 2; c++) m.cross[j * p * 2 + c] = 0;
      }
      return m;
    };
    const fit = await fitPiecewise(DATA, OPTIONS, singular);
    expect(fit.notes.length).toBe(4);
    expect(fit.notes[0]).toMatch(/level 1 of 4 .*cell 1 \(1-based, \d+ points\) has a singular Gram matrix; the ridge lambda = [\d.e-]+ made it solvable/);
    for (const l of fit.model.levels) expect(l.coef.data.every(Number.isFinite)).toBe(true);
    // A fixed ridge of 0 cannot solve it, and says which level.
    await expect(fitPiecewise(DATA, { ...OPTIONS, ridge: 0 }, singular)).rejects.toThrow(/level 1 of 4 .*singular at the fixed ridge 0/);
  });

  it('merges a cell with too few points into its neighbours, or refuses it naming the cell and its count', async () => {
    const small = matrix(20, 2, DATA.data.slice(0, 40));
    const opts = { ...OPTIONS, cells: 8, draws: 1 } as const;
    const merged = await fitPiecewise(small, opts);
    expect(merged.notes.some((n) => /merged \d+ cell\(s\) with fewer than 6 points \(cell \d+: \d+/.test(n))).toBe(true);
    for (const l of merged.model.levels) expect(l.cells.rows).toBeLessThan(8);
    await expect(fitPiecewise(small, { ...opts, smallCells: 'refuse' })).rejects.toThrow(/level \d+ of 4 \(1-based, t = [\d.]+\): cell \d+ \(1-based\) has \d+ noisy points, fewer than 2 p = 6/);
  });
});

describe('the held-out split', () => {
  it('holds out the rows n mod 5 = 4 for every N mod 5, and fits at N = 4 mod 5', async () => {
    for (const rows of [4, 5, 8, 9, 10, 11, 1024]) {
      const data = matrix(rows, 2, Float64Array.from({ length: 2 * rows }, (_, i) => i));
      const { train, heldOut } = heldOutSplit(data);
      const held = [...Array(rows).keys()].filter((n) => n % 5 === 4);
      expect(heldOut.rows).toBe(held.length);
      expect(train.rows + heldOut.rows).toBe(rows);
      expect([...heldOut.data]).toEqual(held.flatMap((n) => [2 * n, 2 * n + 1]));
    }
    // 1024 = 4 mod 5: the held-out count was once taken as floor((N + 1) / 5), one row too many.
    const fit = await fitPiecewise(matrix(1024, 2, DATA.data.slice(0, 2048)), OPTIONS);
    expect(fit.model.levels).toHaveLength(OPTIONS.levels);
  });
});

describe('the ridge toward a prior', () => {
  it('is the ridge toward 0 with a zero prior, and tends to the prior as lambda grows', () => {
    const m = cellMoments(DATA, matrix(2, 2, Float64Array.from([0, -2, 2, -2])), { t: 0.1, degree: 1, seed: 1, draws: 2, firstStep: 0 });
    const zero = new Float64Array(2 * 3 * 2);
    expect(solveCells(m, 3, 2, 1e-3, zero)).toEqual(solveCells(m, 3, 2, 1e-3));
    // (G + mu I) B = X + mu P gives B - P = (G + mu I)^{-1} (X - G P), of order ||X - G P|| / mu: with mu = 1e10
    // times the mean diagonal (about N R / 2 = 4000 points times E u^2) it is below 1e-6 of the entries here.
    const prior = Float64Array.from({ length: 12 }, (_, i) => i - 5.5);
    const B = solveCells(m, 3, 2, 1e10, prior)!;
    B.forEach((v, i) => expect(v).toBeCloseTo(prior[i]!, 6));
  });
});
