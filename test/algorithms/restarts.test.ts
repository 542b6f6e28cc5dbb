// Restarts in one pass (src/algorithms/restarts.ts, src/training/cpu-batched.ts): the CPU's gdStepsBatched gives
// each run the bits of gdSteps on that run alone, and the estimator's restarts run together give each restart the
// bits of the same restart run alone, on schedules whose runs stop at different steps (masked runs).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import type { Backend } from '../../src/backend.ts';
import type { BatchedRun, GdBatchOptions, GdProgress, HistoryRow, ScheduleName } from '../../src/index.ts';
import { checkBatch } from '../../src/training/cpu-batched.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const cpu = new CpuBackend();
const mix = generateMixture({ k: 3, d: 4, n: 450, separation: 4, seed: 12 });

/** A history without its wall-clock seconds, the one field that is not a number of the run. */
const bits = (h: readonly HistoryRow[]) => h.map(({ seconds: _s, ...rest }) => rest);

/** K x d centres from the data's rows r0, r0 + 1, ... */
function rowsFrom(x: Matrix, k: number, r0: number): Matrix {
  return matrix(k, x.cols, x.data.slice(r0 * x.cols, (r0 + k) * x.cols));
}

/** `backend` with runsPerPass set to `perPass`, and a record of the runs per gdStepsBatched call. */
function limited(backend: Backend, perPass: number, calls: number[]): Backend {
  return new Proxy(backend, {
    get: (t, key) => {
      if (key === 'runsPerPass') return () => perPass;
      if (key === 'gdStepsBatched') return (d: never, runs: readonly BatchedRun[], o: GdBatchOptions) => (calls.push(runs.length), t.gdStepsBatched(d, runs, o));
      const v: unknown = Reflect.get(t, key, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('gdStepsBatched on the CPU', () => {
  it.each([
    ['untied, fresh noise', false, 'fresh', undefined],
    ['untied, projected, fixed noise', false, 'fixed', 2.5],
    ['tied', true, 'fresh', undefined],
  ] as const)('%s: each run has the bits of gdSteps alone, with its own seed, first step and steps', async (_n, tied, mode, projectRadius) => {
    const k = tied ? 1 : 3;
    const runs = [
      { seed: 3, start: 0, steps: 7, row: 0 },
      { seed: 4, start: 11, steps: 3, row: 40 },
      { seed: 9, start: 5, steps: 10, row: 80 },
    ];
    const shared = { noiseScale: 0.7, tied, lr: 0.6, logEvery: 4, ...(projectRadius !== undefined ? { projectRadius } : {}) };
    const seen: GdProgress[][] = runs.map(() => []);
    const together = await cpu.gdStepsBatched(
      mix.data,
      runs.map((r, i) => ({ centres: rowsFrom(mix.data, k, r.row), noiseSeed: r.seed, startStep: r.start, steps: r.steps, onProgress: (p: GdProgress) => seen[i]!.push(p) })),
      { ...shared, noise: { mode, ...(mode === 'fixed' ? { step: 2 } : {}) } },
    );
    for (const [i, r] of runs.entries()) {
      const progress: GdProgress[] = [];
      const alone = await cpu.gdSteps(mix.data, rowsFrom(mix.data, k, r.row), {
        ...shared,
        steps: r.steps,
        startStep: r.start,
        noise: { kind: 'seed', seed: r.seed, mode, ...(mode === 'fixed' ? { step: 2 } : {}) },
        onProgress: (p) => progress.push(p),
      });
      expect(together[i]!.centres.data).toEqual(alone.centres.data);
      expect(together[i]!.history).toEqual(alone.history);
      expect(together[i]!.nIter).toBe(r.steps);
      expect(seen[i]!.map((p) => [p.done, p.total, p.last, Array.from(p.centres.data)])).toEqual(progress.map((p) => [p.done, p.total, p.last, Array.from(p.centres.data)]));
    }
    // The runs differ, so the equality above is not one run compared with itself.
    expect(together[0]!.centres.data).not.toEqual(together[2]!.centres.data);
  });

  it('refuses more runs than a pass holds, and runs of different K, naming the fix', () => {
    const run = { centres: rowsFrom(mix.data, 3, 0), noiseSeed: 1, startStep: 0, steps: 2 };
    const o: GdBatchOptions = { noiseScale: 0.5, tied: false, lr: 1, logEvery: 1, noise: { mode: 'fresh' } };
    expect(() => checkBatch(mix.data, [run, run, run], o, 2)).toThrow(/3 runs of 3 x 4 centres exceed the 2 one pass holds: give them in groups of 2/);
    expect(() => checkBatch(mix.data, [run, { ...run, centres: rowsFrom(mix.data, 2, 0) }], o, 4)).toThrow(InputError);
    expect(() => checkBatch(mix.data, [], o, 4)).toThrow(/at least one run/);
  });
});

describe('restarts together in the estimator', () => {
  // The paper's student: batched passes carry it only (a general student's restarts run one after another).
  const PAPER = { covariance: 'identity', weights: 'equal' } as const;
  it.each(['screened', 'annealed', 'single'] as ScheduleName[])('%s: each restart has the bits of the same restart alone', async (schedule) => {
    const calls: number[] = [];
    // scale 'none': a fit's scaling is seeded by its base seed, so 'restart r alone' (seed + r) would scale differently.
    const o = { ...PAPER, nComponents: 3, schedule, seed: 2, noiseSeed: 30, maxSteps: 60, logEvery: 5, scale: 'none' as const };
    const model = new DdpmGmm({ ...o, backend: limited(cpu, 64, calls), nInit: 4 });
    const out = await model.fit(mix.data);
    // One pass carried all four restarts (the barrier gathered them), then fewer as runs stopped.
    expect(Math.max(...calls)).toBe(4);
    expect(out.restarts).toEqual({ kept: model.bestRestart, logLikelihoods: model.restarts.map((r) => r.logLikelihood), together: 4 });
    for (const [r, restart] of model.restarts.entries()) {
      const alone = new DdpmGmm({ ...o, seed: 2 + r, noiseSeed: 30 + r, backend: cpu });
      const single = await alone.fit(mix.data);
      expect(restart.logLikelihood).toBe(alone.score(mix.data));
      expect([restart.nIter, restart.converged]).toEqual([single.nIter, single.converged]);
      if (r === model.bestRestart) {
        expect(out.means.data).toEqual(single.means.data);
        expect(bits(out.history)).toEqual(bits(single.history));
      }
    }
    expect(new Set(model.restarts.map((r) => r.logLikelihood)).size).toBeGreaterThan(1);
  });

  it('the annealed restarts stop at different steps, so the batched passes mask the runs that stopped', async () => {
    const calls: number[] = [];
    const model = new DdpmGmm({ ...PAPER, nComponents: 3, schedule: 'annealed', seed: 2, noiseSeed: 30, maxSteps: 60, logEvery: 5, backend: limited(cpu, 64, calls), nInit: 4 });
    await model.fit(mix.data);
    expect(new Set(model.restarts.map((r) => r.nIter)).size).toBeGreaterThan(1);
    expect(Math.min(...calls)).toBeLessThan(4);
  });

  it('more restarts than a pass holds run in groups, say so, and keep their bits', async () => {
    const calls: number[] = [];
    const log: string[] = [];
    const groups: number[][] = [];
    const o = { ...PAPER, nComponents: 3, seed: 5, noiseSeed: 1, maxSteps: 30, nInit: 5 };
    const grouped = new DdpmGmm({ ...o, backend: limited(cpu, 2, calls), log: (m) => log.push(m), onRestart: (r, n, t) => groups.push([r, n, t]) });
    const out = await grouped.fit(mix.data);
    expect(log).toEqual(['restarts: one pass holds 2 runs of K x d = 3 x 4 centres, so the 5 restarts run in 3 groups of up to 2']);
    expect(groups).toEqual([[0, 5, 2], [2, 5, 2], [4, 5, 1]]);
    expect(Math.max(...calls)).toBe(2);
    expect(out.restarts?.together).toBe(2);
    const all = new DdpmGmm({ ...o, backend: cpu });
    const outAll = await all.fit(mix.data);
    expect(outAll.restarts?.together).toBe(5);
    expect(grouped.restarts).toEqual(all.restarts);
    expect(out.means.data).toEqual(outAll.means.data);
  });

  it('a backend whose pass holds one run runs the restarts one after another, and says so', async () => {
    const log: string[] = [];
    const calls: number[] = [];
    const model = new DdpmGmm({ ...PAPER, nComponents: 3, seed: 5, maxSteps: 20, nInit: 2, backend: limited(cpu, 1, calls), log: (m) => log.push(m) });
    const out = await model.fit(mix.data);
    expect(log).toEqual(["restarts: the backend's pass holds one run of K x d = 3 x 4 centres, so the 2 restarts run one after another"]);
    expect(calls).toEqual([]);
    expect(out.restarts?.together).toBe(1);
  });

  it("the default student's restarts run one after another, each with the bits of the same restart alone", async () => {
    const calls: number[] = [];
    const o = { nComponents: 3, seed: 5, noiseSeed: 1, maxSteps: 20, scale: 'none' as const };
    const log: string[] = [];
    const model = new DdpmGmm({ ...o, nInit: 2, backend: limited(cpu, 64, calls), log: (m) => log.push(m) });
    const out = await model.fit(mix.data);
    expect(calls).toEqual([]);
    expect(log).toContain("restarts: a pass carries the paper's student only, so the 2 restarts of this student (learned variances or weights) run one after another");
    expect(out.restarts?.together).toBe(1);
    expect(model.variancesAndWeights).toBeDefined();
    for (const [r, restart] of model.restarts.entries()) {
      const alone = new DdpmGmm({ ...o, seed: 5 + r, noiseSeed: 1 + r, backend: cpu });
      await alone.fit(mix.data);
      expect(restart.logLikelihood).toBe(alone.score(mix.data));
    }
  });
});
