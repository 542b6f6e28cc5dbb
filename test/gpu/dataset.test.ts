// Dataset handles (Backend.dataset, issue 11 item 3): a call that names a handle gives what the call with the
// matrix gives, bit for bit, on both backends; the handle keeps its own copy (so no call reads, hashes or
// uploads the matrix again); a handle from another backend or a disposed one is refused by name; the loop
// makes one handle per fit and disposes it; and a stage's chunks batched into one call equal one call each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { fitSchedule } from '../../src/algorithms/index.ts';
import { warmStart } from '../../src/algorithms/seeding.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DivergenceError, InputError } from '../../src/errors.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { matrix, type Dataset, type Matrix } from '../../src/types.ts';
import { type Backend } from '../../src/backend.ts';
import { type GdOptions } from '../../src/training/capability.ts';
import { caseById, makeProblem } from '../support/cases.ts';

const cpu = new CpuBackend();
let gpu: GpuBackend;
let other: GpuBackend;

beforeAll(async () => {
  gpu = await createGpuBackend();
  other = await createGpuBackend();
});

afterAll(() => {
  gpu.dispose();
  other.dispose();
});

const bits = (m: Matrix): number[] => Array.from(m.data);
const backends = (): [string, Backend][] => [['cpu', cpu], ['gpu', gpu]];

describe('a call naming a handle equals the call with the matrix, bit for bit', () => {
  const c = caseById('K3-d5-N1000-t0.05');
  const gd: GdOptions = { noiseScale: c.t, tied: false, lr: 0.05, steps: 12, logEvery: 3, noise: { kind: 'seed', seed: 4, mode: 'fresh' } };
  for (const name of ['cpu', 'gpu']) {
    it(`${name}: loss and gradient, GD steps, EM and gradient-EM steps`, async () => {
      const be = backends().find(([n]) => n === name)![1];
      const { data, centres } = makeProblem(c);
      const handle = be.dataset(data);
      try {
        expect(handle).toMatchObject({ kind: 'dataset', rows: c.n, cols: c.d, backend: name, disposed: false });
        const opts = { noiseScale: c.t, tied: false, noise: { kind: 'seed', seed: 3, mode: 'fixed' } } as const;
        const [a, b] = [await be.lossAndGradient(data, centres, opts), await be.lossAndGradient(handle, centres, opts)];
        expect(b.loss).toBe(a.loss);
        expect(bits(b.gradScaled)).toEqual(bits(a.gradScaled));
        const [ga, gb] = [await be.gdSteps(data, centres, gd), await be.gdSteps(handle, centres, gd)];
        expect(bits(gb.centres)).toEqual(bits(ga.centres));
        expect(gb.history).toEqual(ga.history);
        expect(bits(await be.emStep(handle, centres))).toEqual(bits(await be.emStep(data, centres)));
        expect(bits(await be.gradientEmStep(handle, centres, 2))).toEqual(bits(await be.gradientEmStep(data, centres, 2)));
      } finally {
        handle.dispose();
      }
    });

    it(`${name}: the handle keeps its own copy, so later edits of the matrix are not seen`, async () => {
      const be = backends().find(([n]) => n === name)![1];
      const { data, centres } = makeProblem(c);
      const before = await be.emStep(data, centres);
      const handle = be.dataset(data);
      try {
        // Were the matrix read again (hashed, uploaded) the NaN would reach the centres.
        data.data.fill(Number.NaN);
        expect(bits(await be.emStep(handle, centres))).toEqual(bits(before));
      } finally {
        handle.dispose();
      }
    });

    it(`${name}: one call of 12 steps logged every 3 equals four calls of 3 steps chained (the loop's batching)`, async () => {
      const be = backends().find(([n]) => n === name)![1];
      const { data, centres } = makeProblem(c);
      const handle = be.dataset(data);
      try {
        const seen: Matrix[] = [];
        const whole = await be.gdSteps(handle, centres, { ...gd, onProgress: (p) => seen.push(p.centres) });
        let at = centres;
        for (let i = 0; i < 4; i++) {
          const part = await be.gdSteps(handle, at, { ...gd, steps: 3, startStep: 3 * i });
          at = part.centres;
          expect(part.history).toEqual([whole.history[i]]);
          expect(bits(at)).toEqual(bits(seen[i]!));
        }
        expect(bits(at)).toEqual(bits(whole.centres));
      } finally {
        handle.dispose();
      }
    });
  }
});

