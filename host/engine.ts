// The GPU backend: the Backend interface over the WGSL kernels. Centres stay
// on the GPU during training; several steps go into one command buffer; the
// loss and centres are read back only every logEvery steps and at the end.
import { checkGdOptions, checkProblem, checkStepSize } from '../src/validate.ts';
import { DeviceError, DivergenceError, InputError } from '../src/errors.ts';
import { forwardCoefficients } from '../src/math/forward.ts';
import type { SampleProgress, SamplerOptions } from '../src/sampling/types.ts';
import type { Backend, DdpmOptions, GdOptions, GdResult, HistoryEntry, LossGradient, Matrix } from '../src/types.ts';
import { matrix } from '../src/types.ts';
import { unpad } from './buffers.ts';
import type { AcquiredDevice } from './device.ts';
import { energyDistanceOnGpu } from './energy-distance.ts';
import { modeWeightsOnGpu } from './mode-weights.ts';
import { type DdpmKernel, type KernelKind, kernelFor } from './kernel-plan.ts';
import { shapeFor } from './layout.ts';
import { PipelineCache } from './pipelines.ts';
import { type ReadTarget, submitAndRead } from './readback.ts';
import { GpuResources, type ShapeResources } from './resources.ts';
import { sampleOnGpu } from './sampler.ts';
import { encodeEmStep, encodeGdStep, type StepContext } from './step-encoding.ts';

export type { DdpmKernel } from './kernel-plan.ts';

/** Most GD steps recorded into one command buffer between log points. */
const MAX_STEPS_PER_SUBMIT = 64;

export interface GpuBackendInit {
  readonly acquired: AcquiredDevice;
  /** WGSL sources by file name (shaders/*.wgsl). */
  readonly sources: Readonly<Record<string, string>>;
  /** At most this many rows per storage binding (tests use it to exercise chunking on small data). */
  readonly maxChunkRows?: number;
  /** Which DDPM kernel (host/kernel-plan.ts); 'auto' by default. */
  readonly kernel?: DdpmKernel;
  /** Use subgroup operations where the adapter has them (default true); false forces the fallback. */
  readonly subgroups?: boolean;
  /** Notes for the user, such as a long first compilation. */
  readonly log?: (message: string) => void;
}

/**
 * The engine's parts, for the test probes (test/gpu/probes.ts) and the benchmark's peak kernel
 * (host/fma-peak.ts). Internal: not part of the Backend API, and free to change with the engine.
 */
export interface EngineInternals {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly resources: GpuResources;
  /** The checks of every Backend method on data and centres; returns K (2 when tied). */
  readonly checkProblem: (data: Matrix, centres: Matrix, tied: boolean) => number;
  /** Submits the encoder and returns the bytes of the targets. */
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

export class GpuBackend implements Backend {
  readonly name = 'gpu' as const;
  readonly adapter: string;
  readonly device: GPUDevice;
  /** Rows per storage binding at most (GpuBackendInit.maxChunkRows). */
  readonly maxChunkRows: number;
  private readonly acquired: AcquiredDevice;
  private readonly kernelChoice: DdpmKernel;
  private readonly pipelines: PipelineCache;
  private readonly resources: GpuResources;
  private readonly steps: StepContext;
  private disposed = false;
  /** The public methods share buffers (centres, partials, step counter): they run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(init: GpuBackendInit) {
    this.acquired = init.acquired;
    this.device = init.acquired.device;
    this.adapter = init.acquired.adapterName;
    this.maxChunkRows = init.maxChunkRows ?? Infinity;
    this.kernelChoice = init.kernel ?? 'auto';
    this.pipelines = new PipelineCache(this.device, init.sources, init.log ?? (() => undefined));
    this.resources = new GpuResources(this.device, {
      maxChunkRows: this.maxChunkRows,
      kernelFor: (shape) => kernelFor(shape, this.kernelChoice, this.isSoftware),
    });
    const subgroups = (init.subgroups ?? true) && init.acquired.hasSubgroups;
    this.steps = { pipelines: this.pipelines, limits: this.device.limits, subgroups };
  }

  get isSoftware(): boolean {
    return this.acquired.isSoftware;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** The DDPM kernel this backend runs for K centres in d dimensions (K = 2 when tied). */
  kernelFor(k: number, d: number): KernelKind {
    return kernelFor(shapeFor(k, d, this.limits, this.maxChunkRows), this.kernelChoice, this.isSoftware);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.resources.dispose();
    this.device.destroy();
  }

