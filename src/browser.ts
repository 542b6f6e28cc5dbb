// ddpm-gmm/browser: everything of 'ddpm-gmm', plus the WebGPU engine on navigator.gpu. Importing it lets
// backend 'auto' and 'gpu' open the GPU engine.
import { createBrowserGpuBackend } from '../host/browser.ts';
import { registerGpuOpener } from './backend-choice.ts';

export * from './index.ts';
export { createBrowserGpuBackend, NO_BROWSER_WEBGPU } from '../host/browser.ts';
export { GpuBackend, type DdpmKernel } from '../host/engine.ts';
export type { GpuBackendOptions, LanePlan } from '../host/index.ts';

registerGpuOpener('browser', (log) => createBrowserGpuBackend({ log }));
