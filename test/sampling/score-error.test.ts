// The score error eps_sc^2(t) and the identity L_t(s) - L_t(s*) = eps_sc^2 (docs/math.md sections 4 and 11).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix, STREAM_TRAINING_NOISE } from '../../src/math/philox.ts';
import { scoreError } from '../../src/metrics/cpu.ts';
import { mixtureScore } from '../../src/sampling/score.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { directSamples, fromRows, meanAndError } from './support.ts';

const EPS = Number.EPSILON;

/**
 * L_t(s) - L_t(s*) by Monte Carlo on data from the true mixture, per pair n with common noise:
 * ||s(x_t) + z/sigma||^2 - ||s*(x_t) + z/sigma||^2 (L of docs/math.md section 4). Also returns L(s) - L(s*)
 * from CpuBackend.lossAndGradient on the same pairs.
 */
async function lossGap(centres: Matrix, truth: Matrix, t: number, N: number, seed: number) {
  const data = directSamples(truth, N, seed);
  const z = noiseMatrix(seed, 0, N, truth.cols, STREAM_TRAINING_NOISE);
  const { a, sigma } = forwardCoefficients(t);
  const x = matrix(N, truth.cols);
  for (let i = 0; i < x.data.length; i++) x.data[i] = a * data.data[i]! + sigma * z.data[i]!;
  const [s, sTrue] = [mixtureScore(x, centres, t), mixtureScore(x, truth, t)];
  const d = truth.cols;
  const diffs = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const i = n * d + c;
      diffs[n] += (s.data[i]! + z.data[i]! / sigma) ** 2 - (sTrue.data[i]! + z.data[i]! / sigma) ** 2;
    }
  }
  const backend = new CpuBackend();
  const options = { noiseScale: t, tied: false, noise: { kind: 'matrix', z } } as const;
  const loss = async (mu: Matrix) => (await backend.lossAndGradient(data, mu, options)).loss;
  return { ...meanAndError(diffs), backendGap: (await loss(centres)) - (await loss(truth)) };
}

describe('score error', () => {
  it('is exactly 0 at the truth', () => {
    const truth = fromRows([[2, 0.5], [-1, 1], [0, -2]]);
    expect(scoreError(truth, truth, 0.3, 300, 1)).toEqual({ value: 0, standardError: 0 });
  });

  it('K = 1: eps_sc^2 = ||m - m*||^2 = L_t(s) - L_t(s*)', async () => {
    const truth = fromRows([[1, -0.5, 2]]);
    const centres = fromRows([[1.4, 0.2, 1.7]]);
    const t = 0.3;
    const a = Math.exp(-t);
    const gap2 = [0.4, 0.7, -0.3].reduce((s, v) => s + (a * v) ** 2, 0);
    const err = scoreError(centres, truth, t, 4000, 2);
    // s - s* = m - m* for every x up to the rounding of (m - x) - (m* - x): within 4 eps (|m| + |x|) per
    // coordinate with |x| < 9, so eps_sc^2 within 2 ||m - m*|| sqrt(3) 4 eps 11.
    expect(Math.abs(err.value - gap2)).toBeLessThan(2 * Math.sqrt(gap2) * Math.sqrt(3) * 4 * EPS * 11);
    const lhs = await lossGap(centres, truth, t, 50000, 3);
    // Monte Carlo: 4 standard errors of the per-pair differences (the right side has none).
    expect(Math.abs(lhs.mean - gap2)).toBeLessThan(4 * lhs.se);
    // The backend's L is the same sum in another order (relative rounding ~ N eps on the two losses).
    expect(Math.abs(lhs.backendGap - lhs.mean)).toBeLessThan(1e-9);
  });

  it('K = 2: the identity holds to the Monte Carlo error of both sides', async () => {
    const truth = fromRows([[1.5, 0.5], [-1.5, -0.5]]);
    const centres = fromRows([[1.1, 0.9], [-1.8, 0.2]]);
    const t = 0.4;
    const rhs = scoreError(centres, truth, t, 100000, 4);
    const lhs = await lossGap(centres, truth, t, 100000, 5);
    // Independent draws: 4 standard errors of the difference, sqrt(se_L^2 + se_sc^2), measured.
    const tol = 4 * Math.hypot(lhs.se, rhs.standardError);
    expect(Math.abs(lhs.mean - rhs.value)).toBeLessThan(tol);
    // A test that can fail: the tolerance is a small part of the error being measured.
    expect(tol).toBeLessThan(0.25 * rhs.value);
    expect(Math.abs(lhs.backendGap - lhs.mean)).toBeLessThan(1e-9);
  });
});