describe('handles are checked once and refused by name', () => {
  const { data, centres } = makeProblem(caseById('K3-d5-N1000-t0.05'));

  it('dataset() refuses non-finite values (naming the entry) and empty data', () => {
    const bad = matrix(3, 2, Float64Array.from([1, 2, 3, Number.POSITIVE_INFINITY, 5, 6]));
    for (const be of [cpu, gpu]) {
      expect(() => be.dataset(bad)).toThrow(InputError);
      expect(() => be.dataset(bad)).toThrow(/row 2, column 2/);
      expect(() => be.dataset(matrix(0, 2))).toThrow(/at least one sample/);
      expect(() => be.dataset({ rows: 2, cols: 2, data: new Float64Array(3) })).toThrow(/holds 3 values/);
    }
  });

  it("a handle from the other kind of backend, or from another GPU backend, is an InputError naming who made it", async () => {
    const fromCpu = cpu.dataset(data);
    const fromOther = other.dataset(data);
    try {
      await expect(gpu.emStep(fromCpu, centres)).rejects.toThrow(/made by the cpu backend, not the gpu backend/);
      await expect(cpu.emStep(fromOther, centres)).rejects.toThrow(/made by the gpu backend, not the cpu backend/);
      await expect(gpu.emStep(fromOther, centres)).rejects.toThrow(/made by another gpu backend/);
      await expect(gpu.lossAndGradient(fromCpu, centres, { noiseScale: 1, tied: false, noise: { kind: 'seed', seed: 0, mode: 'fixed' } })).rejects.toThrow(InputError);
    } finally {
      fromCpu.dispose();
      fromOther.dispose();
    }
  });

  it('a disposed handle is refused on both backends; disposing twice is harmless', async () => {
    for (const be of [cpu, gpu]) {
      const handle = be.dataset(data);
      handle.dispose();
      handle.dispose();
      expect(handle.disposed).toBe(true);
      await expect(be.emStep(handle, centres)).rejects.toThrow(/disposed: make a new one/);
    }
  });

  it('the shapes of the centres are still checked against the handle', async () => {
    const handle = gpu.dataset(data);
    try {
      await expect(gpu.emStep(handle, matrix(2, 4))).rejects.toThrow(/centres have 4 columns but the data has 5/);
    } finally {
      handle.dispose();
    }
  });
});

describe('the loop makes one handle per fit', () => {
  const { data, truth } = generateMixture({ k: 4, d: 8, n: 800, separation: 6, seed: 21 });
  const init = warmStart(truth, 1, 5);

  /** The backend with dataset() counted; the handles it made. */
  function counting(be: Backend): { spy: Backend; made: Dataset[] } {
    const made: Dataset[] = [];
    const spy: Backend = Object.assign(Object.create(be) as Backend, {
      dataset: (x: Matrix) => {
        const h = be.dataset(x);
        made.push(h);
        return h;
      },
    });
    return { spy, made };
  }

  for (const name of ['cpu', 'gpu']) {
    it(`${name}: one handle, disposed at the end and when the run throws`, async () => {
      const be = backends().find(([n]) => n === name)![1];
      const { spy, made } = counting(be);
      await fitSchedule(spy, data, 'warm', { k: 4, init, maxSteps: 20, averageSteps: 10 }, truth);
      expect(made.map((h) => h.disposed)).toEqual([true]);
      const diverging = fitSchedule(spy, data, 'warm', { k: 4, init, lr: 1e9, maxSteps: 20 }, truth);
      await expect(diverging).rejects.toThrow(DivergenceError);
      expect(made.map((h) => h.disposed)).toEqual([true, true]);
    });

    it(`${name}: an averaging tail batched into one call equals the tail run a chunk per call, bit for bit`, async () => {
      const be = backends().find(([n]) => n === name)![1];
      const options = { k: 4, init, maxSteps: 30, averageSteps: 40, tol: 1e-12 };
      let calls: number[] = [];
      const counted: Backend = Object.assign(Object.create(be) as Backend, {
        gdSteps: (...args: Parameters<Backend['gdSteps']>) => {
          calls.push(args[2].steps);
          return be.gdSteps(...args);
        },
      });
      const batched = await fitSchedule(counted, data, 'warm', options, truth);
      // The stage with a stopping rule goes a chunk per call; its tail of 8 chunks in one call.
      expect(calls).toEqual([5, 5, 5, 5, 5, 5, 40]);
      calls = [];
      // onChunk makes the loop stop after every chunk, so each chunk is its own call.
      const chunked = await fitSchedule(counted, data, 'warm', options, truth, { onChunk: () => undefined });
      expect(calls).toEqual(Array(14).fill(5));
      expect(bits(batched.means)).toEqual(bits(chunked.means));
      expect(batched.history.map((h) => [h.step, h.loss, h.gradNorm, h.change])).toEqual(chunked.history.map((h) => [h.step, h.loss, h.gradNorm, h.change]));
    });
  }
});
