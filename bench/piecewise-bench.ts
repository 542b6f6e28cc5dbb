// The piecewise moments' benchmark (docs/performance.md, 'The piecewise moments'): cellMomentsOnGpu at d = 64, J = 16,
// N = 2^18 by default. Median seconds per call over the repeats after a warm-up, split into its phases (the point pass
// with the assignment's read-back, the host's sort, the Gram pass with the partials' read-back, the host's float64
// adds), and the Gram reduction's throughput in accumulations per second, p^2 + p d per point (one multiply-add
// each), against the adapter's measured FMA ceiling. The CPU reference on a subsample gives a ratio.
// Writes bench/results/piecewise-latest.json.
//
//   node bin/run-ts.js bench/piecewise-bench.ts [-- --n 262144 --d 64 --j 16 --degree 1 --repeats 3 --cpu-rows 4096]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { measureFmaCeiling } from './fma-peak.ts';
import { createGpuBackend } from '../host/index.ts';
import { cellMomentsOnGpu, type MomentTimings } from '../src/piecewise/gpu-moments.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import { matrix } from '../src/matrix.ts';
import { cellMoments, type MomentOptions } from '../src/piecewise/moments.ts';
import { featureCount } from '../src/piecewise/model.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: String(2 ** 18) },
    d: { type: 'string', default: '64' },
    j: { type: 'string', default: '16' },
    degree: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '3' },
    'cpu-rows': { type: 'string', default: '4096' },
    out: { type: 'string', default: 'bench/results/piecewise-latest.json' },
  },
});
const N = Number(values.n), d = Number(values.d), J = Number(values.j), repeats = Number(values.repeats);
const degree = Number(values.degree) as 1 | 2;
const p = featureCount(d, degree);
const accumulationsPerPoint = p * p + p * d;
const options: MomentOptions = { t: 0.5, degree, seed: 3, draws: 1, firstStep: 0 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (m: string) => console.error(m);

log(`Generating N = ${N}, d = ${d}, J = ${J} (degree ${degree}, p = ${p}) ...`);
const data = noiseMatrix(21, 0, N, d, 1);
const cells = matrix(J, d, noiseMatrix(22, 0, J, d, 1).data.map((v) => 0.6 * v));

const gpu = await createGpuBackend({ log });
log(`Adapter: ${gpu.adapter}`);
log('Measuring the adapter FMA ceiling ...');
const fmaCeilingGflops = await measureFmaCeiling(gpu);
log(`  ${fmaCeilingGflops.toFixed(2)} GFLOP/s`);

const run = (timings?: MomentTimings) =>
  gpu.withInternals(({ device, pipelines, read }) => {
    const ctx = { device, pipelines, maxChunkRows: gpu.maxChunkRows, unrolled: (k: number, dd: number) => gpu.kernelFor(k, dd) === 'lanes', software: gpu.isSoftware, read };
    return cellMomentsOnGpu(ctx, data, cells, options, timings);
  });

log('Warm-up (compiles the two pipelines) ...');
await run();
const calls: { total: number; timings: MomentTimings }[] = [];
for (let i = 0; i < repeats; i++) {
  const timings: MomentTimings = { points: 0, sort: 0, gram: 0, add: 0 };
  const t0 = performance.now();
  await run(timings);
  calls.push({ total: (performance.now() - t0) / 1000, timings });
  log(`  call ${i + 1}: ${calls[i]!.total.toFixed(3)} s (points ${timings.points.toFixed(3)}, sort ${timings.sort.toFixed(3)}, gram ${timings.gram.toFixed(3)}, add ${timings.add.toFixed(3)})`);
}
const seconds = median(calls.map((c) => c.total));
const phase = (k: keyof MomentTimings) => median(calls.map((c) => c.timings[k]));
const accumulations = N * accumulationsPerPoint;
const gramRate = accumulations / phase('gram');
// The FMA ceiling counts 2 flops per multiply-add; an accumulation is one multiply-add.
const ceilingRate = (fmaCeilingGflops * 1e9) / 2;

const cpuRows = Math.min(N, Number(values['cpu-rows']));
const sub = matrix(cpuRows, d, data.data.slice(0, cpuRows * d));
const c0 = performance.now();
cellMoments(sub, cells, options);
const cpuSecondsPerRow = (performance.now() - c0) / 1000 / cpuRows;

const result = {
  date: new Date().toISOString(),
  adapter: gpu.adapter,
  problem: { N, d, J, degree, p, draws: options.draws, accumulationsPerPoint },
  secondsPerCall: seconds,
  phases: { points: phase('points'), sort: phase('sort'), gram: phase('gram'), add: phase('add') },
  gramAccumulationsPerSecond: gramRate,
  endToEndAccumulationsPerSecond: accumulations / seconds,
  fmaCeilingGflops,
  gramFractionOfCeiling: gramRate / ceilingRate,
  cpuReferenceSecondsPerCall: cpuSecondsPerRow * N,
  speedupOverCpu: (cpuSecondsPerRow * N) / seconds,
};
log(JSON.stringify(result, null, 2));
mkdirSync('bench/results', { recursive: true });
writeFileSync(`${values.out}.tmp`, JSON.stringify(result, null, 2) + '\n');
renameSync(`${values.out}.tmp`, values.out);
gpu.dispose();
