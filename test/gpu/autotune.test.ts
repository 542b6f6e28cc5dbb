// The autotuner's policy and cache (host/tune/autotune.ts) without a device: candidates checked against the
// device's limits, and a store that is corrupt, of another adapter or of another version ignored with one
// line of log and re-tuned, never a crash and never a choice that does not fit. Timings are injected.
import { describe, expect, it } from 'vitest';
import {
  adapterKey,
  readTuneCache,
  shapeClass,
  tileCandidates,
  TileTuner,
  type FullTileConfig,
  type TuneOption,
  type TuneStore,
  TUNE_CACHE_VERSION,
  writeTuneCache,
} from '../../host/tune/autotune.ts';
import { type DeviceLimits, shapeFor, tileConfigProblem } from '../../host/core/layout.ts';
import { InputError } from '../../src/errors.ts';

/** WebGPU's default limits: the smallest any adapter offers. */
const LIMITS: DeviceLimits = {
  maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256,
  maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxComputeWorkgroupsPerDimension: 65535,
};
const INFO = { vendor: 'acme', architecture: 'rdna9', device: '0x1234', description: 'Acme Test GPU' };
const ADAPTER = adapterKey(INFO, LIMITS, true);
const KERNELS = 'kernels-1';

let storeCount = 0;
/** A store in memory, with a fresh name so that the process-wide memory of choices starts empty. */
function memoryStore(text?: string): TuneStore & { text: string | undefined } {
  const store = { where: `test-store-${storeCount++}`, text, load: () => store.text, save: (t: string) => void (store.text = t) };
  return store;
}

/** A tuner whose candidate `fastest` (when given) takes 1 ms a step and every other 2 ms. */
function tuner(store: TuneStore | undefined, options: { option?: TuneOption; hardware?: boolean; fastest?: Partial<FullTileConfig>; fail?: (c: FullTileConfig) => boolean } = {}) {
  const log: string[] = [];
  const measured: FullTileConfig[] = [];
  const t = new TileTuner({
    option: options.option ?? 'auto', hardware: options.hardware ?? true, adapterName: 'Acme Test GPU', adapter: ADAPTER, kernels: KERNELS,
    limits: LIMITS, store, log: (m) => log.push(m),
    measure: async (_k, _d, c) => {
      measured.push(c);
      if (options.fail?.(c)) throw new Error('compilation failed');
      const f = options.fastest;
      return f && c.tile === f.tile && c.wg === f.wg && c.groups === (f.groups ?? 1024) ? 1e-3 : 2e-3;
    },
  });
  return { t, log, measured };
}

const choice = (c: FullTileConfig, k = 16, d = 64) => ({ ...c, k, d, secondsPerStep: 1e-3, defaultSecondsPerStep: 2e-3, candidates: 9, date: '2026-01-01' });
const validFile = (c: FullTileConfig, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ ...JSON.parse(writeTuneCache(ADAPTER, KERNELS, new Map([[shapeClass(16, 64), choice(c)]]))), ...overrides });

