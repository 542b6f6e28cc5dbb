// The GPU backend: the Backend interface over the WGSL kernels. Centres stay
// on the GPU during training; several steps go into one command buffer; the
// loss and centres are read back only every logEvery steps and at the end.
import { checkGdOptions, checkProblem, checkStepSize } from '../src/backend-checks.ts';
import { DeviceError, DivergenceError, InputError } from '../src/errors.ts';
import { forwardCoefficients } from '../src/math/forward.ts';
import { seedKey } from '../src/math/philox.ts';
import type {
  Backend, DdpmOptions, GdOptions, GdResult, HistoryEntry, LossGradient, Matrix, NoiseSpec,
} from '../src/types.ts';
import { matrix } from '../src/types.ts';
import type { AcquiredDevice } from './device.ts';
import { foldWorkgroups } from './dispatch.ts';
import { requireTile, type Shape, shapeConsts, shapeFor } from './layout.ts';
import { buildModuleCode, type Specialisation, specialisationKey } from './specialise.ts';
import { passParams, peakParams, reduceParams, updateParams } from './struct-layout.ts';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE as STORAGE_BIT, UNIFORM } from './usage.ts';

const STORAGE = STORAGE_BIT | COPY_DST | COPY_SRC;

/** Workgroups per DDPM/EM pass over all chunks: enough to fill a GPU, few enough that the reduction is cheap. */
const TARGET_WORKGROUPS = 1024;
/** Invocations of the lane-per-sample kernel over all chunks (each writes one partial). */
const TARGET_LANES = 256;
/** Workgroup size of the lane-per-sample kernel. */
const LANES_WG = 16;
/**
 * Most unrolled (centre, coordinate block) pairs K d/4 of the lane kernel. SwiftShader's compiler crashed the
 * process (SIGSEGV, no error) at 768 (K = 48, d = 64) and 1024 (K = 64, d = 64), and took 48-57 s at 512
 * (K = 64, d = 32 and K = 32, d = 64; 2 cores). Above it the tiled kernel runs, about 8x slower per step
 * there (K = 64, d = 64: 1.42 s per step per 4096 rows against the lane kernel's 0.086 s at K = 32).
 */
export const MAX_UNROLLED_PAIRS = 512;
/** From this many coordinate blocks (d = 256), or unrolled pairs, the lane kernel's first compilation takes tens of seconds or more. */
const SLOW_COMPILE_D4 = 64;
const SLOW_COMPILE_PAIRS = 384;
const LANES_FILES = ['philox.wgsl', 'pass_io.wgsl', 'ddpm_lanes.wgsl'];
/** Most GD steps recorded into one command buffer between log points. */
const MAX_STEPS_PER_SUBMIT = 64;

interface UploadedData {
  readonly source: Matrix;
  /** Content hash at upload: a caller may have edited the matrix in place since. */
  readonly hash: number;
  readonly d4: number;
  readonly chunks: { buffer: GPUBuffer; rows: number; base: number }[];
}

interface ShapeResources {
  readonly shape: Shape;
  readonly kernel: 'tiled' | 'lanes';
  readonly centres: GPUBuffer;
  readonly partials: GPUBuffer;
  readonly totals: GPUBuffer;
  readonly gradient: GPUBuffer;
  readonly stepState: GPUBuffer;
  readonly reduceUniform: GPUBuffer;
  readonly updateUniform: GPUBuffer;
  /** Per chunk: the chunk's pass uniforms, its DDPM workgroup count and its first partial. */
  readonly chunkUniforms: GPUBuffer[];
  readonly chunkGroups: number[];
  /** Per chunk, for the EM pass (always tiled). */
  readonly chunkEmGroups: number[];
  readonly emUniforms: GPUBuffer[];
  readonly emReduceUniform: GPUBuffer;
  readonly emPartialCount: number;
  readonly partialCount: number;
  history: GPUBuffer;
  historyCapacity: number;
}

export interface GpuBackendInit {
  readonly acquired: AcquiredDevice;
  /** WGSL sources by file name (shaders/*.wgsl). */
  readonly sources: Readonly<Record<string, string>>;
  /** At most this many rows per storage binding (tests use it to exercise chunking on small data). */
  readonly maxChunkRows?: number;
  /**
   * Which DDPM kernel: 'tiled' (workgroup tiles, for GPUs), 'lanes' (one sample per
   * invocation with unrolled loops, for software adapters), or 'auto' (default).
   */
  readonly kernel?: DdpmKernel;
  /** Use subgroup operations where the adapter has them (default true); false forces the fallback. */
  readonly subgroups?: boolean;
  /** Notes for the user, such as a long first compilation. */
  readonly log?: (message: string) => void;
}

export type DdpmKernel = 'auto' | 'tiled' | 'lanes';

