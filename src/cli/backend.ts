// Opens the requested Backend. The GPU engine is imported only for --backend gpu,
// so CPU runs never load WebGPU.
import { DeviceError } from '../errors.ts';
import type { Backend } from '../types.ts';

export async function openBackend(kind: 'gpu' | 'cpu', log: (msg: string) => void): Promise<Backend> {
  if (kind === 'cpu') {
    const { CpuBackend } = await import('../cpu/backend.ts');
    return new CpuBackend();
  }
  let mod: typeof import('../../host/index.ts');
  try {
    mod = await import('../../host/index.ts');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DeviceError(`the GPU backend could not be loaded (${msg}); run with --backend cpu instead`);
  }
  // A failure to acquire an adapter is the engine's DeviceError; pass it through.
  return mod.createGpuBackend({ log });
}