  /** Runs `work` after every earlier call has settled, so that overlapping calls cannot share buffers. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** @internal Runs `work` on the engine's parts (EngineInternals), one call at a time like the Backend methods. */
  withInternals<T>(work: (engine: EngineInternals) => Promise<T>): Promise<T> {
    const engine: EngineInternals = {
      device: this.device,
      pipelines: this.pipelines,
      resources: this.resources,
      checkProblem: (data, centres, tied) => this.checkCentres(data, centres, tied),
      read: (encoder, what) => this.read(encoder, what),
    };
    return this.exclusive(() => work(engine));
  }

  lossAndGradient(data: Matrix, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    return this.exclusive(() => this.lossAndGradientNow(data, centres, options));
  }

  private async lossAndGradientNow(data: Matrix, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = this.checkCentres(data, centres, options.tied);
    const res = this.resources.prepare(data, k, { a, sigma, noise: options.noise, steps: 0 });
    this.resources.writeScaledCentres(res, centres, a, options.tied);
    this.resources.writeUpdate(res, { rows: data.rows, lr: 0, apply: false, radius: 0, emMode: 0 });
    const noise = this.resources.uploadNoise(options.noise, data);
    let grad: ArrayBuffer, hist: ArrayBuffer;
    try {
      const encoder = this.device.createCommandEncoder();
      this.resources.resetStepState(encoder, res, options.noise.kind === 'seed' ? (options.noise.step ?? 0) : 0);
      const pass = encoder.beginComputePass();
      encodeGdStep(pass, this.steps, res, this.resources.chunks, { tied: options.tied, project: false, noise });
      pass.end();
      [grad, hist] = await this.read(encoder, [
        { buffer: res.gradient, bytes: centresBytes(res) },
        { buffer: res.history, bytes: 8 },
      ]);
    } finally {
      noise?.forEach((b) => b.destroy());
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
    const { steps, noise: noiseSpec } = options;
    const logEvery = checkGdOptions(options);
    const startStep = options.startStep ?? 0;
    const res = this.resources.prepare(data, k, { a, sigma, noise: noiseSpec, steps, startStep });
    this.resources.writeScaledCentres(res, centres, a, options.tied);
    const project = options.projectRadius !== undefined;
    this.resources.writeUpdate(res, { rows: data.rows, lr: options.lr, apply: true, radius: project ? a * options.projectRadius! : 0, emMode: 0 });
    const noise = this.resources.uploadNoise(noiseSpec, data);
    const rows = options.tied ? 1 : k;
    const history: HistoryEntry[] = [];
    let current = centres;
    let done = 0;
    let lastLogged = 0;
    try {
      while (done < steps) {
        const nextLog = Math.min(steps, (Math.floor(done / logEvery) + 1) * logEvery);
        const batch = Math.min(nextLog - done, MAX_STEPS_PER_SUBMIT);
        const encoder = this.device.createCommandEncoder();
        if (done === 0) {
          // Fresh noise counts steps from startStep; fixed noise stays at its own step.
          const fresh = noiseSpec.kind === 'seed' && noiseSpec.mode === 'fresh';
          const fixedStep = noiseSpec.kind === 'seed' && noiseSpec.mode === 'fixed' ? (noiseSpec.step ?? 0) : startStep;
          this.resources.resetStepState(encoder, res, fresh ? startStep : fixedStep);
        }
        const pass = encoder.beginComputePass();
        for (let s = 0; s < batch; s++) encodeGdStep(pass, this.steps, res, this.resources.chunks, { tied: options.tied, project, noise });
        pass.end();
        done += batch;
        if (done !== nextLog) {
          this.device.queue.submit([encoder.finish()]);
          continue;
        }
        // The history slots of the steps since the last log point: [loss, gradNorm] each.
        const [m, hist] = await this.read(encoder, [
          { buffer: res.centres, bytes: centresBytes(res) },
          { buffer: res.history, bytes: 8 * (done - lastLogged), offset: 8 * lastLogged },
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
      }
    } finally {
      noise?.forEach((b) => b.destroy());
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

  private async emLike(data: Matrix, centres: Matrix, mode: 0 | 1, lr: number): Promise<Matrix> {
    const k = this.checkCentres(data, centres, false);
    const res = this.resources.prepare(data, k, { a: 1, sigma: 1, noise: { kind: 'seed', seed: 0, mode: 'fixed' }, steps: 0 });
    this.resources.writeScaledCentres(res, centres, 1, false);
    this.resources.writeUpdate(res, { rows: data.rows, lr, apply: true, radius: 0, emMode: mode });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeEmStep(pass, this.steps, res, this.resources.chunks);
    pass.end();
    const [m] = await this.read(encoder, [{ buffer: res.centres, bytes: centresBytes(res) }]);
    return unpad(new Float32Array(m), k, data.cols, res.shape.d4);
  }

  sample(centres: Matrix, n: number, options: SamplerOptions, onProgress?: (p: SampleProgress) => void): Promise<Matrix> {
    return this.exclusive(() => {
      this.requireLive();
      // The lane kernel's rule (host/kernel-plan.ts) picks unrolled loops: software adapters, K d/4 <= 512.
      const unrolled = (k: number, d: number) => this.kernelFor(k, d) === 'lanes';
      const context = { device: this.device, pipelines: this.pipelines, maxChunkRows: this.maxChunkRows, unrolled, software: this.isSoftware, read: this.read.bind(this) };
      return sampleOnGpu(context, centres, n, options, onProgress);
    });
  }

  energyDistance(x: Matrix, y: Matrix): Promise<number> {
    return this.exclusive(() => {
      this.requireLive();
      // The pair kernel takes the DDPM kernel's form for this adapter: 'lanes' on software adapters, 'tiled' on GPUs.
      const kind = this.kernelChoice === 'auto' ? (this.isSoftware ? 'lanes' : 'tiled') : this.kernelChoice;
      return energyDistanceOnGpu({ device: this.device, pipelines: this.pipelines, maxChunkRows: this.maxChunkRows, kind, read: (e, w) => this.read(e, w) }, x, y);
    });
  }

  modeWeights(samples: Matrix, trueCentres: Matrix): Promise<{ weights: number[]; maxDeviation: number }> {
    return this.exclusive(() => {
      this.requireLive();
      return modeWeightsOnGpu({ device: this.device, pipelines: this.pipelines, maxChunkRows: this.maxChunkRows, read: (e, w) => this.read(e, w) }, samples, trueCentres);
    });
  }

  private requireLive(): void {
    if (this.disposed) throw new DeviceError('This GPU backend has been disposed; create a new one.');
  }

  private checkCentres(data: Matrix, centres: Matrix, tied: boolean): number {
    this.requireLive();
    return checkProblem(data, centres, tied);
  }

  private async read(encoder: GPUCommandEncoder, what: readonly ReadTarget[]): Promise<ArrayBuffer[]> {
    const out = await submitAndRead({ device: this.device, lost: this.acquired.lost, compilerErrors: () => this.pipelines.compilerErrors() }, encoder, what);
    this.resources.releaseStaging();
    return out;
  }
}

/** Bytes of the KP x D4 vec4 of the centres (and of the gradient). */
function centresBytes(res: ShapeResources): number {
  return 16 * 4 * res.shape.k4 * res.shape.d4;
}

function firstNonFinite(history: Float32Array, steps: number): number {
  for (let s = 0; s < steps; s++) if (!Number.isFinite(history[2 * s]) || !Number.isFinite(history[2 * s + 1])) return s;
  return -1;
}

function divergence(step: number, lr: number): DivergenceError {
  return new DivergenceError(step, `Training diverged at step ${step} (the loss became NaN or infinite): use a smaller step size, for example --lr ${lr / 10}.`);
}