/** See GpuBackend.summationPlan. */
export interface SummationPlan {
  readonly kernel: 'tiled' | 'lanes';
  /** Samples per tile of the tiled kernel and of the probes. */
  readonly tile: number;
  /** The most samples whose terms one accumulator adds up in one chain. */
  readonly samplesPerAccumulator: number;
  /** The most squared residual coordinates one thread adds up for the loss. */
  readonly lossTermsPerThread: number;
  /** Values added by the workgroup sum of the loss (0 when each invocation writes its own partial). */
  readonly workgroupSumTerms: number;
  /** Partials that the reduction pass adds up. */
  readonly partials: number;
}

export class GpuBackend implements Backend {
  readonly name = 'gpu' as const;
  readonly adapter: string;
  readonly device: GPUDevice;
  private readonly acquired: AcquiredDevice;
  private readonly sources: Readonly<Record<string, string>>;
  private readonly maxChunkRows: number;
  private readonly kernelChoice: DdpmKernel;
  private readonly subgroups: boolean;
  private readonly log: (message: string) => void;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Compiler errors of the modules built so far (filled asynchronously), to explain a rejected submission. */
  private readonly compileErrors: string[] = [];
  private readonly compilations: Promise<void>[] = [];
  private data: UploadedData | undefined;
  private resources: ShapeResources | undefined;
  private disposed = false;
  /** The public methods share buffers (centres, partials, step counter): they run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(init: GpuBackendInit) {
    this.acquired = init.acquired;
    this.device = init.acquired.device;
    this.adapter = init.acquired.adapterName;
    this.sources = init.sources;
    this.maxChunkRows = init.maxChunkRows ?? Infinity;
    this.kernelChoice = init.kernel ?? 'auto';
    this.subgroups = (init.subgroups ?? true) && init.acquired.hasSubgroups;
    this.log = init.log ?? (() => undefined);
  }

  get isSoftware(): boolean {
    return this.acquired.isSoftware;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.data?.chunks.forEach((c) => c.buffer.destroy());
    this.device.destroy();
  }

  /** Runs `work` after every earlier call has settled, so that overlapping calls cannot share buffers. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  // ---- the Backend interface ----

  lossAndGradient(data: Matrix, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    return this.exclusive(() => this.lossAndGradientNow(data, centres, options));
  }

  private async lossAndGradientNow(data: Matrix, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = this.checkCentres(data, centres, options.tied);
    const res = this.prepare(data, k, a, sigma, options.noise, 0);
    this.writeScaledCentres(res, centres, a, options.tied);
    this.writeUpdate(res, data.rows, 0, false, 0);
    const noiseBuffers = this.uploadNoise(options.noise, data);
    let grad: ArrayBuffer, hist: ArrayBuffer;
    try {
      const encoder = this.device.createCommandEncoder();
      this.resetStepState(encoder, res, options.noise.kind === 'seed' ? (options.noise.step ?? 0) : 0);
      const pass = encoder.beginComputePass();
      this.encodeStep(pass, res, options.tied, false, noiseBuffers);
      pass.end();
      [grad, hist] = await this.readBack(encoder, [
        [res.gradient, 16 * res.shape.k4 * 4 * res.shape.d4],
        [res.history, 8],
      ]);
    } finally {
      noiseBuffers?.forEach((b) => b.destroy());
    }
    const rows = options.tied ? 1 : k;
    const gradScaled = unpad(new Float32Array(grad), rows, data.cols, res.shape.d4);
    const gradCentres = matrix(rows, data.cols, gradScaled.data.map((g) => a * g));
    const loss = new Float32Array(hist)[0];
    if (!Number.isFinite(loss)) throw new InputError('The loss is not finite: check the data, centres and noise for huge values.');
    return { loss, gradScaled, gradCentres };
  }

  gdSteps(data: Matrix, centres: Matrix, options: GdOptions): Promise<GdResult> {
    return this.exclusive(() => this.gdStepsNow(data, centres, options));
  }

  private async gdStepsNow(data: Matrix, centres: Matrix, options: GdOptions): Promise<GdResult> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = this.checkCentres(data, centres, options.tied);
    const steps = options.steps;
    const logEvery = checkGdOptions(options);
    const startStep = options.startStep ?? 0;
    const res = this.prepare(data, k, a, sigma, options.noise, steps, startStep);
    this.writeScaledCentres(res, centres, a, options.tied);
    const project = options.projectRadius !== undefined;
    this.writeUpdate(res, data.rows, options.lr, true, project ? a * options.projectRadius! : 0);
    const noiseBuffers = this.uploadNoise(options.noise, data);
    const rows = options.tied ? 1 : k;
    const history: HistoryEntry[] = [];
    let current = centres;
    let done = 0;
    let lastLogged = 0;
    let first = true;
    try {
      while (done < steps) {
        const nextLog = Math.min(steps, (Math.floor(done / logEvery) + 1) * logEvery);
        const batch = Math.min(nextLog - done, MAX_STEPS_PER_SUBMIT);
        const encoder = this.device.createCommandEncoder();
        if (first) {
          const fixedStep = options.noise.kind === 'seed' && options.noise.mode === 'fixed' ? (options.noise.step ?? 0) : startStep;
          this.resetStepState(encoder, res, options.noise.kind === 'seed' && options.noise.mode === 'fresh' ? startStep : fixedStep);
          first = false;
        }
        const pass = encoder.beginComputePass();
        for (let s = 0; s < batch; s++) this.encodeStep(pass, res, options.tied, project, noiseBuffers);
        pass.end();
        done += batch;
        if (done === nextLog) {
          // The history slots of the steps since the last log point: [loss, gradNorm] each.
          const [m, hist] = await this.readBack(encoder, [
            [res.centres, 16 * res.shape.k4 * 4 * res.shape.d4],
            [res.history, 8 * (done - lastLogged), 8 * lastLogged],
          ]);
          const h = new Float32Array(hist);
          const badStep = firstNonFinite(h, done - lastLogged);
          if (badStep >= 0) throw divergence(startStep + lastLogged + badStep, options.lr);
          const last = done - lastLogged - 1;
          lastLogged = done;
          const entry = { step: startStep + done - 1, loss: h[2 * last], gradNorm: h[2 * last + 1] };
          history.push(entry);
          current = unpad(new Float32Array(m), rows, data.cols, res.shape.d4, 1 / a);
          if (current.data.some((v) => !Number.isFinite(v))) throw divergence(startStep + done - 1, options.lr);
          options.onProgress?.({ done, total: steps, centres: current, last: entry });
        } else {
          this.device.queue.submit([encoder.finish()]);
        }
      }
    } finally {
      noiseBuffers?.forEach((b) => b.destroy());
    }
    return { centres: current, history, nIter: steps };
  }

  emStep(data: Matrix, centres: Matrix): Promise<Matrix> {
    return this.exclusive(() => this.emLike(data, centres, 0, 0));
  }

  async gradientEmStep(data: Matrix, centres: Matrix, lr: number): Promise<Matrix> {
    checkStepSize(lr);
    return this.exclusive(() => this.emLike(data, centres, 1, lr));
  }

  // ---- probes for tests: the same WGSL functions as the fused pass ----

  /** Raw Philox4x32-10 words for each (counter, key). */
  philoxWords(counters: Uint32Array, keys: Uint32Array): Promise<Uint32Array> {
    return this.exclusive(() => this.philoxWordsNow(counters, keys));
  }

