// Submitting an encoder and reading buffers back, with the failures turned into
// DeviceErrors that say what happened: rejected work (with the shader compiler's
// messages), a lost device, a failed mapping.
import { DeviceError } from '../../src/errors.ts';
import { COPY_DST, MAP_MODE_READ, MAP_READ } from './usage.ts';

export interface ReadTarget {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  readonly offset?: number;
}

export interface ReadContext {
  readonly device: GPUDevice;
  /** Rejects with a DeviceError when the device is lost (AcquiredDevice.lost). */
  readonly lost: Promise<never>;
  compilerErrors(): Promise<readonly string[]>;
  /** An allocation that ran out of memory since the last read (AcquiredDevice.outOfMemory). */
  outOfMemory?(): string | undefined;
}

/** What to do when the device has too little memory for the work. */
export const OUT_OF_MEMORY_FIX =
  "stream the data in chunks (the estimator's chunkRows or memoryBudget options; fit --schedule single --memory-budget BYTES), use fewer rows or a smaller K x d, or --backend cpu";

/** Submits the encoder with copies of the targets, waits, and returns their bytes. */
export async function submitAndRead(ctx: ReadContext, encoder: GPUCommandEncoder, what: readonly ReadTarget[]): Promise<ArrayBuffer[]> {
  const { device } = ctx;
  const staging = what.map((t) => device.createBuffer({ size: Math.ceil(t.bytes / 4) * 4, usage: MAP_READ | COPY_DST }));
  what.forEach((t, i) => encoder.copyBufferToBuffer(t.buffer, t.offset ?? 0, staging[i], 0, Math.ceil(t.bytes / 4) * 4));
  device.pushErrorScope('validation');
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) {
    const oom = ctx.outOfMemory?.();
    if (oom) throw new DeviceError(`The GPU ran out of memory for this work (${oom.split('\n')[0]}): ${OUT_OF_MEMORY_FIX}.`);
    const messages = await ctx.compilerErrors();
    const compiler = messages.length ? ` Shader compiler: ${messages.join('; ')}` : '';
    throw new DeviceError(`The GPU rejected the work: ${error.message}.${compiler}`);
  }
  try {
    await Promise.race([Promise.all(staging.map((s) => s.mapAsync(MAP_MODE_READ))), ctx.lost]);
  } catch (e) {
    if (e instanceof DeviceError) throw e;
    throw new DeviceError(`Reading results back from the GPU failed (${(e as Error).message}).`);
  }
  const out = staging.map((s) => s.getMappedRange().slice(0));
  staging.forEach((s) => s.destroy());
  return out;
}
