// The form of the passes over the data on an adapter: workgroup tiles on GPUs, one sample per invocation with
// unrolled loops on software adapters. Every feature's kernels follow it (host/train/kernel-plan.ts plans the DDPM pass).

/** 'tiled' (workgroup tiles, for GPUs), 'lanes' (one sample per invocation, unrolled, for software adapters), or 'auto'. */
export type DdpmKernel = 'auto' | 'tiled' | 'lanes';
export type KernelKind = Exclude<DdpmKernel, 'auto'>;

/** The samplers, the score error and the piecewise passes unroll their loops over K and d/4 on software adapters up to this K d/4. */
export const MAX_UNROLLED_SAMPLER_PAIRS = 512;

/** The lane kernel on software adapters (at every shape, by its plan in host/train/kernel-plan.ts); the tiled kernel on GPUs. */
export function kernelFor(choice: DdpmKernel, isSoftware: boolean): KernelKind {
  if (choice !== 'auto') return choice;
  return isSoftware ? 'lanes' : 'tiled';
}
