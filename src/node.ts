// ddpm-gmm/node: everything of 'ddpm-gmm', plus the WebGPU engine on Dawn (the `webgpu` package) and
// file helpers. Importing it lets backend 'auto' and 'gpu' open the GPU engine.
import { createGpuBackend } from '../host/index.ts';
import { registerGpuOpener } from './backend-choice.ts';

export * from './index.ts';
export { createGpuBackend, GpuBackend, type DdpmKernel, type GpuBackendOptions, type LanePlan, type TuneOption } from '../host/index.ts';
export { readMatrixFile, readMatrixFileWithInfo, writeMatrixFile, matrixFormatOf, type WriteMatrixOptions } from './io/files.ts';

registerGpuOpener('node', (log) => createGpuBackend({ log }));