  private async philoxWordsNow(counters: Uint32Array, keys: Uint32Array): Promise<Uint32Array> {
    const n = counters.length / 4;
    const input = new Uint32Array(8 * n);
    for (let i = 0; i < n; i++) {
      input.set(counters.subarray(4 * i, 4 * i + 4), 8 * i);
      input.set(keys.subarray(2 * i, 2 * i + 2), 8 * i + 4);
    }
    const inBuf = this.buffer(input.byteLength, STORAGE, input);
    const outBuf = this.buffer(16 * n, STORAGE);
    const pipeline = this.pipeline(['philox.wgsl', 'probe_philox.wgsl'], 'philoxProbe', { consts: {}, flags: {} }, []);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup(pipeline, [inBuf, outBuf]));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    const [out] = await this.readBack(encoder, [[outBuf, 16 * n]]);
    inBuf.destroy();
    outBuf.destroy();
    return new Uint32Array(out);
  }

  /** The noise z (N x d) that the DDPM pass draws for (seed, step). */
  noiseProbe(data: Matrix, seed: number, step: number): Promise<Matrix> {
    return this.exclusive(() => this.noiseProbeNow(data, seed, step));
  }

  private async noiseProbeNow(data: Matrix, seed: number, step: number): Promise<Matrix> {
    const res = this.prepare(data, 1, 1, 1, { kind: 'seed', seed, mode: 'fixed', step }, 0);
    const out = this.buffer(16 * data.rows * res.shape.d4, STORAGE);
    const pipeline = this.probePipeline(res.shape, 'noiseProbe', false);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    const [gx, gy] = foldWorkgroups(Math.ceil((data.rows * res.shape.d4) / 64), this.limits.maxComputeWorkgroupsPerDimension);
    this.requireSingleChunk(res);
    pass.setBindGroup(0, this.bindGroup(pipeline, { 3: res.chunkUniforms[0], 4: res.stepState, 6: out }));
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    const [z] = await this.readBack(encoder, [[out, 16 * data.rows * res.shape.d4]]);
    out.destroy();
    return unpad(new Float32Array(z), data.rows, data.cols, res.shape.d4);
  }

  /** Responsibilities w(x_t) (N x K) at the noisy points of the DDPM pass. */
  responsibilitiesProbe(data: Matrix, centres: Matrix, options: DdpmOptions, maxPerDimension?: number): Promise<Matrix> {
    return this.exclusive(() => this.responsibilitiesProbeNow(data, centres, options, maxPerDimension));
  }

  private async responsibilitiesProbeNow(data: Matrix, centres: Matrix, options: DdpmOptions, maxPerDimension?: number): Promise<Matrix> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = this.checkCentres(data, centres, options.tied);
    const res = this.prepare(data, k, a, sigma, options.noise, 0);
    this.requireSingleChunk(res);
    this.writeScaledCentres(res, centres, a, options.tied);
    const explicit = options.noise.kind === 'matrix';
    const noiseBuffers = this.uploadNoise(options.noise, data);
    const out = this.buffer(16 * data.rows * res.shape.k4, STORAGE);
    const pipeline = this.probePipeline(res.shape, 'responsibilitiesProbe', explicit);
    const encoder = this.device.createCommandEncoder();
    if (options.noise.kind === 'seed') this.resetStepState(encoder, res, options.noise.step ?? 0);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    const tiles = Math.ceil(data.rows / res.shape.tile);
    const [gx, gy] = foldWorkgroups(tiles, maxPerDimension ?? this.limits.maxComputeWorkgroupsPerDimension);
    const entries: Record<number, GPUBuffer> = { 0: this.data!.chunks[0].buffer, 1: res.centres, 3: res.chunkUniforms[0], 6: out };
    if (explicit) entries[5] = noiseBuffers![0];
    else entries[4] = res.stepState;
    pass.setBindGroup(0, this.bindGroup(pipeline, entries));
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    const [w] = await this.readBack(encoder, [[out, 16 * data.rows * res.shape.k4]]);
    out.destroy();
    noiseBuffers?.forEach((b) => b.destroy());
    const kp = 4 * res.shape.k4;
    const wf = new Float32Array(w);
    const result = matrix(data.rows, k);
    for (let n = 0; n < data.rows; n++) for (let j = 0; j < k; j++) result.data[n * k + j] = wf[n * kp + j];
    return result;
  }

  /**
   * The adapter's measured float32 multiply-add ceiling in GFLOP/s: the median
   * over `repeats` dispatches of independent FMA chains (8 vec4 chains per thread).
   */
  measureFmaCeiling(repeats = 5, threads = 64 * 256, iterations = 4096): Promise<number> {
    return this.exclusive(() => this.measureFmaCeilingNow(repeats, threads, iterations));
  }

  private async measureFmaCeilingNow(repeats: number, threads: number, iterations: number): Promise<number> {
    const sink = this.buffer(16 * threads, STORAGE);
    const uniform = this.buffer(peakParams.byteSize, UNIFORM | COPY_DST);
    this.device.queue.writeBuffer(uniform, 0, peakParams.pack({ iterations, multiplier: 0.999999, addend: 1e-7 }));
    const pipeline = this.pipeline(['fma_peak.wgsl'], 'fmaPeak', { consts: {}, flags: {} }, [peakParams.wgsl]);
    const bind = this.bindGroup(pipeline, [sink, uniform]);
    const run = async (): Promise<number> => {
      const encoder = this.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(threads / 64);
      pass.end();
      const t0 = performance.now();
      await this.readBack(encoder, [[sink, 16]]);
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
  }

  /**
   * How deep the float32 sums of a pass are for N rows at (K, d): what the tests' derived
   * tolerances need (summation error grows with the number of terms added in one chain).
   */
  summationPlan(rows: number, k: number, d: number, pass: 'ddpm' | 'em' = 'ddpm'): SummationPlan {
    const shape = shapeFor(k, d, this.limits, this.maxChunkRows);
    const chunks: { rows: number }[] = [];
    for (let base = 0; base < rows; base += shape.rowsPerChunk) chunks.push({ rows: Math.min(shape.rowsPerChunk, rows - base) });
    const kernel = pass === 'em' ? 'tiled' : this.kernelFor(shape);
    const plan = partialPlan(chunks, shape, kernel);
    const groups = pass === 'em' ? plan.chunkEmGroups : plan.chunkGroups;
    let samplesPerAccumulator = 0;
    let lossTermsPerThread = 0;
    chunks.forEach((c, i) => {
      if (kernel === 'lanes') {
        const perLane = Math.ceil(c.rows / (groups[i] * LANES_WG));
        samplesPerAccumulator = Math.max(samplesPerAccumulator, perLane);
        lossTermsPerThread = Math.max(lossTermsPerThread, perLane * d);
      } else {
        const walked = Math.ceil(Math.ceil(c.rows / shape.tile) / groups[i]);
        samplesPerAccumulator = Math.max(samplesPerAccumulator, Math.min(c.rows, walked * shape.tile));
        lossTermsPerThread = Math.max(lossTermsPerThread, Math.ceil(shape.tile / shape.wg) * walked * d);
      }
    });
    return {
      kernel,
      tile: shape.tile,
      samplesPerAccumulator,
      lossTermsPerThread,
      workgroupSumTerms: kernel === 'lanes' ? 0 : shape.wg,
      partials: pass === 'em' ? plan.emPartialCount : plan.partialCount,
    };
  }

  // ---- internals ----

  private checkCentres(data: Matrix, centres: Matrix, tied: boolean): number {
    if (this.disposed) throw new DeviceError('This GPU backend has been disposed; create a new one.');
    return checkProblem(data, centres, tied);
  }

  /** Data on the GPU (padded to D4 vec4 per row, split into chunks that fit one binding) and per-shape buffers. */
  private prepare(data: Matrix, k: number, a: number, sigma: number, noise: NoiseSpec, steps: number, startStep = 0): ShapeResources {
    const shape = shapeFor(k, data.cols, this.limits, this.maxChunkRows);
    this.uploadData(data, shape);
    let res = this.resources;
    const chunks = this.data!.chunks;
    const kernel = this.kernelFor(shape);
    const plan = partialPlan(chunks, shape, kernel);
    if (!res || res.shape.k !== shape.k || res.shape.d !== shape.d || res.kernel !== kernel || res.chunkUniforms.length !== chunks.length || res.partialCount !== plan.partialCount) {
      this.destroyResources();
      res = this.createResources(shape, chunks, kernel, plan);
      this.resources = res;
    }
    if (steps > res.historyCapacity) {
      res.history.destroy();
      res.history = this.buffer(8 * steps, STORAGE);
      res.historyCapacity = steps;
    }
    const { lo, hi } = noise.kind === 'seed' ? splitSeed(noise.seed) : { lo: 0, hi: 0 };
    const fresh = noise.kind === 'seed' && noise.mode === 'fresh';
    const fixedStep = noise.kind === 'seed' ? (noise.step ?? (fresh ? startStep : 0)) : 0;
    chunks.forEach((c, i) => {
      const common = { rows: c.rows, chunkBase: c.base, seedLo: lo, seedHi: hi, fixedStep: fixedStep >>> 0, freshNoise: fresh ? 1 : 0, a, sigma, invSigma: 1 / sigma };
      this.device.queue.writeBuffer(res!.chunkUniforms[i], 0, passParams.pack({ ...common, partialBase: plan.partialBases[i] }));
      this.device.queue.writeBuffer(res!.emUniforms[i], 0, passParams.pack({ ...common, partialBase: plan.emPartialBases[i] }));
    });
    this.device.queue.writeBuffer(res.reduceUniform, 0, reduceParams.pack({ partialCount: plan.partialCount }));
    this.device.queue.writeBuffer(res.emReduceUniform, 0, reduceParams.pack({ partialCount: plan.emPartialCount }));
    return res;
  }

  private uploadData(data: Matrix, shape: Shape): void {
    const hash = contentHash(data.data);
    if (this.data && this.data.source === data && this.data.d4 === shape.d4 && this.data.hash === hash) return;
    this.data?.chunks.forEach((c) => c.buffer.destroy());
    this.data = undefined;
    const chunks: UploadedData['chunks'] = [];
    for (let base = 0; base < data.rows; base += shape.rowsPerChunk) {
      const rows = Math.min(shape.rowsPerChunk, data.rows - base);
      const buffer = this.buffer(16 * shape.d4 * rows, STORAGE, padRows(data, base, rows, shape.d4));
      chunks.push({ buffer, rows, base });
    }
    this.data = { source: data, hash, d4: shape.d4, chunks };
  }

  private uploadNoise(noise: NoiseSpec, data: Matrix): GPUBuffer[] | undefined {
    if (noise.kind !== 'matrix') return undefined;
    const z = noise.z;
    if (z.rows !== data.rows || z.cols !== data.cols) {
      throw new InputError(`The noise matrix is ${z.rows} x ${z.cols} but the data are ${data.rows} x ${data.cols}: give noise of the same shape as the data.`);
    }
    const d4 = Math.ceil(data.cols / 4);
    return this.data!.chunks.map((c) => this.buffer(16 * d4 * c.rows, STORAGE, padRows(z, c.base, c.rows, d4)));
  }

  /** The lane kernel on software adapters unless its unrolled code would be too large (see ddpm_lanes.wgsl). */
  private kernelFor(shape: Shape): 'tiled' | 'lanes' {
    if (this.kernelChoice === 'lanes' && shape.k * shape.d4 > MAX_UNROLLED_PAIRS) {
      throw new InputError(
        `the lane kernel unrolls K x d/4 = ${shape.k} x ${shape.d4} = ${shape.k * shape.d4} (centre, block) pairs, over its limit of ${MAX_UNROLLED_PAIRS} ` +
          `(SwiftShader's compiler crashes above it); use kernel 'auto' or 'tiled' for this shape`,
      );
    }
    if (this.kernelChoice !== 'auto') return this.kernelChoice;
    return this.acquired.isSoftware && shape.k * shape.d4 <= MAX_UNROLLED_PAIRS ? 'lanes' : 'tiled';
  }

  private createResources(shape: Shape, chunks: UploadedData['chunks'], kernel: 'tiled' | 'lanes', plan: PartialPlan): ShapeResources {
    const centresBytes = 16 * 4 * shape.k4 * shape.d4;
    const { chunkGroups, chunkEmGroups, partialCount, emPartialCount } = plan;
    const uniform = UNIFORM | COPY_DST;
    return {
      shape,
      kernel,
      centres: this.buffer(centresBytes, STORAGE),
      partials: this.buffer(16 * shape.partialStride4 * Math.max(partialCount, emPartialCount), STORAGE),
      totals: this.buffer(16 * shape.partialStride4, STORAGE),
      gradient: this.buffer(centresBytes, STORAGE),
      stepState: this.buffer(16, STORAGE),
      reduceUniform: this.buffer(reduceParams.byteSize, uniform),
      updateUniform: this.buffer(updateParams.byteSize, uniform),
      chunkUniforms: chunks.map(() => this.buffer(passParams.byteSize, uniform)),
      chunkGroups,
      chunkEmGroups,
      emUniforms: chunks.map(() => this.buffer(passParams.byteSize, uniform)),
      emReduceUniform: this.buffer(reduceParams.byteSize, uniform),
      emPartialCount,
      partialCount,
      history: this.buffer(8 * 16, STORAGE),
      historyCapacity: 16,
    };
  }

  private destroyResources(): void {
    const r = this.resources;
    if (!r) return;
    for (const b of [r.centres, r.partials, r.totals, r.gradient, r.stepState, r.reduceUniform, r.emReduceUniform, r.updateUniform, r.history, ...r.chunkUniforms, ...r.emUniforms]) b.destroy();
    this.resources = undefined;
  }

  private writeScaledCentres(res: ShapeResources, centres: Matrix, scale: number, tied: boolean): void {
    const { k4, d4 } = res.shape;
    const out = new Float32Array(16 * k4 * d4);
    const rows = tied ? 2 : centres.rows;
    for (let j = 0; j < rows; j++) {
      const src = tied ? 0 : j;
      const sign = tied && j === 1 ? -1 : 1;
      for (let c = 0; c < centres.cols; c++) out[j * 4 * d4 + c] = sign * scale * centres.data[src * centres.cols + c];
    }
    this.device.queue.writeBuffer(res.centres, 0, out);
  }

  private writeUpdate(res: ShapeResources, n: number, lr: number, apply: boolean, radius: number): void {
    this.device.queue.writeBuffer(res.updateUniform, 0, updateParams.pack({
      twoOverN: 2 / n, invN: 1 / n, lr, apply: apply ? 1 : 0, radius, emMode: 0,
    }));
  }

  private resetStepState(encoder: GPUCommandEncoder, res: ShapeResources, globalStep: number): void {
    const state = new Uint32Array([globalStep >>> 0, 0, 0, 0]);
    // Written through a staging copy so that it is ordered with the encoder's other commands.
    const staging = this.buffer(16, COPY_SRC, state);
    encoder.copyBufferToBuffer(staging, 0, res.stepState, 0, 16);
    this.pendingStaging.push(staging);
  }

  private pendingStaging: GPUBuffer[] = [];

  /** One GD step: the DDPM pass per chunk, the reduction, the update (MATH.md sections 4 to 6). */
  private encodeStep(pass: GPUComputePassEncoder, res: ShapeResources, tied: boolean, project: boolean, noise: GPUBuffer[] | undefined): void {
    const ddpm = this.ddpmPipeline(res.shape, res.kernel, noise !== undefined);
    pass.setPipeline(ddpm);
    this.data!.chunks.forEach((c, i) => {
      const entries: Record<number, GPUBuffer> = { 0: c.buffer, 1: res.centres, 2: res.partials, 3: res.chunkUniforms[i] };
      if (noise) entries[5] = noise[i];
      else entries[4] = res.stepState;
      pass.setBindGroup(0, this.bindGroup(ddpm, entries));
      pass.dispatchWorkgroups(res.chunkGroups[i]);
    });
    this.encodeReduce(pass, res);
    const update = this.pipeline(['update.wgsl'], 'gdUpdate', { consts: shapeConsts(res.shape), flags: { TIED: tied, PROJECT: project } }, [updateParams.wgsl]);
    pass.setPipeline(update);
    pass.setBindGroup(0, this.bindGroup(update, { 0: res.totals, 1: res.centres, 2: res.gradient, 3: res.history, 4: res.stepState, 5: res.updateUniform }));
    pass.dispatchWorkgroups(1);
  }

  private encodeReduce(pass: GPUComputePassEncoder, res: ShapeResources, counts: GPUBuffer = res.reduceUniform): void {
    const reduce = this.pipeline(['reduce.wgsl'], 'reducePartials', { consts: { PARTIAL_STRIDE4: res.shape.partialStride4 }, flags: {} }, [reduceParams.wgsl]);
    pass.setPipeline(reduce);
    pass.setBindGroup(0, this.bindGroup(reduce, { 0: res.partials, 1: res.totals, 2: counts }));
    const [gx, gy] = foldWorkgroups(Math.ceil(res.shape.partialStride4 / 64), this.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(gx, gy);
  }

  private async emLike(data: Matrix, centres: Matrix, mode: 0 | 1, lr: number): Promise<Matrix> {
    const k = this.checkCentres(data, centres, false);
    const res = this.prepare(data, k, 1, 1, { kind: 'seed', seed: 0, mode: 'fixed' }, 0);
    this.writeScaledCentres(res, centres, 1, false);
    this.device.queue.writeBuffer(res.updateUniform, 0, updateParams.pack({
      twoOverN: 2 / data.rows, invN: 1 / data.rows, lr, apply: 1, radius: 0, emMode: mode,
    }));
    requireTile(res.shape, this.limits);
    const em = this.pipeline(['philox.wgsl', 'pass_io.wgsl', 'tile.wgsl', 'em_pass.wgsl'], 'emPass',
      { consts: shapeConsts(res.shape), flags: { EXPLICIT_NOISE: false, SUBGROUPS: this.subgroups } }, [passParams.wgsl]);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(em);
    this.data!.chunks.forEach((c, i) => {
      pass.setBindGroup(0, this.bindGroup(em, { 0: c.buffer, 1: res.centres, 2: res.partials, 3: res.emUniforms[i] }));
      pass.dispatchWorkgroups(res.chunkEmGroups[i]);
    });
    this.encodeReduce(pass, res, res.emReduceUniform);
    const update = this.pipeline(['update.wgsl'], 'emUpdate', { consts: shapeConsts(res.shape), flags: { TIED: false, PROJECT: false } }, [updateParams.wgsl]);
    pass.setPipeline(update);
    pass.setBindGroup(0, this.bindGroup(update, { 0: res.totals, 1: res.centres, 5: res.updateUniform }));
    pass.dispatchWorkgroups(1);
    pass.end();
    const [m] = await this.readBack(encoder, [[res.centres, 16 * 4 * res.shape.k4 * res.shape.d4]]);
    return unpad(new Float32Array(m), k, data.cols, res.shape.d4);
  }

  private ddpmPipeline(shape: Shape, kernel: 'tiled' | 'lanes', explicitNoise: boolean): GPUComputePipeline {
    const flags = { EXPLICIT_NOISE: explicitNoise, SUBGROUPS: this.subgroups };
    if (kernel === 'lanes') {
      // The unrolled code grows with d/4 (x and r are held per lane) and with K d/4 (the sums); a CPU
      // compiler's time grows faster than the code: measured on 2 cores, 16 s at tied d = 256 and 235 s at
      // tied d = 1024 (then 7-10x faster per step than the tiled kernel). Say so before a long wait.
      const slow = shape.d4 >= SLOW_COMPILE_D4 || shape.k * shape.d4 >= SLOW_COMPILE_PAIRS;
      return this.pipeline(LANES_FILES, 'ddpmLanes', { consts: { ...shapeConsts(shape), WG: LANES_WG }, flags }, [passParams.wgsl],
        slow ? `compiling the lane kernel for d = ${4 * shape.d4}, K = ${shape.k} on a software adapter: the first compilation at this size takes tens of seconds to minutes (once per process)` : undefined);
    }
    requireTile(shape, this.limits);
    return this.pipeline(['philox.wgsl', 'pass_io.wgsl', 'tile.wgsl', 'ddpm_pass.wgsl'], 'ddpmPass',
      { consts: shapeConsts(shape), flags }, [passParams.wgsl]);
  }

  private probePipeline(shape: Shape, entry: string, explicitNoise: boolean): GPUComputePipeline {
    requireTile(shape, this.limits);
    return this.pipeline(['philox.wgsl', 'pass_io.wgsl', 'tile.wgsl', 'ddpm_pass.wgsl', 'probe_tile.wgsl'], entry,
      { consts: shapeConsts(shape), flags: { EXPLICIT_NOISE: explicitNoise, SUBGROUPS: false } }, [passParams.wgsl]);
  }

  private requireSingleChunk(res: ShapeResources): void {
    if (res.chunkUniforms.length !== 1) throw new InputError('The probe entry points take data that fit one storage binding.');
  }

  /** The pipeline cache, keyed by the specialisation (STYLE.md, TF.js anchor). */
  /** `compileNote` is logged when this call compiles the module (not when the cache has it). */
  private pipeline(files: string[], entry: string, spec: Specialisation, structs: string[], compileNote?: string): GPUComputePipeline {
    const key = specialisationKey(entry, files, spec);
    let p = this.pipelines.get(key);
    if (!p) {
      if (compileNote !== undefined) this.log(compileNote);
      const code = buildModuleCode(files, this.sources, spec, structs);
      const module = this.device.createShaderModule({ code, label: key });
      this.compilations.push(module.getCompilationInfo().then((info) => {
        for (const m of info.messages) {
          if (m.type === 'error') this.compileErrors.push(`${entry} (${files.join(' + ')}), line ${m.lineNum}: ${m.message}`);
        }
      }, () => undefined));
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: key });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private bindGroup(pipeline: GPUComputePipeline, entries: GPUBuffer[] | Record<number, GPUBuffer>): GPUBindGroup {
    const list = Array.isArray(entries) ? entries.map((b, i) => [i, b] as const) : Object.entries(entries).map(([i, b]) => [Number(i), b] as const);
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: list.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
  }

  private buffer(size: number, usage: number, contents?: ArrayBufferView): GPUBuffer {
    const bytes = Math.max(16, Math.ceil(size / 16) * 16);
    const max = this.limits.maxBufferSize;
    if (bytes > max) {
      throw new DeviceError(`A buffer of ${bytes} bytes exceeds this device's maxBufferSize of ${max} bytes: use a smaller N or K x d.`);
    }
    const b = this.device.createBuffer({ size: bytes, usage, mappedAtCreation: contents !== undefined });
    if (contents) {
      new Uint8Array(b.getMappedRange()).set(new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength));
      b.unmap();
    }
    return b;
  }

  /** Submits the encoder with copies of the given buffers, waits, returns their bytes (or a DeviceError if the device is lost). */
  private async readBack(encoder: GPUCommandEncoder, what: [GPUBuffer, number, number?][]): Promise<ArrayBuffer[]> {
    const staging = what.map(([, size]) => this.device.createBuffer({ size: Math.ceil(size / 4) * 4, usage: MAP_READ | COPY_DST }));
    what.forEach(([src, size, offset], i) => encoder.copyBufferToBuffer(src, offset ?? 0, staging[i], 0, Math.ceil(size / 4) * 4));
    this.device.pushErrorScope('validation');
    this.device.queue.submit([encoder.finish()]);
    const error = await this.device.popErrorScope();
    if (error) {
      await Promise.all(this.compilations);
      const compiler = this.compileErrors.length ? ` Shader compiler: ${this.compileErrors.join('; ')}` : '';
      throw new DeviceError(`The GPU rejected the work: ${error.message}.${compiler}`);
    }
    try {
      await Promise.race([Promise.all(staging.map((s) => s.mapAsync(MAP_MODE_READ))), this.acquired.lost]);
    } catch (e) {
      if (e instanceof DeviceError) throw e;
      throw new DeviceError(`Reading results back from the GPU failed (${(e as Error).message}).`);
    }
    const out = staging.map((s) => s.getMappedRange().slice(0));
    staging.forEach((s) => s.destroy());
    this.pendingStaging.forEach((s) => s.destroy());
    this.pendingStaging = [];
    return out;
  }
}

