// Getting a WebGPU device in Node (the `webgpu` package, Dawn) or in the
// browser (navigator.gpu), with the limits the engine needs, and turning a
// lost device into an error rather than a hang.
import { DeviceError } from '../src/errors.ts';

/** SwiftShader's Vulkan driver, shipped by Debian's chromium package: a CPU fallback. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface AcquiredDevice {
  readonly device: GPUDevice;
  /** e.g. "NVIDIA H100 (vulkan)" or "SwiftShader driver 5.0.0 (software)". */
  readonly adapterName: string;
  readonly isSoftware: boolean;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  /** Rejects with a DeviceError when the device is lost. */
  readonly lost: Promise<never>;
}

export interface AcquireOptions {
  /** Notes for the user, such as "using the software adapter". */
  readonly log?: (message: string) => void;
  /** Use this GPU object instead of navigator.gpu / the webgpu package. */
  readonly gpu?: GPU;
}

const NO_ADAPTER_HELP =
  'No WebGPU adapter was found. In a browser, use a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled); ' +
  'in Node on Linux, install a Vulkan driver for your GPU, or for a software fallback run ' +
  '`apt-get install chromium libvulkan1` (it ships SwiftShader) and retry, or use --backend cpu.';

// One Dawn instance per process, found once: a second instance, or dropping the first while its devices
// live, crashes Dawn. Every backend asks the shared instance for its own adapter and device.
let nodeGpu: Promise<GPU | null> | undefined;

async function nodeAdapter(log: (m: string) => void): Promise<GPUAdapter | null> {
  nodeGpu ??= findNodeGpu(log);
  const gpu = await nodeGpu;
  return gpu ? gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
}

/** The webgpu package's GPU object whose adapter works: the system's drivers, else SwiftShader. */
async function findNodeGpu(log: (m: string) => void): Promise<GPU | null> {
  // Specifiers in variables: bundlers for the browser must not try to pack Node-only modules.
  const webgpuModule = 'webgpu';
  const { create, globals } = (await import(/* @vite-ignore */ webgpuModule)) as typeof import('webgpu');
  if (typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') Object.assign(globalThis, globals);
  const fsModule = 'node:fs';
  const fs = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs');
  if (!process.env.XDG_RUNTIME_DIR) {
    // The Vulkan loader complains on every start without one.
    const dir = `/tmp/xdg-runtime-${process.getuid?.() ?? 0}`;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const canFallBack = !process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD);
  const useSwiftShader = () => {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    log(`No hardware WebGPU adapter found; using SwiftShader's Vulkan driver (${SWIFTSHADER_ICD}), a software adapter on the CPU.`);
  };
  // Without GPU device nodes, go straight to SwiftShader: Mesa's lavapipe is too old for Dawn and says so loudly.
  if (canFallBack && !hasGpuDeviceNodes(fs)) useSwiftShader();
  let gpu: GPU = create([]);
  if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) return gpu;
  if (canFallBack && !process.env.VK_ICD_FILENAMES) {
    useSwiftShader();
    gpu = create([]);
    if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) return gpu;
  }
  return null;
}

function hasGpuDeviceNodes(fs: typeof import('node:fs')): boolean {
  try {
    if (fs.readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f))) return true;
    return fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return true; // cannot tell: try the system's drivers first
  }
}

export function describeAdapter(adapter: GPUAdapter): { name: string; isSoftware: boolean } {
  const info = adapter.info;
  const isSoftware = info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  const parts = [info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter'];
  if (isSoftware) parts.push('(software adapter)');
  return { name: parts.join(' '), isSoftware };
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const log = options.log ?? (() => {});
  const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof navigator === 'undefined';
  let adapter: GPUAdapter | null = null;
  try {
    if (options.gpu) adapter = await options.gpu.requestAdapter({ powerPreference: 'high-performance' });
    else if (isNode) adapter = await nodeAdapter(log);
    else if (typeof navigator !== 'undefined' && navigator.gpu) adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
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
  return { device, adapterName: name, isSoftware, hasSubgroups, hasTimestamps, lost };
}
