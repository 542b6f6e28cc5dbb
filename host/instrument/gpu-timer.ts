// GPU time of compute passes from timestamp queries, without touching the engine:
// a wrapped GPUDevice gives every compute pass a pair of timestamp writes and
// resolves them when its encoder finishes. The engine is constructed with the
// wrapped device (GpuBackendInit.acquired.device), so its code stays as it is.
// Used only when the device has 'timestamp-query' (AcquiredDevice.hasTimestamps).
import type { AcquiredDevice } from '../core/device.ts';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ } from '../core/usage.ts';

/** GPUBufferUsage.QUERY_RESOLVE (WebGPU specification). */
const QUERY_RESOLVE = 0x0200;

interface PendingPass {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly staging: GPUBuffer;
}

/** Totals since the last reset: GPU seconds summed over the timed compute passes. */
export interface GpuTime {
  readonly seconds: number;
  readonly passes: number;
  /** Seconds of each pass in submission order. */
  readonly passSeconds: number[];
}

export class GpuTimer {
  readonly device: GPUDevice;
  private readonly real: GPUDevice;
  private waiting: Promise<void>[] = [];
  private passSeconds: number[] = [];
  /** Passes of encoders finished but not yet submitted (the engine submits each encoder right after finishing it). */
  private finished: PendingPass[] = [];

  constructor(device: GPUDevice) {
    this.real = device;
    this.device = this.wrapDevice(device);
  }

  /** The acquired device with its GPUDevice replaced by the timed one (unchanged when there are no timestamp queries). */
  static wrap(acquired: AcquiredDevice): { acquired: AcquiredDevice; timer: GpuTimer | undefined } {
    if (!acquired.hasTimestamps) return { acquired, timer: undefined };
    const timer = new GpuTimer(acquired.device);
    return { acquired: { ...acquired, device: timer.device }, timer };
  }

  /** Waits for every submitted pass's timestamps, then returns the totals since the last reset. */
  async read(): Promise<GpuTime> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      await Promise.all(batch);
    }
    const passSeconds = this.passSeconds.slice();
    return { seconds: passSeconds.reduce((a, b) => a + b, 0), passes: passSeconds.length, passSeconds };
  }

  /** Waits for pending timestamps and forgets everything measured so far. */
  async reset(): Promise<void> {
    await this.read();
    this.passSeconds = [];
  }

  private wrapDevice(device: GPUDevice): GPUDevice {
    const queue = this.wrapQueue(device.queue);
    return new Proxy(device, {
      get: (target, key) => {
        if (key === 'queue') return queue;
        if (key === 'createCommandEncoder') return (d?: GPUCommandEncoderDescriptor) => this.wrapEncoder(target.createCommandEncoder(d));
        const v: unknown = Reflect.get(target, key, target);
        // Native methods must be called on the real object, not on the proxy.
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  private wrapQueue(queue: GPUQueue): GPUQueue {
    return new Proxy(queue, {
      get: (target, key) => {
        if (key === 'submit') {
          return (buffers: Iterable<GPUCommandBuffer>) => {
            target.submit(buffers);
            this.collect(this.finished.splice(0));
          };
        }
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  private wrapEncoder(encoder: GPUCommandEncoder): GPUCommandEncoder {
    const passes: PendingPass[] = [];
    const real = this.real;
    return new Proxy(encoder, {
      get: (target, key) => {
        if (key === 'beginComputePass') {
          return (descriptor?: GPUComputePassDescriptor) => {
            // The engine never asks for timestamps itself, so there is nothing to merge with.
            const querySet = real.createQuerySet({ type: 'timestamp', count: 2 });
            passes.push({
              querySet,
              resolve: real.createBuffer({ size: 16, usage: QUERY_RESOLVE | COPY_SRC }),
              staging: real.createBuffer({ size: 16, usage: MAP_READ | COPY_DST }),
            });
            return target.beginComputePass({ ...descriptor, timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
          };
        }
        if (key === 'finish') {
          return (descriptor?: GPUCommandBufferDescriptor) => {
            for (const p of passes) {
              target.resolveQuerySet(p.querySet, 0, 2, p.resolve, 0);
              target.copyBufferToBuffer(p.resolve, 0, p.staging, 0, 16);
            }
            this.finished.push(...passes.splice(0));
            return target.finish(descriptor);
          };
        }
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  private collect(passes: PendingPass[]): void {
    for (const p of passes) {
      const slot = this.passSeconds.length;
      this.passSeconds.push(0);
      this.waiting.push(
        p.staging.mapAsync(MAP_MODE_READ).then(
          () => {
            const [begin, end] = new BigUint64Array(p.staging.getMappedRange());
            // Timestamps are nanoseconds; a pass the implementation could not time reads 0 and 0.
            this.passSeconds[slot] = end! > begin! ? Number(end! - begin!) / 1e9 : 0;
            p.staging.unmap();
          },
          () => undefined, // a lost device: the engine reports it; the timing of this pass stays 0
        ).finally(() => {
          p.staging.destroy();
          p.resolve.destroy();
          p.querySet.destroy();
        }),
      );
    }
  }
}
