// The GPU backend for Node: device, WGSL files from shaders/, engine.
import type { Backend } from '../src/types.ts';
import { acquireDevice, type AcquireOptions } from './device.ts';
import { type DdpmKernel, GpuBackend } from './engine.ts';
import { readShaderFiles } from './shader-files.ts';

export { GpuBackend, type DdpmKernel } from './engine.ts';

export async function createGpuBackend(options: AcquireOptions & { maxChunkRows?: number; kernel?: DdpmKernel; subgroups?: boolean } = {}): Promise<GpuBackend & Backend> {
  const acquired = await acquireDevice(options);
  return new GpuBackend({ acquired, sources: readShaderFiles(), maxChunkRows: options.maxChunkRows, kernel: options.kernel, subgroups: options.subgroups, log: options.log });
}
