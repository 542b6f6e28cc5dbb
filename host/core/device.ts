// Getting a WebGPU device in Node (the `webgpu` package, Dawn) or in the
// browser (navigator.gpu), with the limits the engine needs, and turning a
// lost device into an error rather than a hang.
import { DeviceError } from '../../src/errors.ts';

export interface AcquiredDevice {
  readonly device: GPUDevice;
  /** e.g. "NVIDIA H100 (vulkan)" or "SwiftShader driver 5.0.0 (software)". */
  readonly adapterName: string;
  readonly isSoftware: boolean;
  /** The adapter's own words (GPUAdapterInfo), which key the autotuner's cache (host/tune/autotune.ts). */
  readonly adapterInfo: { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string };
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  /** Rejects with a DeviceError when the device is lost. */
  readonly lost: Promise<never>;
  /** The last out-of-memory error outside every error scope (an allocation that failed), cleared by the read. */
  outOfMemory(): string | undefined;
}

export interface AcquireOptions {
  /** Notes for the user, such as "using the software adapter". */
  readonly log?: (message: string) => void;
  /** The WebGPU entry point: navigator.gpu in a browser, the webgpu package's in Node (host/core/node-gpu.ts). */
  readonly gpu?: GPU;
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter was found. In a browser, use a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled); ' +
  'in Node on Linux, install a Vulkan driver for your GPU, or for a software fallback run ' +
  '`apt-get install chromium libvulkan1` (it ships SwiftShader) and retry, or use --backend cpu.';

export function describeAdapter(adapter: GPUAdapter): { name: string; isSoftware: boolean } {
  const info = adapter.info;
  const isSoftware = info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  const parts = [info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter'];
  if (isSoftware) parts.push('(software adapter)');
  return { name: parts.join(' '), isSoftware };
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const log = options.log ?? (() => {});
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  let adapter: GPUAdapter | null = null;
  try {
    if (gpu) adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new DeviceError(`Requesting a WebGPU adapter failed (${(e as Error).message}). ${NO_ADAPTER_HELP}`);
  }
  if (!adapter) throw new DeviceError(NO_ADAPTER_HELP);
  const { name, isSoftware } = describeAdapter(adapter);
  const wanted: (keyof GPUSupportedLimits)[] = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxStorageBuffersPerShaderStage',
  ];
  const requiredLimits: Record<string, number> = {};
  for (const k of wanted) requiredLimits[k] = adapter.limits[k] as number;
  const requiredFeatures: GPUFeatureName[] = [];
  const hasSubgroups = adapter.features.has('subgroups');
  const hasTimestamps = adapter.features.has('timestamp-query');
  if (hasSubgroups) requiredFeatures.push('subgroups' as GPUFeatureName);
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new DeviceError(`The adapter ${name} refused to create a device (${(e as Error).message}).`);
  }
  const lost = device.lost.then((info) => {
    throw new DeviceError(
      info.reason === 'destroyed'
        ? 'The WebGPU device was released while work was still pending.'
        : `The WebGPU device was lost (${info.message || 'no reason given'}): the driver crashed or reset. Retry; on a software adapter use a smaller problem.`,
    );
  });
  lost.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  // An error outside every error scope: Dawn in Node would print it on stdout (breaking --json); it goes to the log.
  let outOfMemory: string | undefined;
  device.addEventListener('uncapturederror', (event) => {
    event.preventDefault();
    const { error } = event as GPUUncapturedErrorEvent;
    // Kept for the work that fails on the buffer it left invalid, which reports only "a previous error".
    if (isOutOfMemory(error)) outOfMemory = error.message;
    log(`WebGPU reported an error: ${error.message}`);
  });
  const { vendor, architecture, device: deviceId, description } = adapter.info;
  const adapterInfo = { vendor: vendor ?? '', architecture: architecture ?? '', device: deviceId ?? '', description: description ?? '' };
  const takeOutOfMemory = (): string | undefined => {
    const m = outOfMemory;
    outOfMemory = undefined;
    return m;
  };
  return { device, adapterName: name, isSoftware, adapterInfo, hasSubgroups, hasTimestamps, lost, outOfMemory: takeOutOfMemory };
}

/** A GPUOutOfMemoryError, by class where the runtime defines it, else by Dawn's and Vulkan's words. */
function isOutOfMemory(error: GPUError): boolean {
  const cls = (globalThis as { GPUOutOfMemoryError?: new (...a: never[]) => GPUError }).GPUOutOfMemoryError;
  return (cls !== undefined && error instanceof cls) || /out[ _]of[ _](device[ _])?memory/i.test(error.message);
}
