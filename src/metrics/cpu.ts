// Measures of sample quality and score quality (docs/math.md section 11): the energy distance, the
// score error eps_sc^2(t) against the true mixture (balanced spherical, or general: docs/math.md section 13),
// the mode weights, and the nearest centres they count.
import type { ModeWeights } from './capability.ts';
import { InputError } from '../errors.ts';
import { noiseRowInto, seedKey } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import { mixtureAtTime, mixtureScoreRowInto, type GaussianMixture } from '../full-covariance/mixture.ts';
import { matrix, type Matrix } from '../types.ts';
import { checkSampleSets, checkSamplesAndCentres, checkScoreErrorDraws, checkScoreErrorRequest } from './checks.ts';
import { scaleCentresInto, scoreRowInto, scoreScratch } from '../sampling/score.ts';
import type { Estimate } from '../sampling/estimate.ts';
import { checkScoreSource, isGaussianMixture, isPiecewise, scoreDimension, scoreEvaluator, type ScoreSource } from '../sampling/score-source.ts';
import { isStudentScore } from '../sampling/student-score.ts';
import type { CpuFeature } from '../cpu/context.ts';
import type { SamplingMetrics } from './capability.ts';

/**
 * (1/(n m)) sum_ij ||x_i - y_j||; for x = y the diagonal is 0 and each pair counts twice. Neumaier's
 * compensated sum keeps the total to a few ulp whatever n m is: D^2 = 2A - B - C cancels, so it matters.
 */
function meanDistance(x: Matrix, y: Matrix, same: boolean): number {
  const d = x.cols;
  const X = x.data;
  const Y = y.data;
  let total = 0;
  let carry = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = same ? i + 1 : 0; j < y.rows; j++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += (X[i * d + c]! - Y[j * d + c]!) ** 2;
      const v = Math.sqrt(sq);
      const t = total + v;
      carry += total >= v ? total - t + v : v - t + total;
      total = t;
    }
  }
  return ((same ? 2 : 1) * (total + carry)) / (x.rows * y.rows);
}

/**
 * The energy distance of the two empirical distributions, a V-statistic (docs/math.md section 11):
 * sqrt(2 E||X - Y|| - E||X - X'|| - E||Y - Y'||), equal to scipy.stats.energy_distance in 1-D. Exact
 * float64, O(n m d).
 */
export function energyDistance(x: Matrix, y: Matrix): number {
  checkSampleSets(x, y);
  const sq = 2 * meanDistance(x, y, false) - meanDistance(x, x, true) - meanDistance(y, y, true);
  // The V-statistic is >= 0 (the distance is a conditionally negative definite kernel): a negative is rounding.
  return Math.sqrt(Math.max(0, sq));
}

export type { Estimate } from '../sampling/estimate.ts';

/**
 * eps_sc^2(t) = E_{x ~ q_t} ||s_theta(x) - grad log q_t(x)||^2 (docs/math.md section 11). s_theta is the score of
 * `model`: the mixture of K x d centres, a piecewise model or a general mixture (docs/math.md section 13). q_t
 * is the true mixture: K* x d centres with unit variance and weights 1/K*, or a general Gaussian mixture.
 * Stratified: draw n belongs to true component n mod K*, and the estimate weights the K* component means by
 * the true weights, so it is unbiased for any sample count. x = a_t mu*_c + chol(C_c) z (C_c = I for
 * centres) with z the Philox normals (n, ., step 0, STREAMS.metrics).
 */