describe('candidates and their limits', () => {
  it('every candidate fits the device: workgroup memory, invocations, partial sums; the default comes first', () => {
    for (const [k, d] of [[16, 64], [64, 256], [2, 5], [33, 200]] as const) {
      const all = tileCandidates(k, d, LIMITS);
      const base = shapeFor(k, d, LIMITS);
      expect(all[0]).toEqual({ tile: base.tile, wg: base.wg, groups: base.groups });
      for (const c of all) expect(tileConfigProblem(k, d, LIMITS, c)).toBeUndefined();
    }
    // At K = 16, d = 64 a sample needs 640 bytes: 16 KiB holds tile 16 beside 256 threads' scratch, not 32 or 64.
    const small = tileCandidates(16, 64, LIMITS);
    expect(small.length).toBeGreaterThan(3);
    expect(small.every((c) => 16 * 4 + 4 * c.wg + 640 * c.tile <= 16384)).toBe(true);
    expect(small.some((c) => c.tile === 16 && c.wg === 256)).toBe(true);
    expect(small.some((c) => c.tile === 64)).toBe(false);
    // Group counts are timed only where the rows have enough tiles to tell them apart (25 rows a tile by default here).
    expect(tileCandidates(16, 64, LIMITS).filter((c) => c.groups !== 1024).map((c) => c.groups)).toEqual([256, 4096]);
    expect(tileCandidates(16, 64, LIMITS, 25 * 1000).filter((c) => c.groups !== 1024).map((c) => c.groups)).toEqual([256]);
    expect(tileCandidates(16, 64, LIMITS, 2048).filter((c) => c.groups !== 1024)).toEqual([]);
    const narrow = tileCandidates(16, 64, { ...LIMITS, maxComputeInvocationsPerWorkgroup: 128 });
    expect(narrow.some((c) => c.wg > 128)).toBe(false);
  });

  it('a size that cannot run is refused with the limit named: by tileConfigProblem, shapeFor and a fixed tune option', () => {
    expect(tileConfigProblem(16, 64, LIMITS, { tile: 0, wg: 64 })).toMatch(/tile 0 is not a whole number/);
    expect(tileConfigProblem(16, 64, LIMITS, { tile: 2.5, wg: 64 })).toMatch(/tile 2.5/);
    expect(tileConfigProblem(16, 64, LIMITS, { tile: 8, wg: 512 })).toMatch(/workgroup size 512 .* 256 invocations/);
    expect(tileConfigProblem(16, 64, { ...LIMITS, maxComputeWorkgroupSizeX: 128 }, { tile: 8, wg: 256 })).toMatch(/128 invocations/);
    expect(tileConfigProblem(16, 64, LIMITS, { tile: 32, wg: 64 })).toMatch(/needs 20800 bytes of workgroup memory .* allows 16384/);
    expect(tileConfigProblem(64, 1024, LIMITS, { tile: 1, wg: 64, groups: 4096 })).toMatch(/4096 workgroups write \d+ bytes of partial sums/);
    expect(() => shapeFor(16, 64, LIMITS, Infinity, { tile: 32, wg: 64 })).toThrow(InputError);
    expect(() => tuner(undefined, { option: { tile: 8, wg: 1000 } })).toThrow(/tune option's sizes cannot run on this device: workgroup size 1000/);
    // A fixed size that fits one shape but not another: refused at that shape only, as an InputError.
    const fixed = tuner(undefined, { option: { tile: 20, wg: 64 } }).t;
    expect(fixed.configFor(16, 64)).toEqual({ tile: 20, wg: 64 });
    expect(() => shapeFor(16, 256, LIMITS, Infinity, fixed.configFor(16, 256))).toThrow(/needs \d+ bytes of workgroup memory at K = 16, d = 256/);
  });
});

describe('the cache file', () => {
  const base: FullTileConfig = { tile: 16, wg: 128, groups: 1024 };
  it('round-trips, and names what is wrong with a file it will not use', () => {
    const ok = readTuneCache(validFile(base), ADAPTER, KERNELS);
    expect('entries' in ok && ok.entries.get('K16-d64')).toMatchObject(base);
    const problem = (text: string) => {
      const r = readTuneCache(text, ADAPTER, KERNELS);
      return 'problem' in r ? r.problem : 'accepted';
    };
    expect(problem('{"format": "ddpm-gmm-autot')).toMatch(/not valid JSON/);
    expect(problem('[1, 2]')).toMatch(/not a ddpm-gmm-autotune file/);
    expect(problem(validFile(base, { version: TUNE_CACHE_VERSION + 1 }))).toMatch(/version 2 of the format, and this engine reads version 1/);
    expect(problem(validFile(base, { kernels: 'kernels-0' }))).toMatch(/another version of the kernels/);
    expect(problem(validFile(base, { adapter: 'other|gpu' }))).toMatch(/written for another adapter \(other\|gpu\)/);
    expect(problem(validFile(base, { entries: { 'K16-d64': { ...choice(base), tile: 'big' } } }))).toMatch(/entry K16-d64 is malformed/);
    expect(problem(validFile(base, { entries: { 'K4-d4': choice(base) } }))).toMatch(/entry K4-d4 is malformed/);
  });
});

describe('the tuner', () => {
  const fast: FullTileConfig = { tile: 16, wg: 128, groups: 1024 };
  for (const [what, text, message] of [
    ['corrupt', '{"entries": {', /ignoring the cache test-store-\d+: it is not valid JSON .*; re-tuning for Acme Test GPU\./],
    ['of another adapter', validFile(fast, { adapter: 'Other GPU|x' }), /ignoring the cache .*: it was written for another adapter \(Other GPU\|x\); re-tuning/],
    ['of another version', validFile(fast, { version: 0 }), /ignoring the cache .*: it is version 0 of the format/],
  ] as const) {
    it(`a store ${what} is ignored with one line, re-tuned, and rewritten`, async () => {
      const store = memoryStore(text);
      const { t, log, measured } = tuner(store, { fastest: fast });
      await t.ensure(16, 64);
      expect(log.filter((l) => /ignoring the cache/.test(l))).toHaveLength(1);
      expect(log.find((l) => /ignoring the cache/.test(l))).toMatch(message);
      expect(measured).toEqual(tileCandidates(16, 64, LIMITS));
      expect(t.configFor(16, 64)).toEqual(fast);
      const saved = readTuneCache(store.text!, ADAPTER, KERNELS);
      expect('entries' in saved && saved.entries.get('K16-d64')).toMatchObject({ ...fast, k: 16, d: 64, secondsPerStep: 1e-3, defaultSecondsPerStep: 2e-3 });
      // Tuned once per class: the next call, and another shape of the class, time nothing.
      await t.ensure(13, 50);
      expect(measured).toHaveLength(tileCandidates(16, 64, LIMITS).length);
    });
  }

  it("a valid store's choice is used without timing; one that does not fit this shape falls back to the default", async () => {
    const store = memoryStore(validFile(fast));
    const { t, log, measured } = tuner(store);
    await t.ensure(16, 64);
    expect(measured).toEqual([]);
    expect(log).toEqual([]);
    expect(t.configFor(16, 64)).toEqual(fast);
    // K = 16, d = 64 stored tile 32 at 64 threads; in 16 KiB that does not fit, so the engine runs its default.
    const { t: t2 } = tuner(memoryStore(validFile({ tile: 32, wg: 64, groups: 1024 })));
    expect(t2.configFor(16, 64)).toBeUndefined();
  });

  it('a store that cannot be read or written costs one line each, never the call', async () => {
    const broken: TuneStore = { where: `broken-${storeCount++}`, load: () => { throw new Error('EACCES'); }, save: () => { throw new Error('EROFS'); } };
    const { t, log } = tuner(broken, { fastest: fast });
    await t.ensure(16, 64);
    expect(log.filter((l) => /cannot read the cache broken-\d+ \(EACCES\); ignoring it and re-tuning/.test(l))).toHaveLength(1);
    expect(log.filter((l) => /cannot write the cache broken-\d+ \(EROFS\); the choice holds for this process only/.test(l))).toHaveLength(1);
    expect(t.configFor(16, 64)).toEqual(fast);
  });

  it('a failing candidate is skipped; a candidate within the noise margin does not replace the default', async () => {
    const { t, log } = tuner(memoryStore(), { fastest: fast, fail: (c) => c.tile === 16 });
    await t.ensure(16, 64);
    expect(log.filter((l) => /tile 16, .* failed \(compilation failed\); skipped/.test(l)).length).toBeGreaterThan(0);
    // Every candidate left took the same 2 ms: the default stays.
    expect(t.configFor(16, 64)).toEqual({ ...tileCandidates(16, 64, LIMITS)[0]! });
    const { t: failing } = tuner(memoryStore(), { fail: (c) => c.tile === tileCandidates(16, 64, LIMITS)[0]!.tile });
    // The default's failure is the call's: the untuned kernel would fail the same way.
    await expect(failing.ensure(16, 64)).rejects.toThrow(/compilation failed/);
  });

  it("'auto' tunes on hardware adapters only, 'off' never, and concurrent calls time a class once", async () => {
    for (const [option, hardware] of [['auto', false], ['off', true]] as const) {
      const { t, measured } = tuner(memoryStore(), { option, hardware, fastest: fast });
      await t.ensure(16, 64);
      expect(measured).toEqual([]);
      expect(t.configFor(16, 64)).toBeUndefined();
    }
    const { t, measured } = tuner(memoryStore(), { option: 'on', hardware: false, fastest: fast });
    await Promise.all([t.ensure(16, 64), t.ensure(16, 64), t.ensure(9, 33)]);
    expect(measured).toHaveLength(tileCandidates(16, 64, LIMITS).length);
    expect(t.configFor(9, 33)).toEqual(fast);
  });
});
