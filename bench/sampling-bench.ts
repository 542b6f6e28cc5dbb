// The sampling benchmark (docs/performance.md, 'Sampling'). Standard problem: N = 2^20 samples, d = 64,
// K = 16. Reports, in one process on one adapter:
//  - sample-steps per second of the exponential integrator (median seconds per step over the submitted
//    batches of every repeat, the first batch of each run left out: it uploads and draws the start), and
//    end to end (the whole sample() call, read-back included);
//  - the training step's sample-gradients per second (gdSteps, fresh noise; median over steps) and the ratio,
//    the two measured alternately in each repeat;
//  - the energy distance's pairs per second on --ed-rows rows per set (median over repeats), with
//    3d + 1 flops per pair (a subtraction and a multiply-add per coordinate, the square root counted as one)
//    against the adapter's FMA ceiling (bench/fma-peak.ts), measured just before it.
// Writes bench/results/sampling-latest.json.
//
//   node bin/run-ts.js bench/sampling-bench.ts [--n 1048576 --d 64 --k 16 --steps 16 --gd-steps 6 --ed-rows 8192 --repeats 3]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { measureFmaCeiling } from './fma-peak.ts';
import { createGpuBackend } from '../host/index.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import type { SamplerOptions } from '../src/sampling/options.ts';
import { matrix } from '../src/types.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: String(2 ** 20) },
    d: { type: 'string', default: '64' },
    k: { type: 'string', default: '16' },
    steps: { type: 'string', default: '16' },
    'gd-steps': { type: 'string', default: '6' },
    'ed-rows': { type: 'string', default: '8192' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/sampling-latest.json' },
  },
});
const N = Number(values.n), d = Number(values.d), K = Number(values.k);
const steps = Number(values.steps), gdSteps = Number(values['gd-steps']), edRows = Number(values['ed-rows']), repeats = Number(values.repeats);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const log = (m: string) => console.error(m);
// The 1-minute load average at the start and the end: other work on the machine shows here.
const loadAverages = [os.loadavg()[0]!];
const gpu = await createGpuBackend({ log });
log(`Adapter: ${gpu.adapter}; N = ${N}, d = ${d}, K = ${K}`);
const centres = matrix(K, d, noiseMatrix(12, 0, K, d, 1).data.map((v) => 2 * v));
log('Measuring the adapter FMA ceiling ...');
const fmaCeilingGflops = await measureFmaCeiling(gpu);

// The sampler: the horizon and grid do not change the work per step; the steps are submitted one batch at a time.
const sampler = (s: number): SamplerOptions => ({ method: 'reverse', integrator: 'exponential', horizon: 6, tMin: 1e-3, steps: s, grid: 'uniform', seed: 1 });
log('Compiling the sampler (one step) ...');
await gpu.sample(centres, Math.min(N, 1024), sampler(1));
// Sampler and training runs alternate, one of each per repeat, so that a change in the machine's load hits both
// alike; the ratio is also reported per repeat.
const data = noiseMatrix(11, 0, N, d, 1);
const batchSecondsPerStep: number[] = [];
const endToEnd: number[] = [];
const gdTimes: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < repeats; r++) {
  const batches: number[] = [];
  let last = performance.now();
  let lastDone = 0;
  const t0 = last;
  await gpu.sample(centres, N, sampler(steps), ({ done }) => {
    const now = performance.now();
    if (lastDone > 0) batches.push((now - last) / 1000 / (done - lastDone));
    last = now;
    lastDone = done;
  });
  endToEnd.push((performance.now() - t0) / 1000);
  // The training step on the same N, d, K (as bench/node-bench.ts): seconds between consecutive log points, the first left out.
  const gd: number[] = [];
  last = performance.now();
  await gpu.gdSteps(data, centres, {
    noiseScale: 0.5, tied: false, lr: 0.05, steps: gdSteps + 1, logEvery: 1, noise: { kind: 'seed', seed: 1, mode: 'fresh' },
    onProgress: () => {
      const now = performance.now();
      gd.push((now - last) / 1000);
      last = now;
    },
  });
  batchSecondsPerStep.push(...batches);
  gdTimes.push(...gd.slice(1));
  ratios.push(median(gd.slice(1)) / median(batches));
  log(`  repeat ${r + 1}: sampler ${median(batches).toFixed(3)} s/step, training ${median(gd.slice(1)).toFixed(3)} s/step: ratio ${ratios.at(-1)!.toFixed(2)}`);
}
const sampleStepsPerSec = N / median(batchSecondsPerStep);
const sampleStepsPerSecEndToEnd = (N * steps) / median(endToEnd);
const sampleGradsPerSec = N / median(gdTimes);

