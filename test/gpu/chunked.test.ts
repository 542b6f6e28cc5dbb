// The chunked trainer on the GPU engine (src/training/chunked.ts): a chunk's seeded noise is its global rows'
// (DdpmOptions.firstRow offsets the pass's chunkBase), and memory and a .npy file give the same bits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { openNpySource } from '../../src/data/files.ts';
import { matrixSource } from '../../src/data/source.ts';
import { serializeNpy } from '../../src/io/npy.ts';
import { chunkedTrainer } from '../../src/training/chunked.ts';
import { matrix } from '../../src/types.ts';
import { gradientBound } from '../support/bounds.ts';
import { caseById, makeProblem, scaledCentres } from '../support/cases.ts';
import { worstRatio } from '../support/compare.ts';
import { summationDepth } from '../support/summation-depth.ts';
import { noiseProbe } from './probes.ts';

let gpu: GpuBackend;
const cpu = new CpuBackend();
const dir = mkdtempSync(join(tmpdir(), 'ddpm-chunked-gpu-'));
beforeAll(async () => {
  gpu = await createGpuBackend();
});
afterAll(() => {
  gpu?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('chunked training on the GPU', () => {
  it('draws a chunk\'s seeded noise at its global rows (firstRow), within the derived float32 bound', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const [first, rows] = [300, 200];
    const part = matrix(rows, c.d, data.data.slice(first * c.d, (first + rows) * c.d));
    const zAll = await noiseProbe(gpu, data, 5, 2);
    const z = matrix(rows, c.d, zAll.data.slice(first * c.d, (first + rows) * c.d));
    const got = await gpu.lossAndGradient(part, centres, { noiseScale: c.t, tied: false, noise: { kind: 'seed', seed: 5, mode: 'fixed', step: 2 }, firstRow: first });
    const ref = await cpu.lossAndGradient(part, centres, { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } });
    const bound = gradientBound(part, scaledCentres(centres, c.t, false), c.t, z, summationDepth(gpu, c.k, c.d, rows), false);
    expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad).ratio).toBeLessThanOrEqual(1);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
  });

  it('gives the same bits from memory and from a .npy file for one chunk size', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const path = join(dir, 'x.npy');
    writeFileSync(path, serializeNpy(data));
    const trainer = chunkedTrainer(gpu, 300);
    const o = { noiseScale: 0.3, tied: false, noise: { kind: 'seed', seed: 2, mode: 'fresh' }, steps: 4, lr: 0.5, logEvery: 2 } as const;
    const memory = trainer.open(matrixSource(data, 300));
    const a = await trainer.gdSteps(memory, centres, o);
    memory.dispose();
    const source = await openNpySource(path, 300);
    const file = trainer.open(source);
    const b = await trainer.gdSteps(file, centres, o);
    file.dispose();
    await source.close();
    expect(Array.from(b.centres.data)).toEqual(Array.from(a.centres.data));
    expect(b.history).toEqual(a.history);
  });
});
