// The paper's two connections, measured (docs/math.md section 9): the cosine between the DDPM step -dL/dm and
// (1) a power-iteration step (tied K = 2, high t), in two forms: the paper's 2 m* m*^T m - 3 ||m||^2 m of
//     Lemma 8, and 4 m* m*^T m - 4 ||m||^2 m, the expansion of -dL/dm for L normalised as in docs/math.md
//     section 4 (derived in section 9 and checked by quadrature in test/algorithms/connections.test.ts);
// (2) the gradient-EM step E[w_i(x_t)(x_t - m_i)] of Lemma E.4 (K centres, t = Theta(1), near the truth),
// all at scaled centres m = a_t mu. Directions come from lossAndGradient and gradientEmStep. The suite's
// connections experiment calls these at chosen points; the loop's `connections` option calls them at every
// logged step of a run (loop.ts).
import { forwardCoefficients } from '../math/forward.ts';
import { noiseMatrix, STREAM_TRAINING_NOISE } from '../math/philox.ts';
import { matrix, type Matrix } from '../types.ts';
import type { Trainer } from '../training/capability.ts';
import { cosine, dot } from './matrix-math.ts';

/**
 * m* m*^T m at scaled m, with m* = a_t mu*; without the truth, m* m*^T is replaced by its data estimate
 * a_t^2 (S - I), S the centred data's second moment (docs/math.md section 9: S - I = mu* mu*^T in expectation),
 * which makes the steps below power iteration on the data.
 */
function mStarProjection(centredData: Matrix, m: Float64Array, a: number, muStar?: Float64Array): Float64Array {
  if (muStar) {
    const ms = muStar.map((v) => a * v);
    const msm = dot(ms, m);
    return ms.map((v) => v * msm);
  }
  const { rows, cols, data } = centredData;
  const sm = new Float64Array(cols);
  for (let n = 0; n < rows; n++) {
    let u = 0;
    for (let c = 0; c < cols; c++) u += data[n * cols + c]! * m[c]!;
    for (let c = 0; c < cols; c++) sm[c] += (data[n * cols + c]! * u) / rows;
  }
  return m.map((v, c) => a * a * (sm[c]! - v));
}

/**
 * The paper's power-iteration step of Lemma 8 at scaled m (tied, centred data): 2 m* m*^T m - 3 ||m||^2 m,
 * m* = a_t mu* (or the data estimate, see mStarProjection): 2 a_t^2 (S - I) m - 3 ||m||^2 m. Its constants are
 * the paper's; for this project's L see correctedPowerStep.
 */
export function powerIterationStep(centredData: Matrix, m: Float64Array, a: number, muStar?: Float64Array): Float64Array {
  const mm = dot(m, m);
  const p = mStarProjection(centredData, m, a, muStar);
  return m.map((v, c) => 2 * p[c]! - 3 * mm * v);
}

/**
 * The power-iteration step for L normalised as in docs/math.md section 4: 4 m* m*^T m - 4 ||m||^2 m, the
 * expected -dL/dm up to terms of fifth order in (m, m*) (docs/math.md section 9). Its linear part is exact
 * in m*; it vanishes at m = +-m*, where the exact expected gradient does, not at Lemma 8's sqrt(2/3) ||m*||.
 * m* m*^T as in powerIterationStep (truth, or the data estimate a_t^2 (S - I)).
 */
export function correctedPowerStep(centredData: Matrix, m: Float64Array, a: number, muStar?: Float64Array): Float64Array {
  const mm = dot(m, m);
  const p = mStarProjection(centredData, m, a, muStar);
  return m.map((v, c) => 4 * p[c]! - 4 * mm * v);
}

/** Connection 1's two cosines: against the paper's step (Lemma 8) and against this normalisation's. */
export interface PowerCosines {
  /** cos(-dL/dm, 2 m* m*^T m - 3 ||m||^2 m), the paper's constants. */
  readonly paper: number;
  /** cos(-dL/dm, 4 m* m*^T m - 4 ||m||^2 m), the expansion for docs/math.md section 4's L. */
  readonly corrected: number;
}

/**
 * Connection 1 at scale t: tied m = a_t mu (1 x d) on centred data; m* = a_t mu* from the truth (1 x d,
 * the centre of the symmetric pair), or the data estimate without it (mStarProjection). Noise: `draws`
 * fixed Philox steps from `step` on, averaged, to shrink the sampling error of the small high-t gradient.
 * One DDPM gradient serves both cosines.
 */
export async function powerIterationCosines(
  backend: Trainer,
  centredData: Matrix,
  mu: Matrix,
  muStar: Matrix | undefined,
  t: number,
  seed = 0,
  draws = 1,
  step = 0,
): Promise<PowerCosines> {
  const { a } = forwardCoefficients(t);
  const d = mu.cols;
  const grad = new Float64Array(d);
  for (let s = 0; s < draws; s++) {
    const g = await backend.lossAndGradient(centredData, mu, { noiseScale: t, tied: true, noise: { kind: 'seed', seed, mode: 'fixed', step: step + s } });
    for (let c = 0; c < d; c++) grad[c] -= g.gradScaled.data[c]! / draws;
  }
  const m = mu.data.map((v) => a * v);
  return {
    paper: cosine(grad, powerIterationStep(centredData, m, a, muStar?.data)),
    corrected: cosine(grad, correctedPowerStep(centredData, m, a, muStar?.data)),
  };
}

/** Connection 1 against the paper's step alone (powerIterationCosines' `paper`). */
export async function powerIterationCosine(
  backend: Trainer,
  centredData: Matrix,
  mu: Matrix,
  muStar: Matrix | undefined,
  t: number,
  seed = 0,
  draws = 1,
  step = 0,
): Promise<number> {
  return (await powerIterationCosines(backend, centredData, mu, muStar, t, seed, draws, step)).paper;
}

/**
 * Connection 2 at scale t: -dL/dm (K x d, flattened) against the gradient-EM step on the noisy points
 * x_t = a_t x0 + sigma_t z at the scaled centres m (Lemma E.4). gradientEmStep(x_t, m, 1) - m is
 * (1/N) sum_n w_i(x_t,n)(x_t,n - m_i). The noise of both sides is the same Philox draw, at `step`.
 */
export async function gradientEmCosine(backend: Trainer, data: Matrix, mu: Matrix, t: number, seed = 0, step = 0): Promise<number> {
  const { a, sigma } = forwardCoefficients(t);
  const g = await backend.lossAndGradient(data, mu, { noiseScale: t, tied: false, noise: { kind: 'seed', seed, mode: 'fixed', step } });
  // The training-noise stream at that step: the very z the DDPM pass drew (docs/math.md section 7).
  const z = noiseMatrix(seed, step, data.rows, data.cols, STREAM_TRAINING_NOISE);
  const xt = matrix(data.rows, data.cols, data.data.map((v, i) => a * v + sigma * z.data[i]!));
  const m = matrix(mu.rows, mu.cols, mu.data.map((v) => a * v));
  const next = await backend.gradientEmStep(xt, m, 1);
  const gem = next.data.map((v, i) => v - m.data[i]!);
  return cosine(g.gradScaled.data.map((v) => -v), gem);
}
