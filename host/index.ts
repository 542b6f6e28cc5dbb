// The GPU backend in Node: Dawn's adapter (host/core/node-gpu.ts), the embedded WGSL, the engine.
import { DeviceError } from '../src/errors.ts';
import { acquireDevice, NO_ADAPTER_HELP, type AcquireOptions } from './core/device.ts';
import { type DdpmKernel, GpuBackend } from './engine.ts';
import type { LanePlan } from './train/kernel-plan.ts';
import type { TuneOption } from './tune/autotune.ts';
import { nodeGpuEntry } from './core/node-gpu.ts';
import { nodeTuneStore } from './tune/tune-store.ts';
import { WGSL_SOURCES } from './shader-sources.ts';

export { GpuBackend, type DdpmKernel } from './engine.ts';
export type { LanePlan } from './train/kernel-plan.ts';
export type { TuneOption } from './tune/autotune.ts';

export interface GpuBackendOptions extends AcquireOptions {
  /** Rows per chunk of the data (default: as many as the device's buffer limits allow). */
  readonly maxChunkRows?: number;
  readonly kernel?: DdpmKernel;
  /** The lane kernel's plan at every shape, instead of the rule by size (host/train/kernel-plan.ts): for tests and benchmarks; a plan that would crash SwiftShader's compiler at the shape is refused (docs/performance.md, 'Compile times'). */
  readonly lanePlan?: LanePlan;
  readonly subgroups?: boolean;
  /** The tiled kernel's tile and workgroup sizes: 'auto' (default) times candidates once per adapter and shape class on hardware adapters; 'on' on any adapter; 'off'; or fixed sizes (docs/kernels.md, 'The autotuner'). */
  readonly tune?: TuneOption;
  /** Node: the file of tuned choices (default $DDPM_GMM_TUNE_CACHE, else one per adapter under ~/.cache/ddpm-gmm); false keeps them in memory. Browser: localStorage. */
  readonly tuneCache?: string | false;
}

/** Opens the GPU backend on the best adapter Node has: a hardware GPU, else SwiftShader. */
export async function createGpuBackend(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  const gpu = options.gpu ?? (await nodeGpuEntry(options.log));
  if (!gpu) throw new DeviceError(NO_ADAPTER_HELP);
  const acquired = await acquireDevice({ ...options, gpu });
  return new GpuBackend({ acquired, sources: WGSL_SOURCES, maxChunkRows: options.maxChunkRows, kernel: options.kernel, lanePlan: options.lanePlan, subgroups: options.subgroups, log: options.log,
    tune: options.tune, tuneStore: nodeTuneStore(options.tuneCache),
  });
}
