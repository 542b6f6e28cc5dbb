// The page's WebGPU device: navigator.gpu, timed by timestamp queries where the adapter has them.
import { localTuneStore } from '../../host/tune/autotune.ts';
import { acquireDevice } from '../../host/core/device.ts';
import { GpuBackend } from '../../host/engine.ts';
import { GpuTimer } from '../../host/instrument/gpu-timer.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';

export interface Gpu {
  readonly backend: GpuBackend;
  readonly timer: GpuTimer | undefined;
  readonly isSoftware: boolean;
  readonly timestamps: boolean;
}

const NO_WEBGPU =
  'This browser has no WebGPU (navigator.gpu is missing), so the page cannot train. WebGPU is on by default in Chrome and Edge 113+ ' +
  'on Windows, macOS and ChromeOS, and in Safari 26; on Linux start Chrome with --enable-unsafe-webgpu (and --enable-features=Vulkan), ' +
  'or in Firefox use Nightly with dom.webgpu.enabled. The command line (npm start) runs the same engine without a browser.';

export async function openGpu(): Promise<Gpu> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error(NO_WEBGPU);
  const acquired = await acquireDevice();
  const { acquired: timed, timer } = GpuTimer.wrap(acquired);
  // The tiled kernel's tuned sizes persist in localStorage (docs/kernels.md, 'The autotuner').
  const backend = new GpuBackend({ acquired: timed, sources: WGSL_SOURCES, tuneStore: localTuneStore });
  return { backend, timer, isSoftware: acquired.isSoftware, timestamps: acquired.hasTimestamps };
}
