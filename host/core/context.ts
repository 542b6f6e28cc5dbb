// What the GPU backend gives each feature's GPU side (docs/architecture.md, "Features own their kernels"): the
// device, the pipeline cache, the adapter's kernel form, the read-back, and the one-at-a-time queue. A feature
// registers a GpuFeature (host/features.ts); nothing here knows any feature.
import type { KernelKind } from './kernel-kind.ts';
import type { PipelineCache } from './pipelines.ts';
import type { ReadTarget } from './readback.ts';

export interface GpuCore {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  /** Rows per storage binding at most (GpuBackendInit.maxChunkRows). */
  readonly maxChunkRows: number;
  /** A software adapter (SwiftShader): few workgroups walk all the rows. */
  readonly software: boolean;
  /** The form of the passes over the data on this adapter (host/core/kernel-kind.ts). */
  readonly kernel: KernelKind;
  /** Whether a kernel's loops over K and d/4 are unrolled for K centres in d dimensions (the lane form, up to a size). */
  readonly unrolled: (k: number, d: number) => boolean;
  /** Submits the encoder and returns the bytes of the targets (DeviceErrors on failure). */
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
  /** Runs `work` once every earlier call has settled (the calls share buffers), on a backend not yet disposed. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** A feature's GPU side: its capability's methods, given the core. */
export type GpuFeature<C extends object> = (core: GpuCore) => C;
