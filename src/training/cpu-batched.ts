// The CPU twin of gdStepsBatched (src/training/capability.ts): the GD steps of R runs of the paper's student in
// one pass over the data per step, each sample row read once and given to every run that is still stepping.
// Each run's arithmetic is gdSteps' own (the same pass pieces in the same order, its own noise), so each result
// has the bits of that run alone.
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import type { CpuFeature } from '../cpu/context.ts';
import type { Matrix } from '../types.ts';
import { checkProblem, requirePositiveInteger } from '../validate.ts';
import type { BatchedRun, GdBatchOptions, GdResult, HistoryEntry, Training } from './capability.ts';
import { checkGdOptions } from './checks.ts';
import { allFinite, divergence, frobenius, makeScratch, noiseRow, noiseSource, passBegin, passEnd, passSample, projectRows, unscaled } from './cpu.ts';

/**
 * Bytes of run state (centres, gradient, scratch) one CPU pass may hold: memory, not speed, bounds it, since the
 * CPU steps each run's sample terms one after another.
 */
const CPU_BATCH_BYTES = 256 * 2 ** 20;

/** How many runs of K x d centres one CPU pass holds. */
export function cpuRunsPerPass(k: number, d: number): number {
  const perRun = 8 * (2 * k * d + 3 * k + 5 * d + 4);
  return Math.max(1, Math.floor(CPU_BATCH_BYTES / perRun));
}

/** The checks of a batched call: every run as gdSteps would check it, and no more runs than a pass holds. */
export function checkBatch(data: Matrix, runs: readonly BatchedRun[], options: GdBatchOptions, perPass: number): void {
  if (!Array.isArray(runs) || runs.length < 1) throw new InputError('gdStepsBatched needs at least one run');
  const { rows: k, cols: d } = runs[0]!.centres;
  if (runs.length > perPass) {
    throw new InputError(`${runs.length} runs of ${k} x ${d} centres exceed the ${perPass} one pass holds: give them in groups of ${perPass}`);
  }
  for (const run of runs) {
    checkProblem(data, run.centres, options.tied);
    if (run.centres.rows !== k) throw new InputError(`the runs of one gdStepsBatched call need the same K: ${run.centres.rows} and ${k}`);
    requirePositiveInteger(run.steps, 'the GD steps of a run');
    checkGdOptions({ ...options, steps: run.steps, noise: { kind: 'seed', seed: run.noiseSeed, mode: options.noise.mode } });
  }
}

export const batchedTrainingOnCpu: CpuFeature<Pick<Training, 'gdStepsBatched' | 'runsPerPass'>> = (core) => ({
  runsPerPass: cpuRunsPerPass,
  async gdStepsBatched(input, runs, options): Promise<GdResult[]> {
    const data = core.dataOf(input);
    const { rows: K, cols: d } = runs[0]?.centres ?? { rows: 1, cols: data.cols };
    checkBatch(data, runs, options, cpuRunsPerPass(K, d));
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const { lr, logEvery, tied } = options;
    const radius = options.projectRadius;
    const N = data.rows;
    const state = runs.map((run) => {
      const m = new Float64Array(K * d);
      for (let i = 0; i < m.length; i++) m[i] = a * run.centres.data[i]!;
      const spec = { kind: 'seed', seed: run.noiseSeed, mode: options.noise.mode, step: options.noise.step } as const;
      const fixed = spec.mode === 'fixed' ? noiseSource(spec, data, spec.step ?? 0) : null;
      return { run, m, spec, fixed, grad: new Float64Array(K * d), scratch: makeScratch(K, d), history: [] as HistoryEntry[], reported: undefined as Matrix | undefined, loss: 0 };
    });
    const longest = Math.max(...runs.map((r) => r.steps));
    for (let i = 0; i < longest; i++) {
      // A run that has done its steps is masked: it leaves the pass and keeps its centres.
      const active = state.filter((s) => i < s.run.steps);
      const sources = active.map((s) => s.fixed ?? noiseSource(s.spec, data, s.run.startStep + i));
      for (const s of active) {
        passBegin(s.m, K, d, s.grad, s.scratch);
        s.loss = 0;
      }
      for (let n = 0; n < N; n++) {
        for (let r = 0; r < active.length; r++) {
          const s = active[r]!;
          s.loss = passSample(s.loss, data.data, n * d, s.m, K, d, tied, a, sigma, noiseRow(sources[r]!, n, d, s.scratch), s.grad, s.scratch);
        }
      }
      for (const s of active) {
        passEnd(s.m, K, d, tied, N, s.grad, s.scratch);
        const loss = s.loss / N;
        const step = s.run.startStep + i;
        if (!Number.isFinite(loss)) throw divergence(step, `loss is ${loss}`, lr);
        // Algorithm 1: m <- m - eta dL/dm (docs/math.md section 6), as gdSteps does it.
        for (let q = 0; q < s.m.length; q++) s.m[q] = s.m[q]! - lr * s.grad[q]!;
        if (radius !== undefined) projectRows(s.m, K, d, a * radius);
        if (!allFinite(s.m)) throw divergence(step, 'centres are not finite', lr);
        if ((i + 1) % logEvery === 0 || i === s.run.steps - 1) {
          const last: HistoryEntry = { step, loss, gradNorm: frobenius(s.grad) };
          s.history.push(last);
          s.reported = unscaled(s.m, K, d, a);
          for (let q = 0; q < s.m.length; q++) s.m[q] = a * s.reported.data[q]!;
          s.run.onProgress?.({ done: i + 1, total: s.run.steps, centres: s.reported, last });
        }
      }
    }
    return state.map((s) => ({ centres: s.reported ?? unscaled(s.m, K, d, a), history: s.history, nIter: s.run.steps }));
  },
});
