// The GPU backend: a core (device, pipeline cache, the one-at-a-time queue, read-back) with the training engine
// (src/training/gpu.ts), which holds the data handles' uploads, and the features registered in host/features.ts
// (sampling, metrics, piecewise moments), each from its own folder.
import type { Backend } from '../src/backend.ts';
import { DeviceError } from '../src/errors.ts';
import type { Dataset, Matrix } from '../src/types.ts';
import type { Training } from '../src/training/capability.ts';
import { type EngineInternals, type TrainingInit, TrainingOnGpu } from '../src/training/gpu.ts';
import type { GpuCore } from './core/context.ts';
import type { AcquiredDevice } from './core/device.ts';
import { type DdpmKernel, type KernelKind, kernelFor, MAX_UNROLLED_SAMPLER_PAIRS } from './core/kernel-kind.ts';
import type { Shape } from './core/layout.ts';
import { PipelineCache } from './core/pipelines.ts';
import { type ReadTarget, submitAndRead } from './core/readback.ts';
import type { LanePlan } from './train/kernel-plan.ts';
import { GPU_FEATURES, type GpuFeatureMethods } from './features.ts';

export type { DdpmKernel } from './core/kernel-kind.ts';
export type { EngineInternals } from '../src/training/gpu.ts';

export interface GpuBackendInit extends TrainingInit {
  readonly acquired: AcquiredDevice;
  /** At most this many rows per storage binding (tests use it to exercise chunking on small data). */
  readonly maxChunkRows?: number;
}

// The registered features' methods are set on each instance by the constructor (GPU_FEATURES); the compiler checks
// below that together with Training they are the whole Backend.
export interface GpuBackend extends Training, GpuFeatureMethods {}
type Registered = Training & GpuFeatureMethods;
const registersEverything: Registered extends Omit<Backend, 'name' | 'adapter' | 'dataset' | 'dispose'> ? true : never = true;
void registersEverything;

export class GpuBackend implements Backend {
  readonly name = 'gpu' as const;
  readonly adapter: string;
  readonly device: GPUDevice;
  /** Rows per storage binding at most (GpuBackendInit.maxChunkRows). */
  readonly maxChunkRows: number;
  private readonly acquired: AcquiredDevice;
  private readonly pipelines: PipelineCache;
  private readonly core: GpuCore;
  private readonly training: TrainingOnGpu;
  private disposed = false;
  /** The public methods share buffers (centres, partials, step counter): they run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(init: GpuBackendInit) {
    this.acquired = init.acquired;
    this.device = init.acquired.device;
    this.adapter = init.acquired.adapterName;
    this.maxChunkRows = init.maxChunkRows ?? Infinity;
    this.pipelines = new PipelineCache(this.device, init.sources, init.log ?? (() => undefined));
    const kernel = kernelFor(init.kernel ?? 'auto', init.acquired.isSoftware);
    this.core = {
      device: this.device,
      pipelines: this.pipelines,
      maxChunkRows: this.maxChunkRows,
      software: init.acquired.isSoftware,
      kernel,
      // Unrolled loops on software adapters up to K d/4 = MAX_UNROLLED_SAMPLER_PAIRS (host/core/kernel-kind.ts).
      unrolled: (k, d) => kernel === 'lanes' && k * Math.ceil(d / 4) <= MAX_UNROLLED_SAMPLER_PAIRS,
      read: (encoder, what) => this.read(encoder, what),
      run: (work) => this.exclusive(() => {
        this.requireLive();
        return work();
      }),
    };
    this.training = new TrainingOnGpu(this.core, init);
    const t = this.training;
    const training: Training = {
      lossAndGradient: (data, centres, options) => t.lossAndGradient(data, centres, options),
      gdSteps: (data, centres, options) => t.gdSteps(data, centres, options),
      gdStepsBatched: (data, runs, options) => t.gdStepsBatched(data, runs, options),
      runsPerPass: (k, d) => t.runsPerPass(k, d),
      emStep: (data, centres) => t.emStep(data, centres),
      emSteps: (data, centres, steps, student) => t.emSteps(data, centres, steps, student),
      gradientEmStep: (data, centres, lr) => t.gradientEmStep(data, centres, lr),
    };
    Object.assign(this, training, ...GPU_FEATURES.map((feature) => feature(this.core)));
  }

  get isSoftware(): boolean {
    return this.acquired.isSoftware;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** The DDPM kernel this backend runs for K centres in d dimensions (K = 2 when tied). */
  kernelFor(k: number, d: number): KernelKind {
    return this.training.kernelFor(k, d);
  }

  /** How much of the lane kernel is unrolled for K centres in d dimensions (host/train/kernel-plan.ts); undefined with the tiled kernel. */
  lanePlanOf(k: number, d: number): LanePlan | undefined {
    return this.training.lanePlanOf(k, d);
  }

  /** The sizes this backend's passes use for K centres in d dimensions: with the tiled kernel, its fixed or tuned tile and workgroup. */
  shapeOf(k: number, d: number): Shape {
    return this.training.shapeOf(k, d);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.training.dispose();
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
    return this.exclusive(() => work(this.training.internals()));
  }

  dataset(x: Matrix): Dataset {
    this.requireLive();
    return this.training.dataset(x);
  }

  private requireLive(): void {
    if (this.disposed) throw new DeviceError('This GPU backend has been disposed; create a new one.');
  }

  private read(encoder: GPUCommandEncoder, what: readonly ReadTarget[]): Promise<ArrayBuffer[]> {
    return submitAndRead({ device: this.device, lost: this.acquired.lost, compilerErrors: () => this.pipelines.compilerErrors(), outOfMemory: () => this.acquired.outOfMemory() }, encoder, what);
  }
}
