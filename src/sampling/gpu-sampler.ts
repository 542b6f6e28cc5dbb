// Sampling on the GPU (docs/math.md section 11; shaders/sample_step.wgsl). The samples live in GPU buffers,
// one per chunk of rows, for the whole run. Each submission records a batch of steps (one dispatch per
// chunk and run of steps, the samples in registers in between) and reads back only the 4-byte divergence
// flag, which also paces the progress reports; the samples are read once, at the end.
import { DivergenceError } from '../errors.ts';
import { seedKey } from '../math/philox.ts';
import { type SamplerStep, stepsToRun } from './grid.ts';
import type { SampleProgress, SamplerOptions } from './options.ts';
import { matrix, type Matrix } from '../types.ts';
import { checkSampleRequest } from './checks.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { chunkRows, requirePrivateArray, shapeFor } from '../../host/core/layout.ts';
import type { CompiledProgram, PipelineCache } from '../../host/core/pipelines.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot, SLOW_COMPILE_D4, SLOW_COMPILE_PAIRS } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';
import { STREAMS } from '../math/streams.ts';

/** Per dispatch of the sampler (shaders/sample_step.wgsl): a chunk of samples over a run of steps. */
export const sampleParams = defineStruct('SampleParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['firstStep', 'u32'],
  ['stepCount', 'u32'],
  ['tableRow', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
] as const);

/** Invocations per workgroup of the sampler. */
export const SAMPLE_WG = 64;

/** The sampler's specialisation: the shape, Heun's second score evaluation, unrolled loops or run-time ones. */
export interface SampleSpec {
  readonly k: number;
  readonly d: number;
  readonly d4: number;
  readonly heun: boolean;
  readonly unrolled: boolean;
}

/** sample_step.wgsl's bindings: the samples, the centres and their norms, the step table, the uniforms, the divergence flag. */
const SAMPLE_IO = {
  samples: slot(0, 0),
  centres: slot(0, 1),
  stepTable: slot(0, 2),
  params: slot(0, 3),
  status: slot(0, 4),
  centreNorms: slot(0, 5),
} as const;

const sampleConsts = (p: SampleSpec) => ({
  consts: { K: p.k, D: p.d, D4: p.d4, WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 },
  flags: { HEUN: p.heun },
});

