// Seeded synthetic data: a balanced spherical Gaussian mixture (docs/math.md section 1)
// with its true centres, from the shared Philox noise (docs/math.md section 7, stream 1).
import { InputError } from './errors.ts';
import { noiseBlock, noiseMatrix, philoxNormals, STREAM_DATA_GENERATOR } from './math/philox.ts';

export { philoxNormals };
import { matrix, type Matrix } from './types.ts';
import {
  requireCentreCount,
  requireEnoughSamples,
  requirePositiveFinite,
  requirePositiveInteger,
  requireSeed,
} from './validate.ts';

export interface MixtureSpec {
  /** K, the number of components. */
  readonly k: number;
  /** d, the dimension. */
  readonly d: number;
  /** N, the number of samples (N >= K). */
  readonly n: number;
  /** The minimum distance between two true centres (for K = 1: twice the centre's norm). */
  readonly separation: number;
  readonly seed: number;
}

export interface Mixture {
  /** N x d samples. */
  readonly data: Matrix;
  /** K x d true centres mu*. */
  readonly truth: Matrix;
  /** Component of each sample: i % K, so the mixture is exactly balanced. */
  readonly labels: Int32Array;
}

/** Philox stream of the generator (math/streams.ts). */
export const GENERATOR_STREAM = STREAM_DATA_GENERATOR;

/** Validates a mixture specification; each problem is an InputError naming the fix. */
export function validateMixtureSpec(spec: MixtureSpec): void {
  requireCentreCount(spec.k);
  requirePositiveInteger(spec.d, 'the dimension d (--d)');
  requirePositiveInteger(spec.n, 'the number of samples N (--n)');
  requireEnoughSamples(spec.n, spec.k);
  requirePositiveFinite(spec.separation, 'the separation (--separation)');
  requireSeed(spec.seed);
}

/**
 * The true centres: K standard Gaussian vectors (Philox step 0, sample index j, stream 1)
 * scaled by one common factor so that the minimum pairwise distance is `separation`.
 * K = 1 has no pairs: the centre is the direction of its Gaussian vector with norm
 * separation / 2, i.e. as far from the origin as each centre of a symmetric pair.
 */
export function trueCentres(k: number, d: number, separation: number, seed: number): Matrix {
  // Row j is noiseBlock(seed, step 0, n = j, c4, stream 1), coordinates in blocks of 4.
  const g = noiseMatrix(seed, 0, k, d, GENERATOR_STREAM).data;
  let base: number;
  if (k === 1) {
    let s = 0;
    for (const v of g) s += v * v;
    base = 2 * Math.sqrt(s);
  } else {
    base = Infinity;
    for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        let s = 0;
        for (let c = 0; c < d; c++) {
          const diff = g[a * d + c]! - g[b * d + c]!;
          s += diff * diff;
        }
        base = Math.min(base, Math.sqrt(s));
      }
    }
  }
  if (!(base > 0)) {
    throw new InputError(`seed ${seed} gives two coincident centres for K = ${k}, d = ${d}; choose another --seed`);
  }
  const scale = separation / base;
  for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
  return matrix(k, d, g);
}

/** A balanced spherical mixture: sample i has label i % K and is truth[label] + N(0, I_d). */
export function generateMixture(spec: MixtureSpec): Mixture {
  validateMixtureSpec(spec);
  const { k, d, n, separation, seed } = spec;
  const truth = trueCentres(k, d, separation, seed);
  // Step 1 keeps the sample noise apart from the centres' draws (step 0) in the same stream.
  const data = noiseMatrix(seed, 1, n, d, GENERATOR_STREAM).data;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % k;
    labels[i] = label;
    for (let c = 0; c < d; c++) data[i * d + c] = data[i * d + c]! + truth.data[label * d + c]!;
  }
  return { data: matrix(n, d, data), truth, labels };
}

/** The two families of test mixture: crowded (minimum separation 4 to 6) and well separated (about 10). */
export type MixtureFamily = 'crowded' | 'separated';

