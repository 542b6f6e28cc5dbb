// The Node benchmark (docs/performance.md, 'The benchmark'). Standard problem: N = 2^20,
// d = 64, K = 16, fresh noise. Median seconds per GD step over >= 10 steps after
// a warm-up, sample-gradients per second, GFLOP/s under docs/math.md section 12, the
// adapter's own measured FMA ceiling and the fraction of it achieved, and the
// CPU reference on a subsample for a ratio. Writes bench/results/latest.json.
//
//   npm run bench [-- --n 1048576 --d 64 --k 16 --steps 10 --warmup 2 --cpu-rows 8192]
//   npm run bench -- --sweep [--n N --steps S --warmup W]: the tiled kernel's sizes instead (bench/sweep.ts)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { measureFmaCeiling } from './fma-peak.ts';
import { createGpuBackend } from '../host/index.ts';
import { pytorchStep } from './pytorch.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import type { Backend } from '../src/backend.ts';
import type { Matrix } from '../src/types.ts';
import { matrix } from '../src/types.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: String(2 ** 20) },
    d: { type: 'string', default: '64' },
    k: { type: 'string', default: '16' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'cpu-rows': { type: 'string', default: '8192' },
    out: { type: 'string', default: 'bench/results/latest.json' },
    sweep: { type: 'boolean', default: false },
  },
});
const N = Number(values.n), d = Number(values.d), K = Number(values.k);
const steps = Number(values.steps), warmup = Number(values.warmup), cpuRows = Math.min(N, Number(values['cpu-rows']));
const noiseScale = 0.5, lr = 0.05;

if (values.sweep) {
  const { runSweep } = await import('./sweep.ts');
  const out = values.out === 'bench/results/latest.json' ? 'bench/results/sweep-latest.json' : values.out!;
  // Without --n the sweep takes N = 2^20 on a GPU and a subsample on a software adapter.
  await runSweep({ n: process.argv.includes('--n') ? N : undefined, steps, warmup, out, log: (m) => console.error(m) });
  process.exit(0);
}

