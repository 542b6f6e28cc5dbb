// Issue 18's device memory: data is bound in chunks no larger than WebGPU's default buffer size, and work that
// fails on a buffer an allocation left invalid names the allocation and the fix, not "a previous error".
import { afterAll, describe, expect, it } from 'vitest';
import { createGpuBackend, DeviceError, type GpuBackend } from '../../src/node.ts';
import { chunkBytes, DEFAULT_MAX_BUFFER_BYTES, shapeFor } from '../../host/core/layout.ts';
import { submitAndRead } from '../../host/core/readback.ts';

const opened: GpuBackend[] = [];
afterAll(() => {
  for (const b of opened) b.dispose();
});

describe('device memory', () => {
  it('a data chunk takes at most the default 256 MiB, whatever larger limits the device advertises', () => {
    const limits = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535 };
    const big = { ...limits, maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 32 };
    expect(chunkBytes(big)).toBe(DEFAULT_MAX_BUFFER_BYTES);
    // d = 1 pads to one vec4 of 16 bytes a row.
    expect(shapeFor(2, 1, big).rowsPerChunk).toBe(DEFAULT_MAX_BUFFER_BYTES / 16);
    // A device below the default keeps its own limits.
    expect(chunkBytes({ maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 })).toBe(2 ** 27);
  });

  it('rejected work after an allocation ran out of memory names it and the fix', async () => {
    const gpu = await createGpuBackend();
    opened.push(gpu);
    const { device } = gpu;
    const gone = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    gone.destroy();
    // A destroyed buffer in a submit is a validation error, as a buffer whose allocation failed is.
    const ctx = { device, lost: new Promise<never>(() => {}), compilerErrors: async () => [], outOfMemory: () => 'vkAllocateMemory failed with VK_ERROR_OUT_OF_DEVICE_MEMORY' };
    const read = submitAndRead(ctx, device.createCommandEncoder(), [{ buffer: gone, bytes: 16 }]);
    await expect(read).rejects.toThrow(DeviceError);
    await expect(submitAndRead(ctx, device.createCommandEncoder(), [{ buffer: gone, bytes: 16 }])).rejects.toThrow(
      /ran out of memory for this work \(vkAllocateMemory failed.*\): stream the data in chunks \(the estimator's chunkRows or memoryBudget options; fit --schedule single --memory-budget BYTES\).*--backend cpu/,
    );
    // Without an allocation failure the rejection is the device's own words.
    await expect(submitAndRead({ ...ctx, outOfMemory: () => undefined }, device.createCommandEncoder(), [{ buffer: gone, bytes: 16 }])).rejects.toThrow(/The GPU rejected the work: .*destroyed/i);
  });
});