/**
 * A seeded test mixture of the family, with K = 12..24, d = 4..20 and N = `perComponent` K (default 1000):
 * the sizes and the separation are Philox uniforms of the seed and family (stream 1, counter step 2, apart from the
 * centres' step 0 and the samples' step 1), the rest is generateMixture.
 */
export function familyMixture(family: MixtureFamily, seed: number, perComponent = 1000): Mixture & { readonly spec: MixtureSpec } {
  requireSeed(seed);
  const u = (draw: number): number => {
    const z = noiseBlock(seed, 2, draw, 0, GENERATOR_STREAM);
    return Math.min((Math.atan2(z[1]!, z[0]!) + Math.PI) / (2 * Math.PI), 1 - Number.EPSILON);
  };
  const first = family === 'crowded' ? 0 : 3;
  const k = 12 + Math.floor(u(first) * 13);
  const d = 4 + Math.floor(u(first + 1) * 17);
  const separation = family === 'crowded' ? 4 + 2 * u(first + 2) : 9.5 + u(first + 2);
  const spec = { k, d, n: perComponent * k, separation, seed };
  return { ...generateMixture(spec), spec };
}

/** Whether every true centre has a learned centre within `fraction` of the minimum separation (default a third). */
export function centresFound(learned: Matrix, truth: Matrix, separation: number, fraction = 1 / 3): boolean {
  const d = truth.cols;
  for (let i = 0; i < truth.rows; i++) {
    let best = Infinity;
    for (let j = 0; j < learned.rows; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (truth.data[i * d + c]! - learned.data[j * d + c]!) ** 2;
      best = Math.min(best, s);
    }
    if (!(Math.sqrt(best) <= fraction * separation)) return false;
  }
  return true;
}

/** A mixture with unequal spreads and weights: its spherical standard deviations and weights beside the centres. */
export interface SpreadMixture extends Mixture {
  readonly spreads: Float64Array;
  readonly weights: Float64Array;
}

/**
 * A seeded mixture with unequal spreads and weights (docs/experiments.md, 'Fitting variances and weights'): K = 3..8,
 * d = 2..10, minimum centre separation 6..10, standard deviations 0.5..2 and weights proportional to 1..4, all
 * Philox uniforms of the seed (stream 1, counter step 2, draws from 16 on, apart from familyMixture's); N = perComponent K,
 * labels in the weights' proportions, sample = truth[label] + spread[label] N(0, I_d).
 */
export function spreadMixture(seed: number, perComponent = 500): SpreadMixture {
  requireSeed(seed);
  const u = (draw: number): number => {
    const z = noiseBlock(seed, 2, 16 + draw, 0, GENERATOR_STREAM);
    return Math.min((Math.atan2(z[1]!, z[0]!) + Math.PI) / (2 * Math.PI), 1 - Number.EPSILON);
  };
  const k = 3 + Math.floor(u(0) * 6);
  const d = 2 + Math.floor(u(1) * 9);
  const separation = 6 + 4 * u(2);
  const spreads = Float64Array.from({ length: k }, (_, i) => 0.5 + 1.5 * u(3 + 2 * i));
  const raw = Array.from({ length: k }, (_, i) => 1 + 3 * u(4 + 2 * i));
  const total = raw.reduce((p, q) => p + q, 0);
  const weights = Float64Array.from(raw, (w) => w / total);
  const n = perComponent * k;
  validateMixtureSpec({ k, d, n, separation, seed });
  const truth = trueCentres(k, d, separation, seed);
  const data = noiseMatrix(seed, 1, n, d, GENERATOR_STREAM).data;
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let label = 0;
    for (let cum = weights[0]!; label < k - 1 && (r + 0.5) / n > cum; ) cum += weights[++label]!;
    labels[r] = label;
    for (let c = 0; c < d; c++) data[r * d + c] = truth.data[label * d + c]! + spreads[label]! * data[r * d + c]!;
  }
  return { data: matrix(n, d, data), truth, labels, spreads, weights };
}