export function scoreError(model: ScoreSource, truth: Matrix | GaussianMixture, t: number, samples: number, seed: number): Estimate {
  const general = isGaussianMixture(truth);
  const trueCentres = general ? truth.means : truth;
  const d = trueCentres.cols;
  const modelIsMatrix = !isPiecewise(model) && !isGaussianMixture(model) && !isStudentScore(model);
  if (modelIsMatrix) {
    // Centres against centres, or against a general mixture's means: the same checks as the GPU's.
    checkScoreErrorRequest(model, trueCentres, t, samples, seed);
  } else if (!general) {
    // A piecewise or general model against centres: the centres' checks, with the model's d.
    checkScoreErrorRequest(matrix(1, checkScoreSource(model, "the score error's model")), trueCentres, t, samples, seed);
  } else {
    if (checkScoreSource(model, "the score error's model") !== d) {
      throw new InputError(`the score error's model and true mixture need the same d (got ${scoreDimension(model)} and ${d})`);
    }
    checkScoreErrorDraws(t, samples, trueCentres.rows, seed);
  }
  const Kt = trueCentres.rows;
  const [k0, k1] = seedKey(seed);
  const a = Math.exp(-t);
  const ev = scoreEvaluator(model);
  ev.setTime(t, a);
  const truth0 = scoreScratch(Kt, d);
  scaleCentresInto(trueCentres.data, a, truth0.scaled);
  const q = general ? mixtureAtTime(truth, t) : undefined;
  const words = new Uint32Array(4);
  const x = new Float64Array(((d + 3) >>> 2) * 4);
  const z = new Float64Array(d);
  const s = new Float64Array(d);
  const sTrue = new Float64Array(d);
  // Per true component: count, mean and sum of squared deviations (Welford), for the stratified estimate.
  const count = new Float64Array(Kt);
  const mean = new Float64Array(Kt);
  const m2 = new Float64Array(Kt);
  for (let n = 0; n < samples; n++) {
    const comp = n % Kt;
    noiseRowInto(k0, k1, 0, n, d, STREAMS.metrics, words, x);
    if (q === undefined) {
      for (let c = 0; c < d; c++) x[c] = truth0.scaled[comp * d + c]! + x[c]!;
      scoreRowInto(x, 0, Kt, d, truth0, sTrue, 0);
    } else {
      z.set(x.subarray(0, d));
      const o = comp * d * d;
      for (let c = 0; c < d; c++) {
        let v = q.scaledMeans[comp * d + c]!;
        for (let k = 0; k <= c; k++) v += q.chol[o + c * d + k]! * z[k]!;
        x[c] = v;
      }
      mixtureScoreRowInto(q, x, 0, sTrue, 0);
    }
    ev.rowInto(x, 0, s, 0);
    let e = 0;
    for (let c = 0; c < d; c++) e += (s[c]! - sTrue[c]!) ** 2;
    const cnt = count[comp]! + 1;
    count[comp] = cnt;
    const delta = e - mean[comp]!;
    mean[comp] = mean[comp]! + delta / cnt;
    m2[comp] = m2[comp]! + delta * (e - mean[comp]!);
  }
  let value = 0;
  let variance = 0;
  for (let c = 0; c < Kt; c++) {
    if (general) {
      const w = truth.weights[c]!;
      value += w * mean[c]!;
      variance += (w * w * m2[c]!) / (count[c]! - 1) / count[c]!;
    } else {
      value += mean[c]! / Kt;
      variance += m2[c]! / (count[c]! - 1) / count[c]! / (Kt * Kt);
    }
  }
  return { value, standardError: Math.sqrt(variance) };
}

/** For each row of `samples`, argmin_j ||x - mu_j||^2 over the rows of `centres`, without checks; a later centre wins only when strictly nearer, so ties go to the lower index. */
function nearestRows(samples: Matrix, centres: Matrix): Int32Array {
  const { rows: K, cols: d } = centres;
  const labels = new Int32Array(samples.rows);
  for (let n = 0; n < samples.rows; n++) {
    let best = 0;
    let bestSq = Infinity;
    for (let i = 0; i < K; i++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += (samples.data[n * d + c]! - centres.data[i * d + c]!) ** 2;
      if (sq < bestSq) {
        bestSq = sq;
        best = i;
      }
    }
    labels[n] = best;
  }
  return labels;
}

/** The index of each sample's nearest centre (Euclidean, float64), ties to the lower index: the hard assignment. */
export function nearestCentres(samples: Matrix, centres: Matrix): Int32Array {
  checkSamplesAndCentres(samples, centres, 'the nearest centres');
  return nearestRows(samples, centres);
}

/** Mode weights of `samples` against `trueCentres` (docs/math.md section 11); ties go to the lower index. */
export function modeWeights(samples: Matrix, trueCentres: Matrix): ModeWeights {
  checkSampleSets(samples, trueCentres, 'the mode weights');
  const K = trueCentres.rows;
  const counts = new Float64Array(K);
  for (const best of nearestRows(samples, trueCentres)) counts[best] = counts[best]! + 1;
  const weights = Array.from(counts, (c) => c / samples.rows);
  const maxDeviation = Math.max(...weights.map((w) => Math.abs(w - 1 / K)));
  return { weights, maxDeviation };
}

/** The metrics feature's CPU twin, registered in src/cpu/features.ts. */
export const metricsOnCpu: CpuFeature<SamplingMetrics> = () => ({
  energyDistance: async (x, y) => energyDistance(x, y),
  scoreError: async (centres, trueCentres, t, samples, seed) => scoreError(centres, trueCentres, t, samples, seed),
  modeWeights: async (samples, trueCentres) => modeWeights(samples, trueCentres),
  nearestCentres: async (samples, centres) => nearestCentres(samples, centres),
});
