// Restarts on the GPU engine (src/algorithms/restarts.ts): its pass holds one run, so gdStepsBatched takes one run
// and the estimator's restarts run one after another, saying so; the barrier's interleaved calls give each run
// the bits of the same run alone on the GPU (the unbatched GPU run is the reference, not the CPU).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { fitSchedule } from '../../src/algorithms/index.ts';
import { runTogether } from '../../src/algorithms/restarts.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix } from '../../src/types.ts';

let gpu: GpuBackend;
const mix = generateMixture({ k: 3, d: 4, n: 450, separation: 4, seed: 12 });

beforeAll(async () => {
  gpu = await createGpuBackend();
});

afterAll(() => gpu?.dispose());

describe('restarts on the GPU engine', () => {
  it('gdStepsBatched takes the one run a pass holds, with the bits of gdSteps, and refuses two', async () => {
    expect(gpu.runsPerPass(3, 4)).toBe(1);
    const centres = matrix(3, 4, mix.data.data.slice(0, 12));
    const shared = { noiseScale: 0.7, tied: false, lr: 0.6, logEvery: 4 };
    const [together] = await gpu.gdStepsBatched(mix.data, [{ centres, noiseSeed: 7, startStep: 3, steps: 6 }], { ...shared, noise: { mode: 'fresh' } });
    const alone = await gpu.gdSteps(mix.data, centres, { ...shared, steps: 6, startStep: 3, noise: { kind: 'seed', seed: 7, mode: 'fresh' } });
    expect(together!.centres.data).toEqual(alone.centres.data);
    expect(together!.history).toEqual(alone.history);
    const run = { centres, noiseSeed: 1, startStep: 0, steps: 1 };
    await expect(gpu.gdStepsBatched(mix.data, [run, run], { ...shared, noise: { mode: 'fresh' } })).rejects.toThrow(/pass holds 1 run, got 2/);
  });

  it('runs of the loop together on one GPU backend have the bits of each run alone', async () => {
    const o = (i: number) => ({ k: 3, seed: 2 + i, maxSteps: 30 });
    const run = (i: number) => ({ noiseSeed: 30 + i, logEvery: 5 });
    const together = await runTogether(gpu, 3, (t, i) => fitSchedule(t, mix.data, 'annealed', o(i), undefined, run(i)));
    for (let i = 0; i < 3; i++) {
      const alone = await fitSchedule(gpu, mix.data, 'annealed', o(i), undefined, run(i));
      expect(together[i]!.means.data).toEqual(alone.means.data);
      expect(together[i]!.nIter).toBe(alone.nIter);
      expect(together[i]!.history.map((h) => h.loss)).toEqual(alone.history.map((h) => h.loss));
    }
    expect(together[0]!.means.data).not.toEqual(together[1]!.means.data);
  });

  it('the estimator runs GPU restarts one after another, says so, and reports the kept one', async () => {
    const log: string[] = [];
    // The paper's student: a batched pass would carry it, where the GPU engine's holds one run.
    const model = new DdpmGmm({ nComponents: 3, backend: gpu, seed: 4, noiseSeed: 9, nInit: 2, maxSteps: 20, log: (m) => log.push(m), covariance: 'identity', weights: 'equal' });
    const out = await model.fit(mix.data);
    expect(log).toEqual(["restarts: the GPU engine's pass holds one run of K x d = 3 x 4 centres, so the 2 restarts run one after another"]);
    expect(out.restarts).toEqual({ kept: model.bestRestart, logLikelihoods: model.restarts.map((r) => r.logLikelihood), together: 1 });
  });
});
