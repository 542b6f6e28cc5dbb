// The browser benchmark (docs/browser.md, 'Benchmark'): a grid of (N, d, K) run by
// the page in headless Chromium (?mode=bench) and by the Node engine in this process,
// with the same measurement code (src/page/bench-run.ts): median ms per step over
// `steps` steps after `warmup`, wall time always and GPU time from timestamp queries,
// sample-gradients/s, GFLOP/s (8Kd + 6d per sample) and the fraction of each side's
// measured FMA ceiling. Writes bench/results/browser-latest.json and .md.
//
//   npm run bench:browser [-- --grid "65536,16,4;262144,32,8;1048576,64,16" --steps 10 --warmup 2]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus as cpus_, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { acquireDevice } from '../host/device.ts';
import { GpuBackend } from '../host/engine.ts';
import { GpuTimer } from '../host/gpu-timer.ts';
import { nodeGpuEntry } from '../host/node-gpu.ts';
import { WGSL_SOURCES } from '../host/shader-sources.ts';
import { benchmarkPoint, type BenchFigures, type BenchSpec } from '../src/page/bench-run.ts';
import { startHeadlessPage } from './headless-page.ts';

const { values } = parseArgs({
  options: {
    grid: { type: 'string', default: '65536,16,4;262144,32,8;1048576,64,16' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/browser-latest' },
  },
});
const steps = Number(values.steps), warmup = Number(values.warmup);
const grid: BenchSpec[] = values.grid!.split(';').map((p) => {
  const [n, d, k] = p.split(',').map(Number);
  if (![n, d, k].every((v) => Number.isSafeInteger(v) && v! > 0)) throw new Error(`--grid entry '${p}' must be N,d,K (positive integers).`);
  return { n: n!, d: d!, k: k!, steps, warmup };
});
const log = (m: string) => console.error(m);

// Alternately, one point at a time (never both at once: they would share the same cores on a software
// adapter), browser then Node, so that a change in the machine's load over the run hits both columns alike.
const headless = await startHeadlessPage();
const acquired = await acquireDevice({ log, gpu: (await nodeGpuEntry(log)) ?? undefined });
const { acquired: timed, timer } = GpuTimer.wrap(acquired);
const backend = new GpuBackend({ acquired: timed, sources: WGSL_SOURCES });
const browser: BenchFigures[] = [];
const node: BenchFigures[] = [];
try {
  for (const spec of grid) {
    log(`Browser (headless Chromium, WebGPU): N = ${spec.n}, d = ${spec.d}, K = ${spec.k} ...`);
    const page = await headless.browser.newPage();
    await page.goto(`${headless.base}/?mode=bench&n=${spec.n}&d=${spec.d}&k=${spec.k}&steps=${spec.steps}&warmup=${spec.warmup}`);
    // No time limit: on a software adapter the largest point takes seconds per step (docs/browser.md, 'Benchmark').
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), { timeout: 0, polling: 1000 });
    const out = await page.evaluate(() => (window as unknown as { ddpmGmm: { result?: BenchFigures; error?: string } }).ddpmGmm);
    await page.close();
    if (!out.result) throw new Error(`The page's benchmark failed: ${out.error ?? 'no result'}`);
    log(`  ${out.result.msPerStepWall.toFixed(2)} ms/step wall`);
    browser.push(out.result);
    log('Node (webgpu package, Dawn):');
    const figures = await benchmarkPoint(backend, timer, spec, log);
    log(`  ${figures.msPerStepWall.toFixed(2)} ms/step wall`);
    node.push(figures);
  }
} finally {
  await headless.close();
  backend.dispose();
}

const cpus = `${cpus_().length} x ${cpus_()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]!.toFixed(1)} at the end`;
const result = {
  date: new Date().toISOString(),
  machine: cpus,
  browserAdapter: browser[0]?.adapter ?? '',
  nodeAdapter: backend.adapter,
  command: `npm run bench:browser -- --grid "${values.grid}" --steps ${steps} --warmup ${warmup}`,
  points: grid.map((spec, i) => ({ ...spec, browser: browser[i]!, node: node[i]!, browserOverNodeThroughput: browser[i]!.sampleGradsPerSec / node[i]!.sampleGradsPerSec })),
};

const f = (v: number | null, digits = 3) => (v === null ? 'n/a' : Number(v.toPrecision(digits)).toString());
const e = (v: number) => v.toExponential(2);
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
const table = [
  `Browser: ${result.browserAdapter} (headless Chromium). Node: ${result.nodeAdapter} (Dawn). Machine: ${result.machine}. ${result.date.slice(0, 10)}.`,
  `Median of ${steps} steps after ${warmup} warm-up; "wall" is between read-backs, "GPU" from timestamp queries; GFLOP/s counts 8Kd + 6d flops per sample.`,
  '',
  '| N | d | K | ms/step wall (browser / Node) | ms/step GPU (browser / Node) | sample-grads/s (browser / Node) | browser / Node | GFLOP/s (browser / Node) | FMA ceiling GFLOP/s (browser / Node) | of ceiling (browser / Node) |',
  '| ---: | ---: | ---: | --- | --- | --- | ---: | --- | --- | --- |',
  ...result.points.map((p) => `| ${p.n} | ${p.d} | ${p.k} | ${f(p.browser.msPerStepWall)} / ${f(p.node.msPerStepWall)} | ${f(p.browser.msPerStepGpu)} / ${f(p.node.msPerStepGpu)} | ` +
    `${e(p.browser.sampleGradsPerSec)} / ${e(p.node.sampleGradsPerSec)} | ${p.browserOverNodeThroughput.toFixed(2)} | ${f(p.browser.gflops)} / ${f(p.node.gflops)} | ` +
    `${f(p.browser.fmaCeilingGflops)} / ${f(p.node.fmaCeilingGflops)} | ${pct(p.browser.fractionOfCeiling)} / ${pct(p.node.fractionOfCeiling)} |`),
  '',
].join('\n');

mkdirSync('bench/results', { recursive: true });
for (const [ext, text] of [['json', JSON.stringify(result, null, 2) + '\n'], ['md', table]] as const) {
  writeFileSync(`${values.out}.${ext}.tmp`, text);
  renameSync(`${values.out}.${ext}.tmp`, `${values.out}.${ext}`);
}
console.log(table);
process.exit(0);
