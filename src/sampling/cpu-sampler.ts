// The float64 CPU sampler (docs/math.md section 11): reverse diffusion, the probability-flow ODE and
// Langevin dynamics with a score read through ScoreEvaluator (the mixture of K centres, a piecewise model of
// docs/math.md section 13, a general Gaussian mixture, or the general student of section 14), step by step over
// all samples, noise row by row from Philox.
import { DivergenceError } from '../errors.ts';
import { noiseRowInto, seedKey } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import { matrix, type Matrix } from '../types.ts';
import { checkSampleRequest } from './checks.ts';
import { stepsToRun, type SamplerStep } from './grid.ts';
import { isStudentScore } from './student-score.ts';
import { checkScoreSource, isGaussianMixture, isPiecewise, scoreEvaluator, type ScoreEvaluator, type ScoreSource } from './score-source.ts';
import type { SampleProgress, SamplerOptions } from './options.ts';
import type { CpuFeature } from '../cpu/context.ts';
import type { Sampling } from './capability.ts';

/** Reports per run: about this many progress calls, and always one after the last step. */
const PROGRESS_REPORTS = 20;

/**
 * n samples (n x d) from `score` by `options` (docs/math.md section 11): the mixture score of K x d centres,
 * a piecewise model (docs/math.md section 13), a general Gaussian mixture or the general student (section 14).
 * Throws an InputError on bad input and a DivergenceError naming the first step that made a sample
 * non-finite; the result is returned only when every step has finished.
 */
export function sampleReference(
  score: ScoreSource,
  n: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Matrix {
  const other = isPiecewise(score) || isGaussianMixture(score) || isStudentScore(score);
  // A model is checked on its own; n, the options and a Langevin start against a stand-in 1 x d of zeros.
  const d = other ? checkScoreSource(score, "the sampler's score") : score.cols;
  checkSampleRequest(other ? matrix(1, d) : score, n, options);
  return sampleWithEvaluator(() => scoreEvaluator(score), d, n, options, onProgress);
}

/**
 * The sampler's loop over any score: `evaluator()` makes one ScoreEvaluator per concurrent time (Heun holds two).
 * For scores that are not a ScoreSource, such as the diagnostics of research/piecewise-ladder.ts; the request is
 * taken as checked (sampleReference checks it).
 */
export function sampleWithEvaluator(
  evaluator: () => ScoreEvaluator,
  d: number,
  n: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Matrix {
  const steps = stepsToRun(options);
  const [k0, k1] = seedKey(options.seed);
  const words = new Uint32Array(4);
  const padded = new Float64Array(((d + 3) >>> 2) * 4);
  const y = matrix(n, d);
  const start = options.method === 'langevin' ? options.start : undefined;
  if (start !== undefined) y.data.set(start.data);
  else {
    // The start is Philox counter step 0 of the sampler stream (docs/math.md sections 7 and 11).
    for (let r = 0; r < n; r++) {
      noiseRowInto(k0, k1, 0, r, d, STREAMS.sampler, words, padded);
      y.data.set(padded.subarray(0, d), r * d);
    }
  }
  const now = evaluator();
  const next = evaluator();
  const work = { s: new Float64Array(d), p: new Float64Array(d), sp: new Float64Array(d) };
  const heun = options.method === 'ode';
  const every = Math.max(1, Math.floor(steps.length / PROGRESS_REPORTS));
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k]!;
    now.setTime(step.t, step.a);
    if (heun) next.setTime(step.tNext, step.aNext);
    for (let r = 0; r < n; r++) {
      const off = r * d;
      if (heun) heunRow(y.data, off, d, step, now, next, work);
      else {
        // xi_k is counter step k + 1: the start has step 0 (docs/math.md section 11).
        noiseRowInto(k0, k1, k + 1, r, d, STREAMS.sampler, words, padded);
        sdeRow(y.data, off, d, step, now, work.s, padded);
      }
      for (let c = 0; c < d; c++) {
        if (!Number.isFinite(y.data[off + c]!)) throw divergence(k, r, options, step);
      }
    }
    if ((k + 1) % every === 0 || k === steps.length - 1) onProgress?.({ done: k + 1, total: steps.length });
  }
  return y;
}

/** y <- y + (cy y + cs s_{t_k}(y) + cxi xi): exponential, Euler-Maruyama and Langevin steps. */
function sdeRow(
  y: Float64Array,
  off: number,
  d: number,
  step: SamplerStep,
  sc: ScoreEvaluator,
  s: Float64Array,
  xi: Float64Array,
): void {
  sc.rowInto(y, off, s, 0);
  const { cy, cs, cxi } = step;
  for (let c = 0; c < d; c++) y[off + c] = y[off + c]! + (cy * y[off + c]! + cs * s[c]! + cxi * xi[c]!);
}

/** Heun on the probability-flow ODE: p = y + (cy y + cs s_t(y)), y <- y + (h/2)((y + s_t(y)) + (p + s_{t'}(p))). */
function heunRow(
  y: Float64Array,
  off: number,
  d: number,
  step: SamplerStep,
  now: ScoreEvaluator,
  next: ScoreEvaluator,
  work: { readonly s: Float64Array; readonly p: Float64Array; readonly sp: Float64Array },
): void {
  const { s, p, sp } = work;
  now.rowInto(y, off, s, 0);
  for (let c = 0; c < d; c++) p[c] = y[off + c]! + (step.cy * y[off + c]! + step.cs * s[c]!);
  next.rowInto(p, 0, sp, 0);
  const half = step.h / 2;
  for (let c = 0; c < d; c++) y[off + c] = y[off + c]! + half * (y[off + c]! + s[c]! + (p[c]! + sp[c]!));
}

function divergence(k: number, row: number, options: SamplerOptions, step: SamplerStep): DivergenceError {
  const fix =
    options.method === 'langevin'
      ? `lower the Langevin step size, for example to ${step.h / 10}`
      : `take more steps (h = ${step.h.toPrecision(3)} at this step) or a geometric grid`;
  return new DivergenceError(k, `sampling diverged at step ${k} (sample ${row + 1}, 1-based, is not finite): ${fix}`);
}

/** The sampling feature's CPU twin, registered in src/cpu/features.ts. */
export const samplingOnCpu: CpuFeature<Sampling> = () => ({
  sample: async (score, n, options, onProgress) => sampleReference(score, n, options, onProgress),
});
