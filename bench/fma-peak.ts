// The adapter's measured float32 multiply-add ceiling: the benchmark's denominator
// (docs/math.md section 12). Only the benchmarks call it (bench/, the page's bench
// mode), so it and its kernel live in bench/, outside the package.
import { createBuffer, STORAGE_RW } from '../host/core/buffers.ts';
import type { GpuBackend } from '../host/engine.ts';
import { type Program, slot } from '../host/core/program.ts';
import { defineStruct } from '../host/core/struct-layout.ts';
import { COPY_DST, UNIFORM } from '../host/core/usage.ts';
import { WGSL_SOURCES as BENCH_SOURCES } from './shaders/sources.ts';

const peakParams = defineStruct('PeakParams', [
  ['iterations', 'u32'],
  ['multiplier', 'f32'],
  ['addend', 'f32'],
] as const);

const fmaPeak: Program<'sink' | 'peak', void> = {
  entry: 'fmaPeak',
  files: ['fma_peak.wgsl'],
  sources: BENCH_SOURCES,
  structs: [peakParams.wgsl],
  bindings: { sink: slot(0, 0), peak: slot(0, 1) },
  specialise: () => ({ consts: {}, flags: {} }),
};

/** GFLOP/s: the median over `repeats` dispatches of independent FMA chains (8 vec4 chains per thread). */
export function measureFmaCeiling(backend: GpuBackend, repeats = 5, threads = 64 * 256, iterations = 4096): Promise<number> {
  return backend.withInternals(async ({ device, pipelines, read }) => {
    const sink = createBuffer(device, 16 * threads, STORAGE_RW);
    const uniform = createBuffer(device, peakParams.byteSize, UNIFORM | COPY_DST);
    device.queue.writeBuffer(uniform, 0, peakParams.pack({ iterations, multiplier: 0.999999, addend: 1e-7 }));
    const program = pipelines.get(fmaPeak, undefined);
    const run = async (): Promise<number> => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(program.pipeline);
      pipelines.bind(pass, program, { sink, peak: uniform });
      pass.dispatchWorkgroups(threads / 64);
      pass.end();
      const t0 = performance.now();
      await read(encoder, [{ buffer: sink, bytes: 16 }]);
      return (performance.now() - t0) / 1000;
    };
    await run(); // warm-up: pipeline compilation
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await run());
    sink.destroy();
    uniform.destroy();
    times.sort((x, y) => x - y);
    const flops = threads * iterations * 8 * 4 * 2;
    return flops / times[Math.floor(times.length / 2)] / 1e9;
  });
}