export const sampleSteps: Program<keyof typeof SAMPLE_IO, SampleSpec> = {
  entry: 'sampleSteps',
  files: ['philox.wgsl', 'sample_run.wgsl', 'sample_step.wgsl', 'sample_loop.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: SAMPLE_IO,
  specialise: sampleConsts,
  compileNote: (p) =>
    p.unrolled && (p.d4 >= SLOW_COMPILE_D4 || p.k * p.d4 >= SLOW_COMPILE_PAIRS)
      ? `compiling the unrolled sampler for d = ${p.d}, K = ${p.k} on a software adapter: the first compilation at this size takes tens of seconds to minutes (once per process)`
      : undefined,
};

/** The N(0, I) start of every sampler run, the mixture's and the piecewise model's (it binds only `samples` and `params`). */
export const sampleStart: Program<'samples' | 'stepTable' | 'params' | 'status', SampleSpec> = {
  entry: 'sampleStart',
  files: ['philox.wgsl', 'sample_run.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: { samples: SAMPLE_IO.samples, stepTable: SAMPLE_IO.stepTable, params: SAMPLE_IO.params, status: SAMPLE_IO.status },
  // The start depends on d only (K and Heun are ignored): one pipeline for every method and score.
  specialise: (p) => ({ consts: { D: p.d, D4: p.d4, WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 }, flags: {} }),
};

/** About this many progress reports per run (as the CPU sampler), each one submission. */
const PROGRESS_REPORTS = 20;
/** Fewest steps per submission: a dispatch pays a fixed cost per sample before its first step (on SwiftShader about
 * as much as a step), which a run of steps amortises. */
const MIN_STEPS_PER_SUBMIT = 8;
/** Most steps per submission: the size of the step table uploaded per batch. */
export const MAX_STEPS_PER_SUBMIT = 64;
/** Flops one dispatch may do on a GPU (rows x steps x 4Kd): well under a second even on a small GPU, so that no driver's
 * watchdog fires. Software adapters have none, and take a whole batch per dispatch. */
const FLOPS_PER_DISPATCH = 2 ** 36;
/** The divergence flag's value while every sample is finite. */
const NO_STEP = 0xffffffff;
/** Workgroups per dispatch on a software adapter: each invocation there costs a fixed set-up, more than a step of one
 * sample (docs/performance.md, 'Sampling'), so a few invocations walk all the rows, as the lane kernel's do. */
const SOFTWARE_GROUPS = 8;

export interface SamplerContext {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly maxChunkRows: number;
  /** Whether the kernel's loops are unrolled for K centres in d dimensions (software adapters). */
  readonly unrolled: (k: number, d: number) => boolean;
  /** A software adapter: SOFTWARE_GROUPS workgroups per dispatch rather than one invocation per sample. */
  readonly software: boolean;
  /** Submits the encoder and returns the bytes of the targets (DeviceErrors on failure). */
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

/** n samples n x d with the mixture score of `centres` (the Backend's `sample`). */
export async function sampleOnGpu(
  ctx: SamplerContext,
  centres: Matrix,
  n: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Promise<Matrix> {
  checkSampleRequest(centres, n, options);
  const { device } = ctx;
  const { rows: k, cols: d } = centres;
  const shape = shapeFor(k, d, device.limits, ctx.maxChunkRows);
  const d4 = shape.d4;
  // sample_step.wgsl keeps K weights and d/4 vec4 per invocation.
  requirePrivateArray(Math.max(4 * k, 16 * d4), `the GPU sampler at K = ${k}, d = ${d}`, 'use --backend cpu (the float64 sampler), or fewer components K or dimensions d');
  const heun = options.method === 'ode';
  const spec = { k, d, d4, heun, unrolled: ctx.unrolled(k, d) };
  const centresBuffer = createBuffer(device, 16 * k * d4, STORAGE_RW, padRows(centres, 0, k, d4));
  // ||mu_j||^2 in float64, rounded once: cheaper and closer than each invocation's own float32 sum.
  const norms = createBuffer(device, 4 * k, STORAGE_RW, Float32Array.from({ length: k }, (_, j) => centres.data.subarray(j * d, (j + 1) * d).reduce((s, v) => s + v * v, 0)));
  try {
    const kernel: SamplerKernel = {
      start: ctx.pipelines.get(sampleStart, spec),
      steps: ctx.pipelines.get(sampleSteps, spec),
      scoreBuffers: { centres: centresBuffer, centreNorms: norms },
      stepBytes: 32,
      stepTable,
      flopsPerStep: 4 * k * 4 * d4 * (heun ? 2 : 1),
    };
    return await runSampler(ctx, kernel, n, d, shape.rowsPerChunk, options, onProgress);
  } finally {
    centresBuffer.destroy();
    norms.destroy();
  }
}

/** What a score adds to the shared run of runSampler: its two entry points, its buffers and its step table. Both entry
 * points also bind `samples`, `stepTable`, `params` (SampleParams) and `status` as sample_step.wgsl does. */
export interface SamplerKernel {
  /** The N(0, I) start (binds samples and params only). */
  readonly start: CompiledProgram<string>;
  readonly steps: CompiledProgram<string>;
  /** The score's own buffers, bound by name to every step dispatch. */
  readonly scoreBuffers: Readonly<Record<string, GPUBuffer>>;
  /** Bytes of one step's rows in the step table. */
  readonly stepBytes: number;
  /** Steps first .. first + count as the kernel reads them. */
  stepTable(steps: readonly SamplerStep[], first: number, count: number): ArrayBufferView;
  /** Flops per sample and step: it sizes the dispatches on a GPU. */
  readonly flopsPerStep: number;
}

/** The run shared by every sampler kernel: the samples in chunk buffers, batches of steps, the divergence flag, the read-back. */
export async function runSampler(
  ctx: SamplerContext,
  kernel: SamplerKernel,
  n: number,
  d: number,
  rowsPerChunk: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Promise<Matrix> {
  const steps = stepsToRun(options);
  const { device } = ctx;
  const d4 = Math.ceil(d / 4);
  const program = kernel.steps;
  const groups = (rows: number) => {
    const wanted = Math.ceil(rows / SAMPLE_WG);
    return foldWorkgroups(ctx.software ? Math.min(wanted, SOFTWARE_GROUPS) : wanted, device.limits.maxComputeWorkgroupsPerDimension);
  };
  const start = options.method === 'langevin' ? options.start : undefined;
  const chunks = chunkRows(n, rowsPerChunk).map((c) => ({
    ...c,
    buffer: createBuffer(device, 16 * d4 * c.rows, STORAGE_RW, start ? padRows(start, c.base, c.rows, d4) : undefined),
  }));
  const perSubmit = Math.min(MAX_STEPS_PER_SUBMIT, steps.length, Math.max(MIN_STEPS_PER_SUBMIT, Math.ceil(steps.length / PROGRESS_REPORTS)));
  const table = createBuffer(device, kernel.stepBytes * perSubmit, STORAGE_RW);
  const status = createBuffer(device, 16, STORAGE_RW, new Uint32Array([NO_STEP, 0, 0, 0]));
  const perDispatch = ctx.software ? perSubmit : Math.max(1, Math.floor(FLOPS_PER_DISPATCH / (Math.min(n, rowsPerChunk) * kernel.flopsPerStep)));
  const [seedLo, seedHi] = seedKey(options.seed);
  try {
    for (let done = 0; done < steps.length; ) {
      const count = Math.min(perSubmit, steps.length - done);
      device.queue.writeBuffer(table, 0, kernel.stepTable(steps, done, count));
      const uniforms: GPUBuffer[] = [];
      const uniform = (firstStep: number, stepCount: number, tableRow: number, c: { rows: number; base: number }): GPUBuffer => {
        const values = { rows: c.rows, chunkBase: c.base, firstStep, stepCount, tableRow, seedLo, seedHi };
        const buffer = createBuffer(device, sampleParams.byteSize, UNIFORM | COPY_DST, new Uint8Array(sampleParams.pack(values)));
        uniforms.push(buffer);
        return buffer;
      };
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      if (done === 0 && !start) {
        const first = kernel.start;
        pass.setPipeline(first.pipeline);
        for (const c of chunks) {
          ctx.pipelines.bind(pass, first, { samples: c.buffer, params: uniform(0, 0, 0, c) });
          pass.dispatchWorkgroups(...groups(c.rows));
        }
      }
      pass.setPipeline(program.pipeline);
      for (const c of chunks) {
        for (let s = 0; s < count; s += perDispatch) {
          const params = uniform(done + s, Math.min(perDispatch, count - s), s, c);
          ctx.pipelines.bind(pass, program, { ...kernel.scoreBuffers, samples: c.buffer, stepTable: table, params, status });
          pass.dispatchWorkgroups(...groups(c.rows));
        }
      }
      pass.end();
      let flag: ArrayBuffer;
      try {
        [flag] = await ctx.read(encoder, [{ buffer: status, bytes: 4 }]);
      } finally {
        uniforms.forEach((u) => u.destroy());
      }
      const bad = new Uint32Array(flag)[0]!;
      if (bad !== NO_STEP) throw divergence(bad, options, steps[bad]!);
      done += count;
      onProgress?.({ done, total: steps.length });
    }
    // One read per chunk, so that the staging copy never holds more than one binding's worth.
    const out = matrix(n, d);
    for (const c of chunks) {
      const [bytes] = await ctx.read(device.createCommandEncoder(), [{ buffer: c.buffer, bytes: 16 * d4 * c.rows }]);
      const f = new Float32Array(bytes);
      for (let r = 0; r < c.rows; r++) for (let j = 0; j < d; j++) out.data[(c.base + r) * d + j] = f[r * 4 * d4 + j]!;
    }
    return out;
  } finally {
    for (const b of [...chunks.map((c) => c.buffer), table, status]) b.destroy();
  }
}

/** Steps first .. first+count as the kernel reads them: (a, aNext, cy, cs), (cxi, h/2, 0, 0) each. */
function stepTable(steps: readonly SamplerStep[], first: number, count: number): Float32Array {
  const out = new Float32Array(8 * count);
  for (let i = 0; i < count; i++) {
    const s = steps[first + i]!;
    out.set([s.a, s.aNext, s.cy, s.cs, s.cxi, s.h / 2], 8 * i);
  }
  return out;
}

/** The first step the kernel found non-finite, with the CPU sampler's advice (src/sampling/cpu-sampler.ts). */
function divergence(k: number, options: SamplerOptions, step: SamplerStep): DivergenceError {
  const fix =
    options.method === 'langevin'
      ? `lower the Langevin step size, for example to ${step.h / 10}`
      : `take more steps (h = ${step.h.toPrecision(3)} at this step) or a geometric grid`;
  return new DivergenceError(k, `sampling diverged at step ${k} (a sample became NaN or infinite on the GPU): ${fix}`);
}
