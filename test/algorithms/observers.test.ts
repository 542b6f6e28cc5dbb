// The loop's extension points (src/algorithms/loop.ts): Algorithm 1 as a loop plan makes the very gdSteps
// call of the paper's algorithm, and observers add row fields or act at chunk boundaries without changing
// the centres.
import { describe, expect, it } from 'vitest';
import { fitAlgorithm1, fitSchedule, planSchedule, runStages, truthObserver, type LoopObserver } from '../../src/algorithms/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix } from '../../src/types.ts';

const cpu = new CpuBackend();
const { data, truth } = generateMixture({ k: 2, d: 4, n: 500, separation: 5, seed: 9 });

describe('Algorithm 1 through the loop', () => {
  it.each([
    ['untied, fresh noise', false, 'fresh'],
    ['tied, fixed noise', true, 'fixed'],
  ] as const)('%s: the bits and the history of one gdSteps call', async (_name, tied, noise) => {
    const init = tied ? matrix(1, 4, Float64Array.from([0.5, -0.2, 0.1, 0.3])) : matrix(2, 4, data.data.slice(0, 8));
    const opts = { noiseScale: 0.3, lr: 0.5, steps: 23 };
    const direct = await cpu.gdSteps(data, init, { ...opts, tied, logEvery: 5, noise: { kind: 'seed', seed: 4, mode: noise } });
    const looped = await fitAlgorithm1(cpu, data, init, { ...opts, tied, noise }, { logEvery: 5, noiseSeed: 4 });
    expect(Array.from(looped.centres.data)).toEqual(Array.from(direct.centres.data));
    if (tied) expect(Array.from(looped.means.data)).toEqual([...direct.centres.data, ...direct.centres.data.map((v) => -v)]);
    expect(looped.history.map((h) => [h.step, h.loss, h.gradNorm])).toEqual(direct.history.map((h) => [h.step, h.loss, h.gradNorm]));
    expect(looped.nIter).toBe(23);
    expect(looped.converged).toBe(false);
  });
});

describe('observers', () => {
  const opts = { k: 2, seed: 1, maxStage1: 20, maxSteps: 20, averageSteps: 10 };

  it('add their fields to the rows, before seconds, and change no centre', async () => {
    const plan = planSchedule('two-stage', data, opts);
    const seen: number[] = [];
    // A field HistoryRow does not declare still rides along, after the declared ones.
    const counter: LoopObserver = { fields: (c) => ({ chunkSteps: c.steps }) as object, afterChunk: (row) => void seen.push(row.step) };
    const observed = await runStages(cpu, plan.problem, plan.stages, plan.init, { logEvery: 5, noiseSeed: 0, observers: [truthObserver(truth), counter] });
    const viaDoor = await fitSchedule(cpu, data, 'two-stage', opts, truth);
    expect(Array.from(observed.means.data)).toEqual(Array.from(viaDoor.means.data));
    expect(observed.history.map((h) => h.error)).toEqual(viaDoor.history.map((h) => h.error));
    expect(observed.history.every((h) => h.angle !== undefined)).toBe(true);
    const keys = Object.keys(observed.history[0]!);
    expect(keys.slice(-2)).toEqual(['chunkSteps', 'seconds']);
    expect(seen).toEqual(observed.history.map((h) => h.step));
  });

  it('without the truth the rows carry no truth fields', async () => {
    const r = await fitSchedule(cpu, data, 'two-stage', opts);
    expect(r.history.some((h) => h.error !== undefined || h.angle !== undefined)).toBe(false);
  });
});
