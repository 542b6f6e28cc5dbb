// The paper's two connections, measured (MATH.md section 9): the cosine between the DDPM step -dL/dm and
// (1) the power-iteration step 2 m* m*^T m - 3 ||m||^2 m of Lemma 8 (tied K = 2, high t), and
// (2) the gradient-EM step E[w_i(x_t)(x_t - m_i)] of Lemma E.4 (K centres, t = Theta(1), near the truth),
// both at scaled centres m = a_t mu. Directions come from lossAndGradient and gradientEmStep.
import { forwardCoefficients } from '../math/forward.ts';
import { noiseMatrix, STREAM_TRAINING_NOISE } from '../math/philox.ts';
import { matrix, type Backend, type Matrix } from '../types.ts';
import { cosine, dot } from './host-math.ts';

/**
 * Connection 1 at scale t: tied m = a_t mu (1 x d) on centred data; m* = a_t mu* from the truth (1 x d,
 * the centre of the symmetric pair). Noise: `draws` fixed Philox steps averaged, to shrink the sampling
 * error of the small high-t gradient.
 */
export async function powerIterationCosine(
  backend: Backend,
  centredData: Matrix,
  mu: Matrix,
  muStar: Matrix,
  t: number,
  seed = 0,
  draws = 1,
): Promise<number> {
  const { a } = forwardCoefficients(t);
  const d = mu.cols;
  const grad = new Float64Array(d);
  for (let s = 0; s < draws; s++) {
    const g = await backend.lossAndGradient(centredData, mu, { noiseScale: t, tied: true, noise: { kind: 'seed', seed, mode: 'fixed', step: s } });
    for (let c = 0; c < d; c++) grad[c] -= g.gradScaled.data[c]! / draws;
  }
  const m = mu.data.map((v) => a * v);
  const ms = muStar.data.map((v) => a * v);
  const msm = dot(ms, m);
  const mm = dot(m, m);
  const power = m.map((v, c) => 2 * ms[c]! * msm - 3 * mm * v);
  return cosine(grad, power);
}

/**
 * Connection 2 at scale t: -dL/dm (K x d, flattened) against the gradient-EM step on the noisy points
 * x_t = a_t x0 + sigma_t z at the scaled centres m (Lemma E.4). gradientEmStep(x_t, m, 1) - m is
 * (1/N) sum_n w_i(x_t,n)(x_t,n - m_i). The noise of both sides is the same Philox draw.
 */
export async function gradientEmCosine(backend: Backend, data: Matrix, mu: Matrix, t: number, seed = 0): Promise<number> {
  const { a, sigma } = forwardCoefficients(t);
  const g = await backend.lossAndGradient(data, mu, { noiseScale: t, tied: false, noise: { kind: 'seed', seed, mode: 'fixed', step: 0 } });
  // The training-noise stream at step 0: the very z the DDPM pass drew (MATH.md section 7).
  const z = noiseMatrix(seed, 0, data.rows, data.cols, STREAM_TRAINING_NOISE);
  const xt = matrix(data.rows, data.cols, data.data.map((v, i) => a * v + sigma * z.data[i]!));
  const m = matrix(mu.rows, mu.cols, mu.data.map((v) => a * v));
  const next = await backend.gradientEmStep(xt, m, 1);
  const gem = next.data.map((v, i) => v - m.data[i]!);
  return cosine(g.gradScaled.data.map((v) => -v), gem);
}
