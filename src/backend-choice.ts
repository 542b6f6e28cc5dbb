// Choosing a Backend by name: 'gpu', 'cpu', or 'auto' (a hardware GPU, then a software adapter, then the
// float64 CPU reference). The runtime-neutral core cannot import a WebGPU binding, so the Node and
// browser entry points register how they open the GPU engine when they are imported.
import { CpuBackend } from './cpu/backend.ts';
import { DeviceError, InputError } from './errors.ts';
import type { Backend } from './backend.ts';

export type BackendChoice = 'auto' | 'gpu' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'gpu', 'cpu'];

/** Which backend a run used. */
export interface BackendInfo {
  readonly kind: 'gpu' | 'cpu';
  /** e.g. "NVIDIA H100 (vulkan)", "SwiftShader ... (software adapter)" or "CPU float64 reference". */
  readonly adapter: string;
  /** True for a software WebGPU adapter (SwiftShader, lavapipe), which runs on the CPU. */
  readonly software: boolean;
}

type GpuOpener = (log: (message: string) => void) => Promise<Backend>;
let gpuOpener: { readonly runtime: string; readonly open: GpuOpener } | undefined;

/** Called by ddpm-gmm/node and ddpm-gmm/browser: how this runtime opens the GPU engine. */
export function registerGpuOpener(runtime: string, open: GpuOpener): void {
  gpuOpener = { runtime, open };
}

export function describeBackend(backend: Backend): BackendInfo {
  const software = backend.name === 'gpu' && ((backend as { isSoftware?: boolean }).isSoftware ?? /software/i.test(backend.adapter));
  return { kind: backend.name, adapter: backend.adapter, software };
}

export function requireBackendChoice(choice: unknown, what = 'backend'): asserts choice is BackendChoice {
  if (!BACKEND_CHOICES.includes(choice as BackendChoice)) {
    throw new InputError(`${what} must be one of ${BACKEND_CHOICES.join(', ')} or a Backend object, got '${String(choice)}'`);
  }
}

/**
 * Opens the named backend. 'auto' falls back to the CPU reference, saying why through `log`, when no
 * GPU engine is registered or no adapter can be had; 'gpu' throws a DeviceError instead.
 */
export async function openBackend(choice: BackendChoice, log: (message: string) => void = () => {}): Promise<Backend> {
  requireBackendChoice(choice);
  if (choice === 'cpu') return new CpuBackend();
  if (!gpuOpener) {
    const why = "no GPU engine is loaded: import DdpmGmm from 'ddpm-gmm/node' (Node) or 'ddpm-gmm/browser' (a browser) to use WebGPU";
    if (choice === 'gpu') throw new DeviceError(`backend 'gpu' was asked for, but ${why}.`);
    log(`Using the CPU reference: ${why}.`);
    return new CpuBackend();
  }
  try {
    return await gpuOpener.open(log);
  } catch (e) {
    if (choice === 'gpu' || !(e instanceof DeviceError)) throw e;
    log(`Using the CPU reference: the GPU engine could not start (${e.message})`);
    return new CpuBackend();
  }
}

/**
 * The backend an estimator runs on: a Backend it was given, left to its owner, or one opened from a named choice on
 * first use and released by dispose().
 */
export class BackendSlot {
  private own: Backend | undefined;

  constructor(
    private readonly choice: () => BackendChoice | Backend | undefined,
    private readonly log?: (message: string) => void,
  ) {}

  async get(): Promise<Backend> {
    const b = this.choice() ?? 'auto';
    if (typeof b !== 'string') return b;
    this.own ??= await openBackend(b, this.log);
    return this.own;
  }

  dispose(): void {
    this.own?.dispose();
    this.own = undefined;
  }
}