/** FNV-1a over the 32-bit words of the data: cheap next to an upload, and it sees any edit in place. */
function contentHash(values: Float64Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

function splitSeed(seed: number): { lo: number; hi: number } {
  const [lo, hi] = seedKey(seed);
  return { lo, hi };
}

/** Where each chunk's workgroups write their partials, for the DDPM pass (tiled or lanes) and the EM pass (tiled). */
interface PartialPlan {
  readonly chunkGroups: number[];
  readonly partialBases: number[];
  readonly partialCount: number;
  readonly chunkEmGroups: number[];
  readonly emPartialBases: number[];
  readonly emPartialCount: number;
}

function partialPlan(chunks: readonly { rows: number }[], shape: Shape, kernel: 'tiled' | 'lanes'): PartialPlan {
  const tiledGroups = chunks.map((c) => Math.max(1, Math.min(Math.ceil(c.rows / Math.max(1, shape.tile)), Math.ceil(TARGET_WORKGROUPS / chunks.length), 65535)));
  const laneGroups = chunks.map((c) => Math.max(1, Math.min(Math.ceil(c.rows / LANES_WG), Math.ceil(TARGET_LANES / LANES_WG / chunks.length))));
  const chunkGroups = kernel === 'lanes' ? laneGroups : tiledGroups;
  const partialsPerGroup = kernel === 'lanes' ? LANES_WG : 1;
  const prefix = (xs: number[]) => xs.map((_, i) => xs.slice(0, i).reduce((a, b) => a + b, 0));
  const partials = chunkGroups.map((g) => g * partialsPerGroup);
  return {
    chunkGroups,
    partialBases: prefix(partials),
    partialCount: partials.reduce((a, b) => a + b, 0),
    chunkEmGroups: tiledGroups,
    emPartialBases: prefix(tiledGroups),
    emPartialCount: tiledGroups.reduce((a, b) => a + b, 0),
  };
}

/** Rows base .. base+rows of m as float32 rows padded with zeros to 4 * d4 columns. */
function padRows(m: Matrix, base: number, rows: number, d4: number): Float32Array {
  const out = new Float32Array(rows * 4 * d4);
  const d = m.cols;
  for (let n = 0; n < rows; n++) {
    const src = (base + n) * d;
    for (let c = 0; c < d; c++) out[n * 4 * d4 + c] = m.data[src + c];
  }
  return out;
}

function unpad(f: Float32Array, rows: number, cols: number, d4: number, scale = 1): Matrix {
  const out = matrix(rows, cols);
  for (let j = 0; j < rows; j++) for (let c = 0; c < cols; c++) out.data[j * cols + c] = scale * f[j * 4 * d4 + c];
  return out;
}

function firstNonFinite(history: Float32Array, steps: number): number {
  for (let s = 0; s < steps; s++) if (!Number.isFinite(history[2 * s]) || !Number.isFinite(history[2 * s + 1])) return s;
  return -1;
}

function divergence(step: number, lr: number): DivergenceError {
  return new DivergenceError(step, `Training diverged at step ${step} (the loss became NaN or infinite): use a smaller step size, for example --lr ${lr / 10}.`);
}
