// The tiled kernel's sweep (docs/performance.md, 'The tiled kernel's sizes'): every autotuner candidate
// (host/tune/autotune.ts tileCandidates) on the standard problem and a few other shapes, each through the public
// path (createGpuBackend({ kernel: 'tiled', tune: sizes }) and gdSteps with fresh noise), then what the
// autotuner itself picks from its subsample. Run by `npm run bench -- --sweep`; prints a table and writes
// bench/results/sweep-latest.json.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { describeTileConfig, type FullTileConfig, tileCandidates } from '../host/tune/autotune.ts';
import { createGpuBackend, type GpuBackend } from '../host/index.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import { matrix, type Matrix } from '../src/types.ts';

export interface SweepOptions {
  /** Rows; undefined: N = 2^20 on a GPU, SOFTWARE_ROWS on a software adapter. */
  readonly n?: number;
  readonly steps: number;
  readonly warmup: number;
  readonly out: string;
  readonly log: (message: string) => void;
}

/** A subsample for software adapters, where a tiled step at K = 16, d = 64 takes about 0.1 ms per row. */
export const SOFTWARE_ROWS = 2 ** 12;
/** The standard problem first (docs/performance.md), then a small, a tied and a wide shape. */
const SHAPES = [
  { k: 16, d: 64, tied: false },
  { k: 4, d: 16, tied: false },
  { k: 1, d: 64, tied: true },
  { k: 32, d: 128, tied: false },
];

interface Row {
  readonly k: number;
  readonly d: number;
  readonly tied: boolean;
  readonly config: FullTileConfig;
  readonly isDefault: boolean;
  readonly secondsPerStep: number;
  readonly sampleGradsPerSec: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Timed calls per candidate; the figure is their median. */
const REPEATS = 3;

/**
 * Median seconds per GD step over REPEATS calls of `steps` steps each (one read-back per call), after a call of
 * `warmup` steps that compiles. Whole calls are timed: the engine folds log points of cheap steps into one
 * submission, so per-step progress times say nothing at small N.
 */
async function stepSeconds(gpu: GpuBackend, data: Matrix, centres: Matrix, tied: boolean, warmup: number, steps: number): Promise<number> {
  const run = async (count: number) => {
    const started = performance.now();
    await gpu.gdSteps(data, centres, { noiseScale: 0.5, tied, lr: 0.05, steps: count, logEvery: count, noise: { kind: 'seed', seed: 1, mode: 'fresh' } });
    return (performance.now() - started) / 1000 / count;
  };
  await run(Math.max(1, warmup));
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) times.push(await run(steps));
  return median(times);
}

export async function runSweep(options: SweepOptions): Promise<void> {
  const { log } = options;
  const probe = await createGpuBackend({ log });
  const { adapter, isSoftware } = probe;
  // Copied out: GPUSupportedLimits' fields are getters on the device, which dispose destroys.
  const l = probe.limits;
  const limits = {
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  probe.dispose();
  const n = options.n ?? (isSoftware ? SOFTWARE_ROWS : 2 ** 20);
  log(`Sweep of the tiled kernel's sizes on ${adapter}: N = ${n}${isSoftware && options.n === undefined ? ' (a subsample: software adapter)' : ''}, ` +
    `a warm-up call of ${options.warmup} steps, then the median of ${REPEATS} calls of ${options.steps} steps per candidate`);
  const rows: Row[] = [];
  const picks: { k: number; d: number; tied: boolean; pick: FullTileConfig; tuneSeconds: number }[] = [];
  for (const { k, d, tied } of SHAPES) {
    const stored = tied ? 2 : k;
    const data = noiseMatrix(11, 0, n, d, 1);
    const centres = matrix(tied ? 1 : k, d, noiseMatrix(12, 0, tied ? 1 : k, d, 1).data.map((v) => 2 * v));
    const candidates = tileCandidates(stored, d, limits, n);
    for (const [i, config] of candidates.entries()) {
      const gpu = await createGpuBackend({ kernel: 'tiled', tune: config, log });
      try {
        const secondsPerStep = await stepSeconds(gpu, data, centres, tied, options.warmup, options.steps);
        rows.push({ k, d, tied, config, isDefault: i === 0, secondsPerStep, sampleGradsPerSec: n / secondsPerStep });
        log(`  K = ${k}${tied ? ' tied' : ''}, d = ${d}: ${describeTileConfig(config)}: ${(secondsPerStep * 1000).toFixed(2)} ms per step`);
      } finally {
        gpu.dispose();
      }
    }
    // What the autotuner picks on its own subsample (host/tune/tune-timing.ts timingPlan), with no cache.
    const tuner = await createGpuBackend({ kernel: 'tiled', tune: 'on', tuneCache: false, log });
    try {
      const started = performance.now();
      await tuner.lossAndGradient(matrix(64, d, data.data.slice(0, 64 * d)), centres, { noiseScale: 0.5, tied, noise: { kind: 'seed', seed: 1, mode: 'fixed' } });
      const s = tuner.shapeOf(stored, d);
      picks.push({ k, d, tied, pick: { tile: s.tile, wg: s.wg, groups: s.groups }, tuneSeconds: (performance.now() - started) / 1000 });
    } finally {
      tuner.dispose();
    }
  }
  const table = markdownTable(rows, picks);
  const result = {
    adapter, isSoftware, date: new Date().toISOString(), n, steps: options.steps, warmup: options.warmup, rows, picks,
    command: `npm run bench -- --sweep${options.n === undefined ? '' : ` --n ${n}`} --steps ${options.steps} --warmup ${options.warmup}`,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`${options.out}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${options.out}.tmp`, options.out);
  console.log(table);
  log(`wrote ${options.out}`);
}

/** One row per candidate: ms per step, throughput, and against the default; the fastest and the autotuner's pick marked. */
function markdownTable(rows: readonly Row[], picks: readonly { k: number; d: number; tied: boolean; pick: FullTileConfig }[]): string {
  const lines = ['| shape | tile | workgroup | groups | ms per step | sample-gradients/s | vs default | |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const p of picks) {
    const mine = rows.filter((r) => r.k === p.k && r.d === p.d && r.tied === p.tied);
    const base = mine.find((r) => r.isDefault)!;
    const fastest = mine.reduce((a, b) => (b.secondsPerStep < a.secondsPerStep ? b : a));
    for (const r of mine) {
      const same = (c: FullTileConfig) => c.tile === r.config.tile && c.wg === r.config.wg && c.groups === r.config.groups;
      const marks = [r.isDefault ? 'default' : '', r === fastest ? 'fastest' : '', same(p.pick) ? 'autotuner' : ''].filter(Boolean).join(', ');
      lines.push(`| K = ${r.k}${r.tied ? ' tied' : ''}, d = ${r.d} | ${r.config.tile} | ${r.config.wg} | ${r.config.groups} | ${(r.secondsPerStep * 1000).toFixed(2)} | ` +
        `${r.sampleGradsPerSec.toExponential(2)} | ${(base.secondsPerStep / r.secondsPerStep).toFixed(2)}x | ${marks} |`);
    }
  }
  return lines.join('\n');
}
