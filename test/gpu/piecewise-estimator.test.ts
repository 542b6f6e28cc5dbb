// PiecewiseScoreModel on the GPU engine: the fit's cell sums run in the engine's float32 reduction (Backend.cellMoments)
// and give the float64 fit's model to float32 accuracy; sampling runs the GPU sampler; the model file of a GPU fit
// names the GPU and samples on the CPU reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBackend } from '../../host/engine.ts';
import { createGpuBackend } from '../../host/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { PiecewiseScoreModel } from '../../src/piecewise-estimator.ts';

let gpu: GpuBackend;
beforeAll(async () => {
  gpu = await createGpuBackend();
});
afterAll(() => gpu?.dispose());

const { data } = generateMixture({ k: 2, d: 3, n: 1200, separation: 6, seed: 8 });
const settings = { cells: 3, levels: 4, draws: 2, seed: 1 } as const;

describe('PiecewiseScoreModel on the GPU engine', () => {
  it('fits the float64 fit\'s model to float32 accuracy, samples on the GPU, and saves a file the CPU samples', async () => {
    const onGpu = new PiecewiseScoreModel({ ...settings, backend: gpu });
    const onCpu = new PiecewiseScoreModel({ ...settings, backend: new CpuBackend() });
    const [g, c] = [await onGpu.fit(data), await onCpu.fit(data)];
    expect(onGpu.backendUsed?.kind).toBe('gpu');
    expect(g.levels.map((l) => l.cells.rows)).toEqual(c.levels.map((l) => l.cells.rows));
    g.levels.forEach((level, l) => {
      const ref = c.levels[l]!.coef.data;
      const scale = Math.max(...ref.map(Math.abs));
      const worst = Math.max(...level.coef.data.map((v, i) => Math.abs(v - ref[i]!)));
      // float32 sums over ~2000 points per cell: far below 1e-3 of the largest coefficient.
      expect(worst / scale, `level ${l + 1}`).toBeLessThan(1e-3);
    });
    const s = await onGpu.sample(256, { seed: 4 });
    expect([s.rows, s.cols]).toEqual([256, 3]);
    expect(s.data.every(Number.isFinite)).toBe(true);
    expect(onGpu.sampledOn?.kind).toBe('gpu');
    const loaded = PiecewiseScoreModel.fromJSON(JSON.stringify(onGpu), { backend: 'cpu' });
    expect(loaded.backendUsed?.kind).toBe('gpu');
    expect((await loaded.sample(64)).rows).toBe(64);
    loaded.dispose();
  });

  it('samples a soft-cell model on the CPU reference, since the GPU sampler refuses soft cells by name', async () => {
    const soft = new PiecewiseScoreModel({ ...settings, assignment: 'soft', backend: gpu });
    const model = await soft.fit(data);
    expect(model.levels.every((l) => l.tau !== undefined)).toBe(true);
    await expect(gpu.sample(model, 16, { method: 'reverse', integrator: 'exponential', horizon: 4, tMin: 0, steps: 10, grid: 'geometric', seed: 1 })).rejects.toThrow(/soft cells .* backend 'cpu'/);
    const s = await soft.sample(64, { seed: 2 });
    expect(s.data.every(Number.isFinite)).toBe(true);
    expect(soft.sampledOn?.kind).toBe('cpu');
  });
});
