// The hard assignments on the GPU (src/metrics/cpu.ts nearestCentres; shaders/nearest_centres.wgsl): each sample's
// nearest centre in float32, by the search the mode weights count (shaders/centre_search.wgsl), one u32 per row.
// Samples are split into chunks that fit one storage binding, as for the mode weights.
import { DeviceError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { checkSamplesAndCentres } from './checks.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import type { GpuCore } from '../../host/core/context.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { chunkBytes, chunkRows } from '../../host/core/layout.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';

/** Per chunk of the hard assignments (shaders/nearest_centres.wgsl). */
export const nearestParams = defineStruct('NearestParams', [
  ['rows', 'u32'],
  ['k', 'u32'],
] as const);

/** Invocations per workgroup of the hard assignments (one sample each). */
export const NEAREST_WG = 64;

/** The hard assignments (src/metrics/gpu-nearest-centres.ts): specialised on d/4 only, K is a run-time value. */
export const nearestCentresProgram: Program<'samples' | 'centres' | 'labels' | 'params', { readonly d4: number }> = {
  entry: 'nearestCentres',
  files: ['centre_search.wgsl', 'nearest_centres.wgsl'],
  structs: [nearestParams.wgsl],
  bindings: { samples: slot(0, 0), centres: slot(0, 1), labels: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D4: p.d4, WG: NEAREST_WG }, flags: {} }),
};

/** For each row of `samples`, the index of its nearest row of `centres`, ties to the lower index (the Backend's `nearestCentres`). */
export async function nearestCentresOnGpu(core: GpuCore, samples: Matrix, centres: Matrix): Promise<Int32Array> {
  checkSamplesAndCentres(samples, centres, 'the nearest centres');
  const { device, pipelines } = core;
  const K = centres.rows;
  const d4 = Math.ceil(samples.cols / 4);
  const binding = chunkBytes(device.limits);
  if (16 * d4 * K > binding) throw new DeviceError(`the nearest centres: ${K} centres in d = ${samples.cols} need ${16 * d4 * K} bytes, over one storage binding (${binding})`);
  const rowsPerChunk = Math.min(core.maxChunkRows, Math.floor(binding / (16 * d4)));
  const program = pipelines.get(nearestCentresProgram, { d4 });
  const centreBuffer = createBuffer(device, 16 * d4 * K, STORAGE_RW, padRows(centres, 0, K, d4));
  const out = new Int32Array(samples.rows);
  try {
    for (const chunk of chunkRows(samples.rows, rowsPerChunk)) {
      const rows = createBuffer(device, 16 * d4 * chunk.rows, STORAGE_RW, padRows(samples, chunk.base, chunk.rows, d4));
      const labels = createBuffer(device, 4 * chunk.rows, STORAGE_RW);
      const uniform = createBuffer(device, nearestParams.byteSize, UNIFORM | COPY_DST, new Uint8Array(nearestParams.pack({ rows: chunk.rows, k: K })));
      try {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(program.pipeline);
        pipelines.bind(pass, program, { samples: rows, centres: centreBuffer, labels, params: uniform });
        const [gx, gy] = foldWorkgroups(Math.ceil(chunk.rows / NEAREST_WG), device.limits.maxComputeWorkgroupsPerDimension);
        pass.dispatchWorkgroups(gx, gy);
        pass.end();
        const [bytes] = await core.read(encoder, [{ buffer: labels, bytes: 4 * chunk.rows }]);
        const got = new Uint32Array(bytes, 0, chunk.rows);
        for (let i = 0; i < chunk.rows; i++) {
          const j = got[i]!;
          if (j >= K) throw new DeviceError(`the nearest centres: the GPU gave centre ${j} of ${K} for sample ${chunk.base + i}`);
          out[chunk.base + i] = j;
        }
      } finally {
        rows.destroy();
        labels.destroy();
        uniform.destroy();
      }
    }
  } finally {
    centreBuffer.destroy();
  }
  return out;
}
