// The loop's onChunk hook (src/algorithms/loop.ts): a caller that shares its thread (the browser page)
// awaits a frame or holds a paused run there. The hook must see every chunk, really be awaited before the
// next Backend call, and leave the run's arithmetic exactly as it is without the hook.
import { describe, expect, it } from 'vitest';
import { fitSchedule } from '../../src/algorithms/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { generateMixture } from '../../src/mixtures.ts';
import type { Backend } from '../../src/backend.ts';

describe('the loop onChunk hook', () => {
  it('is awaited once per chunk, before the next Backend call, and changes nothing in the result', async () => {
    const { data, truth } = generateMixture({ k: 2, d: 4, n: 800, separation: 6, seed: 5 });
    const cpu = new CpuBackend();
    const options = { k: 2, seed: 3, maxSteps: 40 };
    const plain = await fitSchedule(cpu, data, 'two-stage', options, truth, { noiseSeed: 7 });
    // Count Backend calls, so the test sees whether a call ran while a hook was still pending.
    let calls = 0;
    let pending = false;
    let overlapped = false;
    const counting: Backend = new Proxy(cpu, {
      get(target, key, receiver) {
        const v: unknown = Reflect.get(target, key, receiver);
        if (key !== 'gdSteps' || typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls++;
          if (pending) overlapped = true;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const seen: number[] = [];
    const hooked = await fitSchedule(counting, data, 'two-stage', options, truth, {
      noiseSeed: 7,
      onChunk: async (row, state) => {
        seen.push(row.step);
        expect(state.globalStep).toBe(row.step + 1);
        pending = true;
        // A macrotask, as a browser frame is: a loop that did not await the hook would call the backend meanwhile.
        await new Promise((ok) => setTimeout(ok, 1));
        pending = false;
      },
    });
    expect(overlapped).toBe(false);
    expect(seen).toEqual(hooked.history.map((h) => h.step));
    expect(seen.length).toBe(calls);
    expect(calls).toBeGreaterThan(2);
    expect(Array.from(hooked.means.data)).toEqual(Array.from(plain.means.data));
    expect(hooked.nIter).toBe(plain.nIter);
  });

  it('ends the run with the error the hook rejects with', async () => {
    const { data } = generateMixture({ k: 2, d: 4, n: 400, separation: 6, seed: 5 });
    const run = fitSchedule(new CpuBackend(), data, 'two-stage', { k: 2, seed: 3 }, undefined, {
      onChunk: () => Promise.reject(new Error('cancelled by the page')),
    });
    await expect(run).rejects.toThrow('cancelled by the page');
  });
});
