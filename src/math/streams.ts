// The one registry of Philox stream ids (docs/math.md section 7). Every random draw in the project names
// its stream here, so no two purposes ever share one and a new purpose takes the next free id.
export const STREAMS = {
  /** The DDPM training noise z (GPU and CPU draw it identically). */
  trainingNoise: 0,
  /** The synthetic data generator. */
  dataGenerator: 1,
  /** Seeded choices of data rows (initial centres, random-row starts). */
  initRows: 2,
  /** The warm start's displacement directions (Theorem 16). */
  warmStart: 3,
  /** Seeded starts inside the algorithms: k-means++, the random direction of Theorem 7. */
  seeding: 4,
  /** DdpmGmm.sample: component choice and the N(0, I) draws. */
  sample: 6,
  /** The samplers of docs/math.md section 11: the N(0, I) start and the noise of every step. */
  sampler: 7,
  /** Monte Carlo draws of the sampling metrics (the score error of docs/math.md section 11). */
  metrics: 8,
  /** The piecewise score fit's noise draws (docs/math.md section 13): counter step = level * draws + draw. */
  piecewise: 9,
  /** The screened schedule's subsample (counter step 0) and its k-means++ starts (step 1 + start). */
  screen: 10,
} as const;

export type StreamName = keyof typeof STREAMS;
