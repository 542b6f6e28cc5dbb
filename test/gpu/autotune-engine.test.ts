// The autotuner inside the engine (host/tune/autotune.ts, host/tune/tune-timing.ts, host/tune/tune-store.ts): a corrupt cache
// file is ignored with one line and the class is timed on this adapter for real, the file is rewritten, and a
// cached choice is what the engine then runs, within the derived float32 bound of the reference.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTuneCache, TUNE_CACHE_FORMAT, TUNE_CACHE_VERSION, tileCandidates } from '../../host/tune/autotune.ts';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { defaultTuneCachePath, nodeTuneStore } from '../../host/tune/tune-store.ts';
import { timingPlan } from '../../host/tune/tune-timing.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { gradientBound } from '../support/bounds.ts';
import { caseById, makeProblem, scaledCentres } from '../support/cases.ts';
import { worstRatio } from '../support/compare.ts';
import { summationDepth } from '../support/summation-depth.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cpu = new CpuBackend();
const c = caseById('K3-d5-N1000-t0.05');

/** The case on `gpu` against the float64 reference, under the bound of the backend's own summation depth. */
async function expectWithinBound(gpu: GpuBackend): Promise<void> {
  const { data, centres, z } = makeProblem(c);
  const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } } as const;
  const got = await gpu.lossAndGradient(data, centres, options);
  const ref = await cpu.lossAndGradient(data, centres, options);
  const bound = gradientBound(data, scaledCentres(centres, c.t, false), c.t, z, summationDepth(gpu, c.k, c.d, c.n), false);
  expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
  expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad).ratio).toBeLessThanOrEqual(1);
}

describe('the autotuner in the engine', () => {
  it('a corrupt cache file: one line, a real tuning on this adapter, the file rewritten; a cached choice is then what runs', async () => {
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"format": "ddpm-gmm-autotune", "entr');
    const log: string[] = [];
    // 'on' tunes on a software adapter too ('auto' would leave SwiftShader on its lane kernel and default sizes).
    const tuned = await createGpuBackend({ kernel: 'tiled', tune: 'on', tuneCache: corrupt, log: (m) => log.push(m) });
    try {
      await expectWithinBound(tuned);
      expect(log.filter((l) => /autotune: ignoring the cache .*corrupt\.json: it is not valid JSON/.test(l))).toHaveLength(1);
      expect(log.some((l) => /autotune: K4-d8: tile \d+, workgroup \d+, groups \d+ \(/.test(l))).toBe(true);
      // Rewritten whole: this version, this adapter's key, the class just timed; and read back by the cache's own check.
      const file = JSON.parse(readFileSync(corrupt, 'utf8'));
      expect(file).toMatchObject({ format: TUNE_CACHE_FORMAT, version: TUNE_CACHE_VERSION });
      expect('entries' in readTuneCache(JSON.stringify(file), file.adapter, file.kernels)).toBe(true);
      const entry = file.entries['K4-d8'];
      expect(entry).toMatchObject({ k: 3, d: 5, candidates: tileCandidates(3, 5, tuned.limits, timingPlan(!tuned.isSoftware).rows).length });
      expect(tuned.shapeOf(3, 5)).toMatchObject({ tile: entry.tile, wg: entry.wg, groups: entry.groups });

      // The same file with another choice, under another name (the process keeps one memory per store): used as it is.
      file.entries['K4-d8'] = { ...entry, tile: 8, wg: 32, groups: 3 };
      const edited = join(dir, 'edited.json');
      writeFileSync(edited, JSON.stringify(file));
      const quiet: string[] = [];
      const cached = await createGpuBackend({ kernel: 'tiled', tune: 'on', tuneCache: edited, log: (m) => quiet.push(m) });
      try {
        expect(cached.shapeOf(3, 5)).toMatchObject({ tile: 8, wg: 32, groups: 3 });
        await expectWithinBound(cached);
        expect(quiet.filter((l) => /autotune/.test(l))).toEqual([]);
      } finally {
        cached.dispose();
      }
    } finally {
      tuned.dispose();
    }
  });

  it('a software adapter tunes nothing under auto, and runs the tiled kernel with 64 invocations per workgroup', async () => {
    const log: string[] = [];
    const gpu = await createGpuBackend({ kernel: 'tiled', tuneCache: join(dir, 'unused.json'), log: (m) => log.push(m) });
    try {
      if (!gpu.isSoftware) return; // on hardware 'auto' tunes: the case above covers it
      await expectWithinBound(gpu);
      expect(log.filter((l) => /autotune/.test(l))).toEqual([]);
      expect(gpu.shapeOf(3, 5)).toMatchObject({ tile: 32, wg: 64, groups: 1024 });
      // K = 64, d = 64 has 256 4 x 4 blocks: the block-count rule would take 256 invocations, which ran 3x slower here
      // (docs/performance.md, 'Compile times'); the tile stays the default.
      expect(gpu.shapeOf(64, 64)).toMatchObject({ tile: 30, wg: 64 });
    } finally {
      gpu.dispose();
    }
  });

  it('the cache lives under the user cache directory, one file per adapter, or where DDPM_GMM_TUNE_CACHE says', () => {
    const saved = { xdg: process.env.XDG_CACHE_HOME, env: process.env.DDPM_GMM_TUNE_CACHE };
    try {
      process.env.XDG_CACHE_HOME = '/home/u/.cache';
      delete process.env.DDPM_GMM_TUNE_CACHE;
      expect(defaultTuneCachePath('a|b')).toMatch(/^\/home\/u\/\.cache\/ddpm-gmm\/autotune-[0-9a-f]{8}\.json$/);
      expect(defaultTuneCachePath('a|b')).not.toBe(defaultTuneCachePath('a|c'));
      expect(nodeTuneStore(undefined)('a|b')!.where).not.toMatch(/node_modules/);
      process.env.DDPM_GMM_TUNE_CACHE = '/tmp/x.json';
      expect(nodeTuneStore(undefined)('a|b')!.where).toBe('/tmp/x.json');
      expect(nodeTuneStore('/tmp/y.json')('a|b')!.where).toBe('/tmp/y.json');
      expect(nodeTuneStore(false)('a|b')).toBeUndefined();
    } finally {
      for (const [k, v] of [['XDG_CACHE_HOME', saved.xdg], ['DDPM_GMM_TUNE_CACHE', saved.env]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
