// Issue 18's device loss: a GPU device lost in the middle of a fit gives a DeviceError, not a hang or a wrong
// result, and a run resumed from the last checkpoint on a new device gives the bits of an uninterrupted run.
import { afterAll, describe, expect, it } from 'vitest';
import { createGpuBackend, DdpmGmm, DeviceError, generateMixture, type GpuBackend } from '../../src/node.ts';
import type { LoopState } from '../../src/algorithms/index.ts';
import { describeError } from '../../src/cli/run.ts';

const mix = generateMixture({ k: 3, d: 4, n: 600, separation: 5, seed: 11 });
const opened: GpuBackend[] = [];
const backend = async (): Promise<GpuBackend> => {
  const b = await createGpuBackend();
  opened.push(b);
  return b;
};
afterAll(() => {
  for (const b of opened) b.dispose();
});

// The annealed schedule without scaling: several chunks, checkpoints at each, the data as given.
const options = { nComponents: 3, schedule: 'annealed' as const, scale: 'none' as const, seed: 3, noiseSeed: 5, maxSteps: 30, logEvery: 5 };

describe('a GPU device lost mid-fit', () => {
  it('ends the fit with a DeviceError, and a resume from the last checkpoint equals the uninterrupted run', async () => {
    const whole = new DdpmGmm({ ...options, backend: await backend() });
    await whole.fit(mix.data);

    const lostOn = await backend();
    let last: LoopState | undefined;
    let chunks = 0;
    const doomed = new DdpmGmm({
      ...options,
      backend: lostOn,
      loop: {
        onCheckpoint: (s) => {
          last = s;
        },
        checkpointEvery: 5,
        onProgress: () => {
          // After the second chunk the device goes away, as a driver reset would take it.
          if (++chunks === 2) lostOn.device.destroy();
        },
      },
    });
    const error = await doomed.fit(mix.data).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as Error).message).toMatch(/device/i);
    expect(last).toBeDefined();

    // The CLI's error boundary turns it into exit code 3, the device's.
    expect(describeError(error).code).toBe(3);
    expect(last!.globalStep).toBeGreaterThan(0);
    const resumed = new DdpmGmm({ ...options, backend: await backend(), loop: { resume: last } });
    await resumed.fit(mix.data);
    expect(Array.from(resumed.means!.data)).toEqual(Array.from(whole.means!.data));
    expect(resumed.nIter).toBe(whole.nIter);
  });
});
