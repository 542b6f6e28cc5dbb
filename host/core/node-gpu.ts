// WebGPU in Node: the `webgpu` package (Dawn) with the system's Vulkan drivers, else SwiftShader's
// software driver from Debian's chromium package. Only the Node entry point imports this file.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { create, globals } from 'webgpu';

/** SwiftShader's Vulkan driver, shipped by Debian's chromium package: a CPU fallback. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// One Dawn instance per process, found once: a second instance, or dropping the first while its devices
// live, crashes Dawn. Every backend asks the shared instance for its own adapter and device.
let nodeGpu: Promise<GPU | null> | undefined;

/** The process's Dawn GPU object whose adapter works, or null when no driver gives one. */
export function nodeGpuEntry(log: (m: string) => void = () => {}): Promise<GPU | null> {
  nodeGpu ??= findNodeGpu(log);
  return nodeGpu;
}

async function findNodeGpu(log: (m: string) => void): Promise<GPU | null> {
  if (typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') Object.assign(globalThis, globals);
  if (!process.env.XDG_RUNTIME_DIR) {
    // The Vulkan loader complains on every start without one.
    const dir = `/tmp/xdg-runtime-${process.getuid?.() ?? 0}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const canFallBack = !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD);
  const useSwiftShader = () => {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    log(`No hardware WebGPU adapter found; using SwiftShader's Vulkan driver (${SWIFTSHADER_ICD}), a software adapter on the CPU.`);
  };
  // Without GPU device nodes, go straight to SwiftShader: Mesa's lavapipe is too old for Dawn and says so loudly.
  if (canFallBack && !hasGpuDeviceNodes()) useSwiftShader();
  let gpu: GPU = create([]);
  if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) return gpu;
  if (canFallBack && !process.env.VK_ICD_FILENAMES) {
    useSwiftShader();
    gpu = create([]);
    if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) return gpu;
  }
  return null;
}

function hasGpuDeviceNodes(): boolean {
  try {
    if (readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f))) return true;
    return existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return true; // cannot tell: try the system's drivers first
  }
}
