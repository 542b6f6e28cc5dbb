// The noise generators and Gaussian transforms of research/shaders/noise-candidates/, side by side in one process
// (docs/performance.md, 'The noise generator'). Each candidate replaces shaders/philox.wgsl in its own
// GpuBackend; the standard problem's evaluation (K = 16, d = 64) on a subsample is timed with seeded noise
// for every candidate and once with an explicit noise matrix, interleaved, `--repeats` rounds after a
// warm-up. A candidate's share of the step is 1 - explicit / seeded (medians), as in bench/node-bench.ts.
//
//   node bin/run-ts.js research/noise-candidates.ts [--rows 65536 --d 64 --k 16 --repeats 7 --only 'engine|Threefry']
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { acquireDevice } from '../host/core/device.ts';
import { GpuBackend } from '../host/engine.ts';
import { nodeGpuEntry } from '../host/core/node-gpu.ts';
import { WGSL_SOURCES } from '../host/shader-sources.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import { matrix } from '../src/types.ts';
import { type NoiseSpec } from '../src/training/capability.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '65536' },
    d: { type: 'string', default: '64' },
    k: { type: 'string', default: '16' },
    repeats: { type: 'string', default: '7' },
    only: { type: 'string' },
  },
});
const rows = Number(values.rows), d = Number(values.d), K = Number(values.k), repeats = Number(values.repeats);
const noiseScale = 0.5;

const candidateFile = (name: string): string => readFileSync(new URL(`./shaders/noise-candidates/${name}`, import.meta.url), 'utf8');

/** A candidate: a header of constants, a generator and a transform from research/shaders/noise-candidates/; null = shaders/philox.wgsl. */
const CANDIDATES: { name: string; files: string[] | null; header?: string }[] = [
  { name: 'engine (shaders/philox.wgsl)', files: null },
  { name: 'Philox4x32-10, split mulhi, Box-Muller', files: ['philox.wgsl', 'mulhi_split.wgsl', 'box_muller.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 10u;' },
  { name: 'Philox4x32-10, carry mulhi, Box-Muller', files: ['philox.wgsl', 'mulhi_carry.wgsl', 'box_muller.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 10u;' },
  { name: 'Philox4x32-7, split mulhi, Box-Muller', files: ['philox.wgsl', 'mulhi_split.wgsl', 'box_muller.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 7u;' },
  { name: 'Philox4x32-7, carry mulhi, Box-Muller', files: ['philox.wgsl', 'mulhi_carry.wgsl', 'box_muller.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 7u;' },
  { name: 'Threefry4x32-20, Box-Muller', files: ['threefry.wgsl', 'box_muller.wgsl'], header: 'const THREEFRY_ROUNDS: u32 = 20u;' },
  { name: 'Threefry4x32-13, Box-Muller', files: ['threefry.wgsl', 'box_muller.wgsl'], header: 'const THREEFRY_ROUNDS: u32 = 13u;' },
  { name: 'Philox4x32-7, carry mulhi, Box-Muller quadrant bits', files: ['philox.wgsl', 'mulhi_carry.wgsl', 'box_muller_quadrant.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 7u;' },
  { name: 'Philox4x32-7, carry mulhi, inverse CDF', files: ['philox.wgsl', 'mulhi_carry.wgsl', 'inverse_cdf.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 7u;' },
  // Diagnostics, to split a candidate's cost between its generator and its transform.
  { name: 'diagnostic: Philox4x32-7 carry, words only', files: ['philox.wgsl', 'mulhi_carry.wgsl', 'words_only.wgsl'], header: 'const PHILOX_ROUNDS: u32 = 7u;' },
  { name: 'diagnostic: Threefry4x32-13, words only', files: ['threefry.wgsl', 'words_only.wgsl'], header: 'const THREEFRY_ROUNDS: u32 = 13u;' },
  { name: 'diagnostic: no generator, Box-Muller', files: ['no_generator.wgsl', 'box_muller.wgsl'] },
  { name: 'diagnostic: no generator, inverse CDF', files: ['no_generator.wgsl', 'inverse_cdf.wgsl'] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const log = (m: string) => console.error(m);
const gpuEntry = await nodeGpuEntry(log);
if (!gpuEntry) throw new Error('no WebGPU adapter');
const data = noiseMatrix(11, 0, rows, d, 1);
const centres = matrix(K, d, noiseMatrix(12, 0, K, d, 1).data.map((v) => 2 * v));
const z = noiseMatrix(13, 0, rows, d);
const chosen = CANDIDATES.filter((c) => values.only === undefined || values.only.split('|').some((o) => c.name.includes(o)));

const runs: { name: string; backend: GpuBackend; noise: NoiseSpec; times: number[] }[] = [];
for (const c of chosen) {
  const philox = c.files ? [c.header ?? '', ...c.files.map(candidateFile)].join('\n') : WGSL_SOURCES['philox.wgsl']!;
  const backend = new GpuBackend({ acquired: await acquireDevice({ gpu: gpuEntry, log }), sources: { ...WGSL_SOURCES, 'philox.wgsl': philox } });
  runs.push({ name: c.name, backend, noise: { kind: 'seed', seed: 1, mode: 'fixed' }, times: [] });
}
const explicitRun = { name: 'explicit noise matrix (no generator)', backend: runs[0]!.backend, noise: { kind: 'matrix', z } as NoiseSpec, times: [] as number[] };
runs.push(explicitRun);
log(`Adapter: ${runs[0]!.backend.adapter}; ${rows} rows, d = ${d}, K = ${K}; ${repeats} interleaved repeats after a warm-up`);
for (let i = 0; i <= repeats; i++) {
  // Rotate the order each repeat so that no candidate always follows the same one.
  for (let j = 0; j < runs.length; j++) {
    const run = runs[(i + j) % runs.length]!;
    const t0 = performance.now();
    await run.backend.lossAndGradient(data, centres, { noiseScale, tied: false, noise: run.noise });
    if (i > 0) run.times.push((performance.now() - t0) / 1000);
  }
}
const explicit = median(explicitRun.times);
const table = runs.map((r) => {
  const t = median(r.times);
  return { candidate: r.name, secondsPerEvaluation: t, shareOfStep: 1 - explicit / t, nsPerNormal: (1e9 * (t - explicit)) / (rows * d) };
});
for (const r of table) {
  log(`${r.candidate.padEnd(54)} ${r.secondsPerEvaluation.toFixed(4)} s  share ${(100 * r.shareOfStep).toFixed(1).padStart(5)}%  ${r.nsPerNormal.toFixed(1).padStart(6)} ns/normal`);
}
console.log(JSON.stringify({ rows, d, k: K, repeats, adapter: runs[0]!.backend.adapter, date: new Date().toISOString(), table }, null, 2));
for (const r of runs.slice(0, -1)) r.backend.dispose();
process.exit(0);
