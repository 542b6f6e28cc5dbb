// One table of engine cases (ONNX Runtime's operator-test style, docs/architecture.md) that every backend's tests
// iterate, and the seeded problem each case stands for. The float32 error analysis that turns a case into a
// derived tolerance is in bounds.ts (the fused pass), noise-bounds.ts (the GPU noise) and gd-propagation.ts.
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR, STREAM_TRAINING_NOISE } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';

export interface EngineCase {
  readonly id: string;
  /** Components of the student (2 when tied; the tied centres are then 1 x d). */
  readonly k: number;
  readonly d: number;
  readonly n: number;
  /** Noise scale t. */
  readonly t: number;
  readonly tied: boolean;
  readonly seed: number;
}

function engineCase(k: number, d: number, n: number, t: number, tied: boolean, seed: number): EngineCase {
  return { id: `K${k}${tied ? 'tied' : ''}-d${d}-N${n}-t${t}`, k, d, n, t, tied, seed };
}

/**
 * A representative cross product of K in {1,2,3,8,16,33}, d in {1,3,5,16,64,100}, N in {1,63,64,65,1000,100003},
 * t in {0.05,0.5,3}, tied on and off: every value of each axis appears; d not a multiple of 4 and N not a
 * multiple of the tile (32 or 29 samples) appear many times; N = 100003 appears once (it is slow on SwiftShader).
 * (K, d) pairs repeat where they can, because each new pair compiles new pipelines (~1 to 5 s on SwiftShader).
 */
export const CASES: readonly EngineCase[] = [
  engineCase(1, 1, 1, 0.5, false, 11), // K = 1 and N = 1: one sample, one component
  engineCase(1, 3, 63, 0.05, false, 12),
  engineCase(1, 5, 1000, 3, false, 13),
  engineCase(2, 5, 64, 0.5, true, 14), // tied K = 2, d not a multiple of 4
  engineCase(2, 1, 63, 0.05, true, 15),
  engineCase(2, 64, 1000, 3, true, 16),
  engineCase(2, 16, 65, 3, false, 17),
  engineCase(3, 5, 1000, 0.05, false, 18),
  engineCase(3, 100, 65, 0.5, false, 19),
  engineCase(3, 100, 1000, 3, false, 20),
  engineCase(8, 16, 1000, 0.05, false, 21),
  engineCase(8, 3, 63, 3, false, 22),
  engineCase(16, 64, 65, 3, false, 23),
  engineCase(16, 64, 100003, 0.5, false, 24), // the one large case: N > 65,535 tiles' worth of workgroups walk several tiles
  engineCase(33, 3, 64, 0.05, false, 25),
  engineCase(33, 16, 1000, 0.5, false, 26),
];

/** The cases that the seeded-noise check re-runs (small, and with d not a multiple of 4 so padding noise would show). */
export const SEEDED_CASE_IDS: readonly string[] = ['K1-d1-N1-t0.5', 'K2tied-d5-N64-t0.5', 'K3-d5-N1000-t0.05', 'K8-d3-N63-t3'];

export function caseById(id: string): EngineCase {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id} in test/support/cases.ts`);
  return c;
}

export interface Problem {
  /** N x d data X0: a balanced mixture around the true centres. */
  readonly data: Matrix;
  /** The (unscaled) centres mu at which the loss and gradient are evaluated: K x d, or 1 x d tied. */
  readonly centres: Matrix;
  /** An explicit N x d noise matrix Z. */
  readonly z: Matrix;
}

/**
 * The seeded problem of a case, all from Philox (docs/math.md section 7): true centres (stream 1, step 1) with norm
 * about 3, data = true centre (n mod K) + a standard normal (stream 1, step 0), evaluation centres = truth + a
 * perturbation of norm about 1 (stream 1, step 2), and Z from the training stream 0 under another seed.
 */
export function makeProblem(c: EngineCase): Problem {
  const { k, d, n, seed } = c;
  const scale = 3 / Math.sqrt(d);
  const base = noiseMatrix(seed, 1, k, d, STREAM_DATA_GENERATOR);
  const truth = matrix(k, d, base.data.map((v) => scale * v));
  if (c.tied) for (let i = 0; i < d; i++) truth.data[d + i] = -truth.data[i]!; // symmetric pair, docs/math.md section 1
  const data = noiseMatrix(seed, 0, n, d, STREAM_DATA_GENERATOR);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) data.data[r * d + i] += truth.data[(r % k) * d + i]!;
  const rows = c.tied ? 1 : k;
  const jitter = noiseMatrix(seed, 2, rows, d, STREAM_DATA_GENERATOR);
  const centres = matrix(rows, d, jitter.data.map((v, i) => truth.data[i]! + v / Math.sqrt(d)));
  const z = noiseMatrix(seed + 1000, 0, n, d, STREAM_TRAINING_NOISE);
  return { data, centres, z };
}

/** m = a_t mu, the parameters the engine works with (docs/math.md section 3); tied: the K = 2 rows [m; -m] the GPU stores. */
export function scaledCentres(centres: Matrix, t: number, tied: boolean): Matrix {
  const { a } = forwardCoefficients(t);
  const d = centres.cols;
  if (!tied) return matrix(centres.rows, d, centres.data.map((v) => a * v));
  const m = matrix(2, d);
  for (let i = 0; i < d; i++) {
    m.data[i] = a * centres.data[i]!;
    m.data[d + i] = -a * centres.data[i]!;
  }
  return m;
}
