// DdpmGmm's chunkRows and memoryBudget (src/estimator.ts over src/training/chunked.ts): the estimator's loop on
// chunked training gives the chunked trainer's own numbers, and a budget too small names the smallest that works.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { matrixSource } from '../../src/data/source.ts';
import { InputError } from '../../src/errors.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { chunkedTrainer } from '../../src/training/chunked.ts';
import { matrix } from '../../src/types.ts';

const { data, truth } = generateMixture({ k: 3, d: 5, n: 61, separation: 4, seed: 2 });
const init = matrix(3, 5, truth.data.map((v, i) => v + 0.2 * Math.cos(i)));

describe('DdpmGmm with chunkRows', () => {
  it('runs the loop on chunked training: the single schedule equals the chunked trainer\'s GD steps', async () => {
    // scale 'none' and the paper's student: the trainer below runs them, so the estimator must too.
    const model = new DdpmGmm({ nComponents: 3, schedule: 'single', scale: 'none', covariance: 'identity', weights: 'equal', backend: 'cpu', chunkRows: 9, init, noiseScale: 0.4, lr: 0.5, maxSteps: 6, logEvery: 2, noiseSeed: 4 });
    const out = await model.fit(data);
    const t = chunkedTrainer(new CpuBackend(), 9);
    const direct = await t.gdSteps(t.open(matrixSource(data, 9)), init, { noiseScale: 0.4, lr: 0.5, steps: 6, logEvery: 2, tied: false, noise: { kind: 'seed', seed: 4, mode: 'fresh' } });
    expect(Array.from(out.means.data)).toEqual(Array.from(direct.centres.data));
    expect(out.history.map((h) => h.loss)).toEqual(direct.history.map((h) => h.loss));
  });

  it("the default student's GD runs chunked, as in memory up to float64 rounding; chunked EM learns the paper's", async () => {
    const { data: big } = generateMixture({ k: 3, d: 5, n: 600, separation: 5, seed: 3 });
    const o = { nComponents: 3, backend: 'cpu' as const, seed: 1, maxSteps: 20 };
    const chunked = new DdpmGmm({ ...o, chunkRows: 128 });
    const whole = new DdpmGmm(o);
    await chunked.fit(big);
    await whole.fit(big);
    expect(chunked.nIter).toBe(whole.nIter);
    // The chunk sums differ from the whole-data sums by rounding only (8 N eps relative a step, as in
    // test/data/chunked.test.ts), carried through at most nIter contracting steps.
    const tol = 8 * 600 * Number.EPSILON * whole.nIter;
    const scale = Math.max(...whole.means!.data.map(Math.abs));
    chunked.means!.data.forEach((v, q) => expect(Math.abs(v - whole.means!.data[q]!)).toBeLessThanOrEqual(tol * scale));
    chunked.variancesAndWeights!.weights.forEach((w, q) => expect(Math.abs(w - whole.variancesAndWeights!.weights[q]!)).toBeLessThanOrEqual(tol));
    const em = new DdpmGmm({ ...o, method: 'em', chunkRows: 128 });
    await em.fit(big);
    expect(em.variancesAndWeights).toBeUndefined();
    await expect(new DdpmGmm({ ...o, method: 'em', chunkRows: 128, covariance: 'diag' }).fit(big)).rejects.toThrow(/chunked EM .* learns the paper's student only/);
  });

  it('refuses a memory budget too small for one row, naming the smallest', async () => {
    // d = 5 in memory (8 bytes a value): 2 x 5 x 16 + 32 = 192 bytes a row.
    await expect(new DdpmGmm({ nComponents: 3, backend: 'cpu', memoryBudget: 100 }).fit(data)).rejects.toThrow(/--memory-budget 192 or more/);
    expect(() => new DdpmGmm({ nComponents: 3, backend: 'cpu', chunkRows: 0 })).toThrow(InputError);
  });
});
