// One benchmark point, the same code in the browser page (?mode=bench) and in Node
// (bench/browser-bench.ts), so the two columns of the table are measured alike:
// the problem of bench/node-bench.ts, median per-step time over `steps` steps after
// `warmup`, wall time always and GPU time from timestamp queries when the device has them.
import type { GpuTimer } from '../../host/instrument/gpu-timer.ts';
import type { GpuBackend } from '../../host/engine.ts';
import { measureFmaCeiling } from '../../bench/fma-peak.ts';
import { noiseMatrix } from '../math/philox.ts';
import { matrix } from '../types.ts';

export interface BenchSpec {
  readonly n: number;
  readonly d: number;
  readonly k: number;
  readonly steps: number;
  readonly warmup: number;
}

export interface BenchFigures extends BenchSpec {
  readonly adapter: string;
  readonly kernel: 'tiled' | 'lanes';
  /** Median wall milliseconds per step (one step per submission, timed between read-backs; a read-back of several steps shares its interval among them). */
  readonly msPerStepWall: number;
  /** Median GPU milliseconds per step from timestamp queries; null without them. */
  readonly msPerStepGpu: number | null;
  /** N / wall seconds per step (docs/math.md section 12). */
  readonly sampleGradsPerSec: number;
  /** 8Kd + 6d, noise not counted (docs/math.md section 12). */
  readonly flopsPerSample: number;
  readonly gflops: number;
  readonly fmaCeilingGflops: number;
  readonly fractionOfCeiling: number;
}

const noiseScale = 0.5;
const lr = 0.05;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Below this gap, progress reports came from one read-back (the engine batches the log points of small steps). */
const SAME_READBACK_MS = 0.5;

/**
 * Wall milliseconds per step from the arrival times of the per-step progress reports. Reports that arrive together
 * came from one read-back of several steps: that read-back's interval is shared equally among its steps, so a
 * burst does not give one long step and several of zero.
 */
export function perStepWall(start: number, arrivals: readonly number[]): number[] {
  const perStep: number[] = [];
  let burstStart = start;
  let i = 0;
  while (i < arrivals.length) {
    let j = i + 1;
    while (j < arrivals.length && arrivals[j]! - arrivals[j - 1]! < SAME_READBACK_MS) j++;
    const share = (arrivals[i]! - burstStart) / (j - i);
    for (let s = i; s < j; s++) perStep.push(share);
    burstStart = arrivals[j - 1]!;
    i = j;
  }
  return perStep;
}

export async function benchmarkPoint(backend: GpuBackend, timer: GpuTimer | undefined, spec: BenchSpec, log: (m: string) => void = () => {}): Promise<BenchFigures> {
  const { n, d, k, steps, warmup } = spec;
  // The data and centres of bench/node-bench.ts: Philox normals (seed 11) and 2 x normals (seed 12).
  const data = noiseMatrix(11, 0, n, d, 1);
  const centres = matrix(k, d, noiseMatrix(12, 0, k, d, 1).data.map((v) => 2 * v));
  log(`N = ${n}, d = ${d}, K = ${k}: measuring the FMA ceiling ...`);
  const fmaCeilingGflops = await measureFmaCeiling(backend);
  await timer?.reset();
  log(`  timing ${warmup} warm-up + ${steps} steps ...`);
  const arrivals: number[] = [];
  const start = performance.now();
  await backend.gdSteps(data, centres, {
    noiseScale, tied: false, lr, steps: warmup + steps, logEvery: 1,
    noise: { kind: 'seed', seed: 1, mode: 'fresh' },
    onProgress: () => void arrivals.push(performance.now()),
  });
  const wall = perStepWall(start, arrivals);
  // logEvery = 1: one compute pass per step, so pass i is step i.
  const gpu = timer ? (await timer.read()).passSeconds.slice(warmup).map((s) => 1000 * s) : [];
  const msPerStepWall = median(wall.slice(warmup));
  const flopsPerSample = 8 * k * d + 6 * d;
  const sampleGradsPerSec = n / (msPerStepWall / 1000);
  const gflops = (sampleGradsPerSec * flopsPerSample) / 1e9;
  return {
    ...spec,
    adapter: backend.adapter,
    kernel: backend.kernelFor(k, d),
    msPerStepWall,
    msPerStepGpu: gpu.length === steps && gpu.every((s) => s > 0) ? median(gpu) : null,
    sampleGradsPerSec,
    flopsPerSample,
    gflops,
    fmaCeilingGflops,
    fractionOfCeiling: gflops / fmaCeilingGflops,
  };
}

/** The page's mode=bench: the point named by the URL (n, d, k, steps, warmup), its progress and figures in `status`. */
export async function benchFromParams(params: URLSearchParams, backend: GpuBackend, timer: GpuTimer | undefined, status: HTMLElement): Promise<BenchFigures> {
  const num = (name: string, fallback: number) => Number(params.get(name) ?? fallback);
  const spec = { n: num('n', 2 ** 20), d: num('d', 64), k: num('k', 16), steps: num('steps', 10), warmup: num('warmup', 2) };
  status.textContent = `Benchmark: N = ${spec.n}, d = ${spec.d}, K = ${spec.k} ...`;
  const figures = await benchmarkPoint(backend, timer, spec, (m) => (status.textContent += `\n${m}`));
  status.textContent += `\n${JSON.stringify(figures, null, 2)}`;
  return figures;
}
