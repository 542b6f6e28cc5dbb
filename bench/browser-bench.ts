// The browser benchmark (docs/browser.md, 'Benchmark'): a grid of (N, d, K) run by
// the page in headless Chromium (?mode=bench) and by the Node engine in this process,
// with the same measurement code (src/page/bench-run.ts): median ms per step over
// `steps` steps after `warmup`, wall time always and GPU time from timestamp queries,
// sample-gradients/s, GFLOP/s (8Kd + 6d per sample) and the fraction of each side's
// measured FMA ceiling. The same step in TensorFlow.js (bench/tfjs/, wasm and webgpu
// backends) runs in the same browser session. Writes bench/results/browser-latest.json and .md.
//
//   npm run bench:browser [-- --grid "65536,16,4;262144,32,8;1048576,64,16" --steps 10 --warmup 2]
//   npm run bench:browser -- --from bench/results/browser-latest.json   (re-render a saved run)
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus as cpus_, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireDevice } from '../host/core/device.ts';
import { GpuBackend } from '../host/engine.ts';
import { GpuTimer } from '../host/instrument/gpu-timer.ts';
import { nodeGpuEntry } from '../host/core/node-gpu.ts';
import { WGSL_SOURCES } from '../host/shader-sources.ts';
import { benchmarkPoint, type BenchFigures, type BenchSpec } from '../src/page/bench-run.ts';
import { startHeadlessPage, type HeadlessPage } from '../scripts/headless-page.ts';
import type { TfjsFigures } from './tfjs/tfjs-page.ts';

const { values } = parseArgs({
  options: {
    grid: { type: 'string', default: '65536,16,4;262144,32,8;1048576,64,16' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/browser-latest' },
    from: { type: 'string' },
  },
});
const steps = Number(values.steps), warmup = Number(values.warmup);
const grid: BenchSpec[] = values.grid!.split(';').map((p) => {
  const [n, d, k] = p.split(',').map(Number);
  if (![n, d, k].every((v) => Number.isSafeInteger(v) && v! > 0)) throw new Error(`--grid entry '${p}' must be N,d,K (positive integers).`);
  return { n: n!, d: d!, k: k!, steps, warmup };
});
const log = (m: string) => console.error(m);
const TFJS_BACKENDS = ['wasm', 'webgpu'] as const;
type TfjsOutcome = { readonly result: TfjsFigures } | { readonly error: string };

/** One tfjs backend at one point, in its own tab; a failure (an error, or the tab crashing) is recorded, not thrown. */
async function tfjsPoint(headless: HeadlessPage, backend: string, spec: BenchSpec): Promise<TfjsOutcome> {
  const page = await headless.browser.newPage();
  try {
    const crashed = new Promise<never>((_, fail) => page.once('error', fail));
    await page.goto(`${headless.base}/bench/tfjs/index.html?backend=${backend}&n=${spec.n}&d=${spec.d}&k=${spec.k}&steps=${spec.steps}&warmup=${spec.warmup}`);
    await Promise.race([crashed, page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), { timeout: 0, polling: 1000 })]);
    const out = await page.evaluate(() => (window as unknown as { tfjsBench: { result?: TfjsFigures; error?: string } }).tfjsBench);
    return out.result ? { result: out.result } : { error: out.error ?? 'no result' };
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return { error: e instanceof Error ? `${e.message}${cause}` : String(e) };
  } finally {
    await page.close().catch(() => {});
  }
}

interface PointResult extends BenchSpec {
  readonly browser: BenchFigures;
  readonly node: BenchFigures;
  readonly browserOverNodeThroughput: number;
  readonly tfjsWasm: TfjsOutcome;
  readonly tfjsWebgpu: TfjsOutcome;
  /** The page's ms per step against tfjs: the larger of wall and GPU time (the wall median can fall below the GPU time when read-backs arrive in bursts). */
  readonly browserMsForTfjs: number;
  readonly browserOverTfjsWasm: number | null;
  readonly browserOverTfjsWebgpu: number | null;
}
interface BenchResult {
  readonly date: string;
  readonly machine: string;
  readonly browserAdapter: string;
  readonly nodeAdapter: string;
  readonly command: string;
  readonly tfjsVersion: string;
  readonly points: PointResult[];
}

/** The ratios of the page to tfjs, from the measured figures (also applied to a saved run by --from). */
function withRatios(p: Omit<PointResult, 'browserMsForTfjs' | 'browserOverTfjsWasm' | 'browserOverTfjsWebgpu'>): PointResult {
  const browserMsForTfjs = Math.max(p.browser.msPerStepWall, p.browser.msPerStepGpu ?? 0);
  const over = (o: TfjsOutcome) => ('result' in o ? o.result.msPerStepWall / browserMsForTfjs : null);
  return { ...p, browserMsForTfjs, browserOverTfjsWasm: over(p.tfjsWasm), browserOverTfjsWebgpu: over(p.tfjsWebgpu) };
}