/** Flops per sample-gradient under docs/math.md section 12, not counting the noise (so the fraction is conservative). */
const flopsPerSample = 8 * K * d + 6 * d;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seconds of each GD step, timed between consecutive read-backs (one step per submission). */
async function stepTimes(backend: Backend, data: Matrix, centres: Matrix, count: number): Promise<number[]> {
  const times: number[] = [];
  let last = performance.now();
  await backend.gdSteps(data, centres, {
    noiseScale, tied: false, lr, steps: count, logEvery: 1,
    noise: { kind: 'seed', seed: 1, mode: 'fresh' },
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  return times;
}

const log = (m: string) => console.error(m);
log(`Generating the standard problem N = ${N}, d = ${d}, K = ${K} ...`);
const data = noiseMatrix(11, 0, N, d, 1);
const centres = matrix(K, d, noiseMatrix(12, 0, K, d, 1).data.map((v) => 2 * v));

const loadAtStart = loadavg()[0]!;
const gpu = await createGpuBackend({ log });
log(`Adapter: ${gpu.adapter}`);
log('Measuring the adapter FMA ceiling ...');
const ceilingBefore = await measureFmaCeiling(gpu);
log(`  ${ceilingBefore.toFixed(2)} GFLOP/s`);
log(`Timing ${warmup} warm-up + ${steps} GD steps on the GPU engine ...`);
const all = await stepTimes(gpu, data, centres, warmup + steps);
const gpuTimes = all.slice(warmup);
const secondsPerStep = median(gpuTimes);
// The ceiling is the adapter's capacity: a low reading means other load on the cores, so it is measured on both
// sides of the steps and the higher kept (both are in the JSON; far apart, the run was loaded).
const ceilingAfter = await measureFmaCeiling(gpu);
const fmaCeilingGflops = Math.max(ceilingBefore, ceilingAfter);
log(`  FMA ceiling after the steps ${ceilingAfter.toFixed(2)} GFLOP/s`);

// What limits it: the same evaluation on a subsample with Philox noise and with an explicit noise matrix
// (read from memory like the data), interleaved; the difference is the cost of drawing the noise.
const shareRows = Math.min(N, 65536);
const sub = matrix(shareRows, d, data.data.slice(0, shareRows * d));
const z = noiseMatrix(13, 0, shareRows, d);
const seeded: number[] = [];
const explicit: number[] = [];
for (let i = 0; i < 6; i++) {
  for (const [noise, into] of [[{ kind: 'seed', seed: 1, mode: 'fixed' }, seeded], [{ kind: 'matrix', z }, explicit]] as const) {
    const t0 = performance.now();
    await gpu.lossAndGradient(sub, centres, { noiseScale, tied: false, noise });
    if (i > 0) into.push((performance.now() - t0) / 1000);
  }
}
const noiseShareOfStep = 1 - median(explicit) / median(seeded);
log(`  drawing the noise (Philox4x32-7 + Box-Muller) takes ${(100 * noiseShareOfStep).toFixed(0)}% of a step`);
gpu.dispose();

log(`Timing the CPU reference on ${cpuRows} rows ...`);
const cpuData = matrix(cpuRows, d, data.data.slice(0, cpuRows * d));
const cpu = new CpuBackend();
const cpuTimes = (await stepTimes(cpu, cpuData, centres, 4)).slice(1);
const cpuSecondsPerStep = median(cpuTimes);

log(`Timing the same step in PyTorch on the CPU (bench/pytorch_step.py) ...`);
const pytorch = pytorchStep({ n: N, d, k: K, steps: Math.min(steps, 5), warmup: 1 });
log(pytorch.ran ? `  torch ${pytorch.torch}, ${pytorch.threads} threads: ${pytorch.sampleGradsPerSec.toExponential(2)} sample-gradients/s` : `  skipped: ${pytorch.reason}`);

const sampleGradsPerSec = N / secondsPerStep;
const gflops = (sampleGradsPerSec * flopsPerSample) / 1e9;
const cpuSampleGradsPerSec = cpuRows / cpuSecondsPerStep;
const result = {
  problem: { n: N, d, k: K, noise: 'fresh', noiseScale, lr },
  adapter: gpu.adapter,
  date: new Date().toISOString(),
  steps: gpuTimes.length,
  warmup,
  secondsPerStep,
  stepSeconds: gpuTimes,
  sampleGradsPerSec,
  flopsPerSample,
  gflops,
  fmaCeilingGflops,
  fmaCeilingReadings: [ceilingBefore, ceilingAfter],
  // One-minute load averages at the start and the end: above about 1 on this 2-core machine, other work shared the cores.
  loadAverage: [loadAtStart, loadavg()[0]!],
  fractionOfCeiling: gflops / fmaCeilingGflops,
  noiseShareOfStep,
  cpuReference: { rows: cpuRows, secondsPerStep: cpuSecondsPerStep, sampleGradsPerSec: cpuSampleGradsPerSec },
  speedupOverCpuReference: sampleGradsPerSec / cpuSampleGradsPerSec,
  pytorch,
  speedupOverPytorch: pytorch.ran ? sampleGradsPerSec / pytorch.sampleGradsPerSec : null,
  command: `npm run bench -- --n ${N} --d ${d} --k ${K} --steps ${steps} --warmup ${warmup} --cpu-rows ${cpuRows}`,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(`${values.out}.tmp`, JSON.stringify(result, null, 2) + '\n');
renameSync(`${values.out}.tmp`, values.out!);
console.log(JSON.stringify(result, null, 2));
log(`\nGPU: ${secondsPerStep.toFixed(3)} s/step (median of ${gpuTimes.length}), ${sampleGradsPerSec.toExponential(3)} sample-grads/s, ` +
  `${gflops.toFixed(2)} GFLOP/s = ${(100 * result.fractionOfCeiling).toFixed(1)}% of the ${fmaCeilingGflops.toFixed(2)} GFLOP/s FMA ceiling; ` +
  `CPU reference ${cpuSampleGradsPerSec.toExponential(3)} sample-grads/s (x${result.speedupOverCpuReference.toFixed(1)}).`);
process.exit(0);
