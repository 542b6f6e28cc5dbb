// The mode weights on the GPU (src/metrics/cpu.ts modeWeights; shaders/mode_weights.wgsl): each sample's
// nearest true centre in float32, counted per workgroup into u32 partials that the host adds exactly, in a fixed
// order, so the counts are deterministic. Samples are split into chunks that fit one storage binding.
import { DeviceError } from '../errors.ts';
import type { ModeWeights } from './capability.ts';
import type { Matrix } from '../types.ts';
import { checkSampleSets } from './checks.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { chunkBytes, chunkRows } from '../../host/core/layout.ts';
import type { PipelineCache } from '../../host/core/pipelines.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';

/** Per dispatch of the nearest-centre counts behind the mode weights (shaders/mode_weights.wgsl). */
export const modeParams = defineStruct('ModeParams', [
  ['rows', 'u32'],
  ['k', 'u32'],
  ['firstRow', 'u32'],
  ['groups', 'u32'],
] as const);

/** Invocations per workgroup of the nearest-centre counts (one sample each). */
export const MODE_WG = 64;

/** The nearest-centre counts behind the mode weights (src/metrics/gpu-mode-weights.ts): specialised on d/4 only, K is a run-time value. */
export const modeCounts: Program<'samples' | 'centres' | 'partials' | 'params', { readonly d4: number }> = {
  entry: 'modeCounts',
  files: ['centre_search.wgsl', 'mode_weights.wgsl'],
  structs: [modeParams.wgsl],
  bindings: { samples: slot(0, 0), centres: slot(0, 1), partials: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D4: p.d4, WG: MODE_WG }, flags: {} }),
};

/** u32 counts per read-back, at most (K per workgroup). */
const PARTIALS_PER_READ = 2 ** 20;

export interface ModeContext {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly maxChunkRows: number;
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

/** The share of the samples nearest each true centre and the largest |w_j - 1/K| (the Backend's `modeWeights`). */
export async function modeWeightsOnGpu(ctx: ModeContext, samples: Matrix, trueCentres: Matrix): Promise<ModeWeights> {
  checkSampleSets(samples, trueCentres, 'the mode weights');
  const { device, pipelines } = ctx;
  const K = trueCentres.rows;
  const d4 = Math.ceil(samples.cols / 4);
  const binding = chunkBytes(device.limits);
  if (16 * d4 * K > binding) throw new DeviceError(`the mode weights: ${K} centres in d = ${samples.cols} need ${16 * d4 * K} bytes, over one storage binding (${binding})`);
  if (K > PARTIALS_PER_READ) throw new DeviceError(`the mode weights: K = ${K} centres is over ${PARTIALS_PER_READ}; use --backend cpu`);
  const rowsPerChunk = Math.min(ctx.maxChunkRows, Math.floor(binding / (16 * d4)));
  const groupsPerRead = Math.floor(PARTIALS_PER_READ / K);
  const program = pipelines.get(modeCounts, { d4 });
  const centres = createBuffer(device, 16 * d4 * K, STORAGE_RW, padRows(trueCentres, 0, K, d4));
  const partials = createBuffer(device, 4 * K * groupsPerRead, STORAGE_RW);
  const counts = new Float64Array(K);
  try {
    for (const chunk of chunkRows(samples.rows, rowsPerChunk)) {
      const rows = createBuffer(device, 16 * d4 * chunk.rows, STORAGE_RW, padRows(samples, chunk.base, chunk.rows, d4));
      try {
        const groupsInChunk = Math.ceil(chunk.rows / MODE_WG);
        for (let first = 0; first < groupsInChunk; first += groupsPerRead) {
          const groups = Math.min(groupsPerRead, groupsInChunk - first);
          const values = { rows: chunk.rows, k: K, firstRow: first * MODE_WG, groups };
          const uniform = createBuffer(device, modeParams.byteSize, UNIFORM | COPY_DST, new Uint8Array(modeParams.pack(values)));
          try {
            const encoder = device.createCommandEncoder();
            const pass = encoder.beginComputePass();
            pass.setPipeline(program.pipeline);
            pipelines.bind(pass, program, { samples: rows, centres, partials, params: uniform });
            const [gx, gy] = foldWorkgroups(groups, device.limits.maxComputeWorkgroupsPerDimension);
            pass.dispatchWorkgroups(gx, gy);
            pass.end();
            const [bytes] = await ctx.read(encoder, [{ buffer: partials, bytes: 4 * K * groups }]);
            const got = new Uint32Array(bytes, 0, K * groups);
            for (let g = 0; g < groups; g++) for (let j = 0; j < K; j++) counts[j] = counts[j]! + got[g * K + j]!;
          } finally {
            uniform.destroy();
          }
        }
      } finally {
        rows.destroy();
      }
    }
  } finally {
    centres.destroy();
    partials.destroy();
  }
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== samples.rows) throw new DeviceError(`the mode weights: the GPU counted ${total} samples of ${samples.rows}`);
  const weights = Array.from(counts, (c) => c / samples.rows);
  const maxDeviation = Math.max(...weights.map((w) => Math.abs(w - 1 / K)));
  return { weights, maxDeviation };
}
