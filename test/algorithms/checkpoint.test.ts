// Resume equals uninterrupted (issue 3, item 7): a two-stage run stopped at a checkpoint and resumed ends
// with exactly the centres of an uninterrupted run -- bit for bit on the CPU reference, and on the GPU
// engine to its float32 determinism (same device, same seed, same bits: docs/architecture.md, 'Deterministic reductions').
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend } from '../../host/index.ts';
import { checkpointOf, fingerprintOf, stateFromCheckpoint } from '../../src/algorithms/checkpoint.ts';
import { fitSchedule, type LoopState } from '../../src/algorithms/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { InputError } from '../../src/errors.ts';
import { generateMixture } from '../../src/mixtures.ts';
import type { Backend } from '../../src/backend.ts';

let gpu: Backend;
beforeAll(async () => {
  gpu = await createGpuBackend();
});
afterAll(() => gpu?.dispose());

const { data, truth } = generateMixture({ k: 2, d: 6, n: 1500, separation: 5, seed: 31 });
// tol tiny: stage 2 runs to its limit, so checkpoints fall inside stage 1, stage 2 and the averaging tail
// (whose running sum the checkpoint must carry).
const opts = { k: 2, seed: 2, tol: 1e-12, maxStage1: 20, maxSteps: 15, averageSteps: 10, logEvery: 5 };

async function resumeMatches(be: Backend): Promise<void> {
  const full = await fitSchedule(be, data, 'two-stage', opts, truth);
  const fp = fingerprintOf(opts, data);
  const saved: LoopState[] = [];
  await fitSchedule(be, data, 'two-stage', opts, truth, { onCheckpoint: (s) => saved.push(s), checkpointEvery: 5 });
  expect(saved.length).toBeGreaterThanOrEqual(6);
  const inTail = saved.find((s) => s.average !== undefined);
  expect(inTail).toBeDefined();
  // Resume from one checkpoint in stage 1, one in stage 2 and one in the averaging tail, each through the JSON file form.
  for (const s of [saved[1]!, saved.find((x) => x.stageIndex === 1 && x.stepInStage > 0)!, inTail!]) {
    const json = JSON.parse(JSON.stringify(checkpointOf(s, fp, 0))) as unknown;
    const resumed = await fitSchedule(be, data, 'two-stage', opts, truth, { resume: stateFromCheckpoint(json, fp, 0) });
    expect(Array.from(resumed.means.data)).toEqual(Array.from(full.means.data));
    expect(resumed.nIter).toBe(full.nIter);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.map((h) => h.loss));
  }
}

describe('a resumed run ends with the uninterrupted run\'s centres', () => {
  it('bit for bit on the CPU reference', () => resumeMatches(new CpuBackend()));
  it('bit for bit on the GPU engine (deterministic float32 reductions)', () => resumeMatches(gpu));
});

it('a checkpoint of other data or another noise seed is refused', async () => {
  const saved: LoopState[] = [];
  await fitSchedule(new CpuBackend(), data, 'two-stage', opts, truth, { onCheckpoint: (s) => saved.push(s) });
  const cp = JSON.parse(JSON.stringify(checkpointOf(saved[0]!, fingerprintOf(opts, data), 0))) as unknown;
  const other = generateMixture({ k: 2, d: 6, n: 1500, separation: 5, seed: 32 }).data;
  expect(() => stateFromCheckpoint(cp, fingerprintOf(opts, other), 0)).toThrow(/other data or settings/);
  expect(() => stateFromCheckpoint(cp, fingerprintOf(opts, data), 1)).toThrow(/noise seed/);
  expect(() => stateFromCheckpoint({ format: 'x' }, 'f', 0)).toThrow(InputError);
});
