// The GPU backend in a browser: navigator.gpu, the embedded WGSL, the engine.
import { DeviceError } from '../src/errors.ts';
import { localTuneStore } from './tune/autotune.ts';
import { acquireDevice, type AcquireOptions } from './core/device.ts';
import { GpuBackend } from './engine.ts';
import type { GpuBackendOptions } from './index.ts';
import { WGSL_SOURCES } from './shader-sources.ts';

export const NO_BROWSER_WEBGPU =
  'This browser has no WebGPU (navigator.gpu is missing). WebGPU is on by default in Chrome and Edge 113+ ' +
  'on Windows, macOS and ChromeOS, and in Safari 26; on Linux start Chrome with --enable-unsafe-webgpu (and --enable-features=Vulkan), ' +
  "or in Firefox use Nightly with dom.webgpu.enabled. Without WebGPU, use the CPU backend (backend: 'cpu').";

/** Opens the GPU backend on navigator.gpu (or options.gpu). */
export async function createBrowserGpuBackend(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new DeviceError(NO_BROWSER_WEBGPU);
  const acquired = await acquireDevice({ ...options, gpu });
  return new GpuBackend({ acquired, sources: WGSL_SOURCES, maxChunkRows: options.maxChunkRows, kernel: options.kernel, lanePlan: options.lanePlan, subgroups: options.subgroups, log: options.log,
    tune: options.tune, tuneStore: options.tuneCache === false ? undefined : localTuneStore,
  });
}