log(`Timing the energy distance on ${edRows} + ${edRows} rows ...`);
const x = matrix(edRows, d, noiseMatrix(21, 0, edRows, d, 1).data);
const y = matrix(edRows, d, noiseMatrix(22, 0, edRows, d, 1).data.map((v) => v + 0.1));
await gpu.energyDistance(matrix(64, d, x.data.slice(0, 64 * d)), matrix(64, d, y.data.slice(0, 64 * d))); // compile
// The ceiling again, next to the timing it is compared with: the load of a shared machine changes within a run.
const edCeilingGflops = await measureFmaCeiling(gpu);
const edTimes: number[] = [];
let distance = 0;
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  distance = await gpu.energyDistance(x, y);
  edTimes.push((performance.now() - t0) / 1000);
}
const pairs = 3 * edRows * edRows; // X-Y, X-X and Y-Y, each ordered pair once (V-statistics)
const pairsPerSec = pairs / median(edTimes);
const flopsPerPair = 3 * d + 1;
const edGflops = (pairsPerSec * flopsPerPair) / 1e9;
gpu.dispose();
loadAverages.push(os.loadavg()[0]!);

const result = {
  problem: { n: N, d, k: K, steps, integrator: 'exponential', gdSteps, edRows },
  adapter: gpu.adapter,
  date: new Date().toISOString(),
  sampler: { sampleStepsPerSec, sampleStepsPerSecEndToEnd, batchSecondsPerStep, endToEndSeconds: endToEnd },
  training: { sampleGradsPerSec, stepSeconds: gdTimes },
  samplerOverTraining: sampleStepsPerSec / sampleGradsPerSec,
  samplerOverTrainingPerRepeat: ratios,
  loadAverage: loadAverages,
  energyDistance: { pairsPerSec, flopsPerPair, gflops: edGflops, fmaCeilingGflops: edCeilingGflops, fractionOfCeiling: edGflops / edCeilingGflops, seconds: edTimes, distance },
  fmaCeilingGflopsAtStart: fmaCeilingGflops,
  command: `node bin/run-ts.js bench/sampling-bench.ts --n ${N} --d ${d} --k ${K} --steps ${steps} --gd-steps ${gdSteps} --ed-rows ${edRows} --repeats ${repeats}`,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(`${values.out}.tmp`, JSON.stringify(result, null, 2) + '\n');
renameSync(`${values.out}.tmp`, values.out!);
console.log(JSON.stringify(result, null, 2));
log(
  `\nSampler: ${sampleStepsPerSec.toExponential(3)} sample-steps/s (${sampleStepsPerSecEndToEnd.toExponential(3)} end to end); ` +
    `training ${sampleGradsPerSec.toExponential(3)} sample-grads/s; ratio ${result.samplerOverTraining.toFixed(2)}.\n` +
    `Energy distance: ${pairsPerSec.toExponential(3)} pairs/s = ${edGflops.toFixed(2)} GFLOP/s = ` +
    `${(100 * result.energyDistance.fractionOfCeiling).toFixed(1)}% of the ${edCeilingGflops.toFixed(2)} GFLOP/s FMA ceiling (${fmaCeilingGflops.toFixed(2)} at the start).`,
);
process.exit(0);