async function measure(): Promise<BenchResult> {
  // Alternately, one point at a time (never two at once: they would share the same cores on a software
  // adapter), browser, Node, then tfjs, so that a change in the machine's load over the run hits every column alike.
  const headless = await startHeadlessPage({ pages: { tfjs: join(resolve(import.meta.dirname, 'tfjs'), 'index.html') }, crossOriginIsolated: true, minify: false });
  const acquired = await acquireDevice({ log, gpu: (await nodeGpuEntry(log)) ?? undefined });
  const { acquired: timed, timer } = GpuTimer.wrap(acquired);
  const backend = new GpuBackend({ acquired: timed, sources: WGSL_SOURCES });
  const points: PointResult[] = [];
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
      log('Node (webgpu package, Dawn):');
      const figures = await benchmarkPoint(backend, timer, spec, log);
      log(`  ${figures.msPerStepWall.toFixed(2)} ms/step wall`);
      const outcomes: Record<string, TfjsOutcome> = {};
      for (const b of TFJS_BACKENDS) {
        log(`TensorFlow.js ${b} (headless Chromium):`);
        const o = (outcomes[b] = await tfjsPoint(headless, b, spec));
        log('result' in o ? `  ${o.result.variant}: ${o.result.msPerStepWall.toFixed(2)} ms/step wall` : `  failed: ${o.error}`);
      }
      points.push(withRatios({
        ...spec, browser: out.result, node: figures, browserOverNodeThroughput: out.result.sampleGradsPerSec / figures.sampleGradsPerSec,
        tfjsWasm: outcomes.wasm!, tfjsWebgpu: outcomes.webgpu!,
      }));
    }
  } finally {
    await headless.close();
    backend.dispose();
  }
  const tfjsVersion = points.flatMap((p) => [p.tfjsWasm, p.tfjsWebgpu]).map((o) => ('result' in o ? o.result.tfjsVersion : '')).find(Boolean) ?? '';
  return {
    date: new Date().toISOString(),
    machine: `${cpus_().length} x ${cpus_()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]!.toFixed(1)} at the end`,
    browserAdapter: points[0]?.browser.adapter ?? '',
    nodeAdapter: backend.adapter,
    command: `npm run bench:browser -- --grid "${values.grid}" --steps ${steps} --warmup ${warmup}`,
    tfjsVersion,
    points,
  };
}

// --from: re-render a saved run's table (and its ratios) without measuring again.
const result: BenchResult = values.from
  ? (({ points, ...rest }) => ({ ...rest, points: points.map(withRatios) }))(JSON.parse(readFileSync(values.from, 'utf8')) as BenchResult)
  : await measure();
const { steps: shownSteps, warmup: shownWarmup } = result.points[0] ?? { steps, warmup };

const f = (v: number | null, digits = 3) => (v === null ? 'n/a' : Number(v.toPrecision(digits)).toString());
const e = (v: number) => v.toExponential(2);
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
const table = [
  `Browser: ${result.browserAdapter} (headless Chromium). Node: ${result.nodeAdapter} (Dawn). Machine: ${result.machine}. ${result.date.slice(0, 10)}.`,
  `Median of ${shownSteps} steps after ${shownWarmup} warm-up; "wall" is between read-backs, "GPU" from timestamp queries; GFLOP/s counts 8Kd + 6d flops per sample.`,
  '',
  '| N | d | K | ms/step wall (browser / Node) | ms/step GPU (browser / Node) | sample-grads/s (browser / Node) | browser / Node | GFLOP/s (browser / Node) | FMA ceiling GFLOP/s (browser / Node) | of ceiling (browser / Node) |',
  '| ---: | ---: | ---: | --- | --- | --- | ---: | --- | --- | --- |',
  ...result.points.map((p) => `| ${p.n} | ${p.d} | ${p.k} | ${f(p.browser.msPerStepWall)} / ${f(p.node.msPerStepWall)} | ${f(p.browser.msPerStepGpu)} / ${f(p.node.msPerStepGpu)} | ` +
    `${e(p.browser.sampleGradsPerSec)} / ${e(p.node.sampleGradsPerSec)} | ${p.browserOverNodeThroughput.toFixed(2)} | ${f(p.browser.gflops)} / ${f(p.node.gflops)} | ` +
    `${f(p.browser.fmaCeilingGflops)} / ${f(p.node.fmaCeilingGflops)} | ${pct(p.browser.fractionOfCeiling)} / ${pct(p.node.fractionOfCeiling)} |`),
  '',
  `TensorFlow.js ${result.tfjsVersion} in the same Chromium session, the same step (bench/tfjs/tfjs-page.ts: tf.randomNormal noise, tf.valueAndGrad, float32), ` +
    `the same median of ${shownSteps} steps after ${shownWarmup}, each step timed to the read-back of the new centres; the ratios are tfjs's ms/step over the page's ` +
    '(the larger of its wall and GPU medians). Target: the page at least 5x tfjs-wasm.',
  '',
  '| N | d | K | sample-grads/s (page / tfjs-wasm / tfjs-webgpu) | page / tfjs-wasm | page / tfjs-webgpu | 5x tfjs-wasm |',
  '| ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ...result.points.map((p) => {
    const tput = (o: TfjsOutcome) => ('result' in o ? e(o.result.sampleGradsPerSec) : 'failed');
    const ratio = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
    return `| ${p.n} | ${p.d} | ${p.k} | ${e(p.n / (p.browserMsForTfjs / 1000))} / ${tput(p.tfjsWasm)} / ${tput(p.tfjsWebgpu)} | ${ratio(p.browserOverTfjsWasm)} | ` +
      `${ratio(p.browserOverTfjsWebgpu)} | ${p.browserOverTfjsWasm === null ? 'n/a' : p.browserOverTfjsWasm >= 5 ? 'met' : 'not met'} |`;
  }),
  '',
  ...result.points.flatMap((p) => [p.tfjsWasm, p.tfjsWebgpu].map((o, j) => `- ${p.n}, ${p.d}, ${p.k}, tfjs-${TFJS_BACKENDS[j]}: ${'result' in o ? o.result.variant : `failed: ${o.error}`}`)),
  '',
].join('\n');

mkdirSync('bench/results', { recursive: true });
for (const [ext, text] of [['json', JSON.stringify(result, null, 2) + '\n'], ['md', table]] as const) {
  writeFileSync(`${values.out}.${ext}.tmp`, text);
  renameSync(`${values.out}.${ext}.tmp`, `${values.out}.${ext}`);
}
console.log(table);
process.exit(0);
