// Seconds per GD step, one process: the backend's own gdSteps against chunked training from memory and from a
// .npy file (src/training/chunked.ts). Usage: node bin/run-ts.js bench/chunked-step.ts [--backend cpu|gpu]
// [--n 262144] [--d 16] [--k 4] [--chunk-rows 16384] [--steps 5]. Prints the median of the steps' times.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpuBackend } from '../host/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { openNpySource } from '../src/data/files.ts';
import { matrixSource } from '../src/data/source.ts';
import { serializeNpy } from '../src/io/npy.ts';
import { generateMixture } from '../src/mixtures.ts';
import { chunkedTrainer } from '../src/training/chunked.ts';
import type { DataInput, Matrix } from '../src/types.ts';
import type { Trainer } from '../src/training/capability.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const [n, d, k, chunkRows, steps] = ['n', 'd', 'k', 'chunk-rows', 'steps'].map((a, i) => Number(arg(a, ['262144', '16', '4', '16384', '5'][i]!)));
const backend = arg('backend', 'cpu') === 'gpu' ? await createGpuBackend() : new CpuBackend();
const { data, truth } = generateMixture({ k: k!, d: d!, n: n!, separation: 4, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'chunked-step-'));
const file = join(dir, 'x.npy');
writeFileSync(file, serializeNpy(data, 'float32'));

async function perStep(t: Trainer, input: DataInput, init: Matrix): Promise<number> {
  const times: number[] = [];
  let last = performance.now();
  await t.gdSteps(input, init, {
    noiseScale: 0.5, lr: 0.5, steps: steps! + 1, tied: false, logEvery: 1, noise: { kind: 'seed', seed: 0, mode: 'fresh' },
    onProgress: () => { const now = performance.now(); times.push((now - last) / 1000); last = now; },
  });
  const sorted = times.slice(1).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const whole = backend.dataset(data);
const own = await perStep(backend, whole, truth);
whole.dispose();
const chunked = chunkedTrainer(backend, chunkRows!);
const mem = chunked.open(matrixSource(data, chunkRows!));
const inMemory = await perStep(chunked, mem, truth);
mem.dispose();
const source = await openNpySource(file, chunkRows!);
const streamed = chunked.open(source);
const fromFile = await perStep(chunked, streamed, truth);
streamed.dispose();
await source.close();
rmSync(dir, { recursive: true, force: true });
backend.dispose();
console.log(`${backend.name} (${backend.adapter}); N = ${n}, d = ${d}, K = ${k}, ${chunkRows} rows a chunk (${Math.ceil(n! / chunkRows!)} chunks); median s/step over ${steps}:`);
console.log(`  backend gdSteps ${own.toFixed(4)}, chunked in memory ${inMemory.toFixed(4)}, chunked from .npy ${fromFile.toFixed(4)}`);
