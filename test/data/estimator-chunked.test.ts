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
import { initialStudent } from '../../src/training/student.ts';

const { data, truth } = generateMixture({ k: 3, d: 5, n: 61, separation: 4, seed: 2 });
const init = matrix(3, 5, truth.data.map((v, i) => v + 0.2 * Math.cos(i)));

describe('DdpmGmm with chunkRows', () => {
  it('runs the loop on chunked training: the single schedule equals the chunked trainer\'s GD steps', async () => {
    // scale 'none': the trainer below runs on the data as given, so the estimator must too.
    const model = new DdpmGmm({ nComponents: 3, schedule: 'single', scale: 'none', backend: 'cpu', chunkRows: 9, init, noiseScale: 0.4, lr: 0.5, maxSteps: 6, logEvery: 2, noiseSeed: 4 });
    const out = await model.fit(data);
    const t = chunkedTrainer(new CpuBackend(), 9);
    const direct = await t.gdSteps(t.open(matrixSource(data, 9)), init, { noiseScale: 0.4, lr: 0.5, steps: 6, logEvery: 2, tied: false, noise: { kind: 'seed', seed: 4, mode: 'fresh' } });
    expect(Array.from(out.means.data)).toEqual(Array.from(direct.centres.data));
    expect(out.history.map((h) => h.loss)).toEqual(direct.history.map((h) => h.loss));
  });

  it("learns the paper's student by default, and refuses a general one by name rather than ignore it", async () => {
    const model = new DdpmGmm({ nComponents: 3, schedule: 'single', scale: 'none', backend: 'cpu', chunkRows: 9, init, maxSteps: 4 });
    await model.fit(data);
    expect(model.variancesAndWeights).toBeUndefined();
    const general = new DdpmGmm({ nComponents: 3, schedule: 'single', scale: 'none', backend: 'cpu', chunkRows: 9, init, maxSteps: 4, covariance: 'diag' });
    await expect(general.fit(data)).rejects.toThrow(/chunked training .* learns the paper's student only, not covariance 'diag' with weights 'learned'/);
    const t = chunkedTrainer(new CpuBackend(), 9);
    await expect(t.emSteps(t.open(matrixSource(data, 9)), init, 1, initialStudent('spherical', 'learned', 3, 5))).rejects.toThrow(InputError);
  });

  it('refuses a memory budget too small for one row, naming the smallest', async () => {
    // d = 5 in memory (8 bytes a value): 2 x 5 x 16 + 32 = 192 bytes a row.
    await expect(new DdpmGmm({ nComponents: 3, backend: 'cpu', memoryBudget: 100 }).fit(data)).rejects.toThrow(/--memory-budget 192 or more/);
    expect(() => new DdpmGmm({ nComponents: 3, backend: 'cpu', chunkRows: 0 })).toThrow(InputError);
  });
});
