// The energy distance on the GPU (docs/math.md section 11; shaders/energy_distance.wgsl):
//   D(X, Y)^2 = 2/(n m) sum ||x_i - y_j|| - 1/n^2 sum ||x_i - x_j|| - 1/m^2 sum ||y_i - y_j||  (V-statistics).
// Each all-pairs sum runs as dispatches over (row block of A) x (segment of B); every workgroup writes one
// float32 partial and the host adds them in float64 in dispatch order, so the result is deterministic.
// Both sets are split into chunks that fit one storage binding. The kernel's form follows the adapter, as the
// DDPM kernel's does (host/train/kernel-plan.ts): workgroup tiles on GPUs, rows read from storage on software adapters.
import { DeviceError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { checkSampleSets } from './checks.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { chunkBytes, type ChunkRows, chunkRows } from '../../host/core/layout.ts';
import { type KernelKind } from '../../host/core/kernel-kind.ts';
import type { DeviceLimits } from '../../host/core/layout.ts';
import type { PipelineCache } from '../../host/core/pipelines.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';

/** Per dispatch of the pairwise distance sums (shaders/energy_distance.wgsl). */
export const pairParams = defineStruct('PairParams', [
  ['rowsA', 'u32'],
  ['rowsB', 'u32'],
  ['firstRowA', 'u32'],
  ['blocks', 'u32'],
  ['segments', 'u32'],
  ['segmentRows', 'u32'],
  ['partialBase', 'u32'],
] as const);

/** Invocations per workgroup of the pairwise distance sums. */
export const PAIR_WG = 64;

/** The pairwise distance sums' specialisation (src/metrics/gpu-energy-distance.ts pairForm): d/4, the rows of B per tile, the rows of A
 * per invocation, B through workgroup memory or straight from storage, unrolled or run-time loops over d/4. */
export interface PairSpec {
  readonly d4: number;
  readonly tile: number;
  readonly rows: number;
  readonly tiled: boolean;
  readonly unrolled: boolean;
}

export const pairDistanceSums: Program<'rowsA' | 'rowsB' | 'partials' | 'params', PairSpec> = {
  entry: 'pairDistanceSums',
  files: ['energy_distance.wgsl'],
  structs: [pairParams.wgsl],
  bindings: { rowsA: slot(0, 0), rowsB: slot(0, 1), partials: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D4: p.d4, TB: p.tile, WG: PAIR_WG, ROWS: p.rows, UNROLL: p.unrolled ? 1 : 0 }, flags: { TILED: p.tiled } }),
};

/** Rows of B per tile in workgroup memory, at most. */
const MAX_TILE = 64;
/** Rows of B one invocation walks per partial, at most: it bounds a float32 chain's length (and its rounding). */
export const MAX_SEGMENT_ROWS = 1024;
/** Workgroups per dispatch worth splitting B into segments for, to fill a GPU when A has few rows. */
const TARGET_GROUPS = 1024;
/** Partials per read-back: the host adds them in float64 before the next batch. */
const PARTIALS_PER_READ = 2 ** 18;

/** Rows of A per invocation on software adapters, at most: each row of B read from memory serves this many pairs. */
const SOFTWARE_ROWS = 8;
/** Unrolled (row, coordinate block) pairs of the software form, at most: ROWS x d/4, so that the compilation stays short. */
const UNROLLED_BLOCKS = 128;

/**
 * The kernel for d/4 on an adapter whose DDPM kernel is `kind` (host/train/kernel-plan.ts) and its chunks. 'tiled' (GPUs): B
 * through workgroup memory, one row of A per invocation, run-time loops. 'lanes' (software adapters): B read from
 * storage (a workgroup-memory load at a run-time index is a per-lane gather there), up to SOFTWARE_ROWS rows of A per
 * invocation, loops over d/4 unrolled (constant indices) up to d = 512.
 */
export function pairForm(kind: KernelKind, d: number, limits: DeviceLimits, maxChunkRows = Infinity): PairSpec & { readonly rowsPerChunk: number } {
  const d4 = Math.ceil(d / 4);
  const tiled = kind === 'tiled';
  const fits = Math.floor((limits.maxComputeWorkgroupStorageSize - 4 * PAIR_WG) / (16 * d4));
  if (tiled && fits < 1) {
    throw new DeviceError(
      `the energy distance in d = ${d} needs ${16 * d4 + 4 * PAIR_WG} bytes of workgroup memory for one row, but this device allows ` +
        `${limits.maxComputeWorkgroupStorageSize}: reduce d (for example by PCA) or use --backend cpu`,
    );
  }
  const rowsPerChunk = Math.min(maxChunkRows, Math.floor(chunkBytes(limits) / (16 * d4)));
  return {
    d4,
    tile: tiled ? Math.min(MAX_TILE, fits) : MAX_TILE,
    rows: tiled ? 1 : Math.max(1, Math.min(SOFTWARE_ROWS, Math.floor(UNROLLED_BLOCKS / d4))),
    tiled,
    unrolled: !tiled && d4 <= UNROLLED_BLOCKS,
    rowsPerChunk,
  };
}

export interface Segments {
  readonly segmentRows: number;
  readonly segments: number;
}

/** B's rows split into segments of whole tiles: enough workgroups to fill a GPU, none longer than MAX_SEGMENT_ROWS (or one tile). */
export function segmentPlan(rowsA: number, rowsB: number, form: PairSpec): Segments {
  const blocks = Math.ceil(rowsA / (PAIR_WG * form.rows));
  const tiles = Math.ceil(rowsB / form.tile);
  const wanted = Math.max(Math.ceil(rowsB / MAX_SEGMENT_ROWS), Math.min(Math.ceil(TARGET_GROUPS / blocks), tiles));
  const segmentRows = form.tile * Math.ceil(tiles / wanted);
  return { segmentRows, segments: Math.ceil(rowsB / segmentRows) };
}

export interface PairContext {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly maxChunkRows: number;
  /** The DDPM kernel this adapter runs (host/train/kernel-plan.ts): the pair kernel takes the same form. */
  readonly kind: KernelKind;
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

interface Chunk extends ChunkRows {
  readonly buffer: GPUBuffer;
}

/** The energy distance of the rows of x and of y (the Backend's `energyDistance`). */
export async function energyDistanceOnGpu(ctx: PairContext, x: Matrix, y: Matrix): Promise<number> {
  checkSampleSets(x, y);
  const form = pairForm(ctx.kind, x.cols, ctx.device.limits, ctx.maxChunkRows);
  const upload = (m: Matrix): Chunk[] =>
    chunkRows(m.rows, form.rowsPerChunk).map((c) => ({ ...c, buffer: createBuffer(ctx.device, 16 * form.d4 * c.rows, STORAGE_RW, padRows(m, c.base, c.rows, form.d4)) }));
  const xs = upload(x);
  const ys = upload(y);
  const partials = createBuffer(ctx.device, 4 * PARTIALS_PER_READ, STORAGE_RW);
  try {
    const sum = (a: Chunk[], b: Chunk[]) => pairSum(ctx, form, a, b, partials);
    const n = x.rows;
    const m = y.rows;
    const squared = (2 * (await sum(xs, ys))) / (n * m) - (await sum(xs, xs)) / (n * n) - (await sum(ys, ys)) / (m * m);
    // The V-statistic is >= 0 (the distance is a conditionally negative definite kernel): a negative is rounding.
    return Math.sqrt(Math.max(0, squared));
  } finally {
    for (const c of [...xs, ...ys]) c.buffer.destroy();
    partials.destroy();
  }
}

/** sum_ij ||a_i - b_j|| over every pair of chunks, in float64 from the float32 partials, in a fixed order. */
async function pairSum(ctx: PairContext, form: PairSpec, as: Chunk[], bs: Chunk[], partials: GPUBuffer): Promise<number> {
  const { device, pipelines } = ctx;
  const { d4, tile, rows, tiled, unrolled } = form;
  const program = pipelines.get(pairDistanceSums, { d4, tile, rows, tiled, unrolled });
  let total = 0;
  let batch: { readonly encoder: GPUCommandEncoder; readonly pass: GPUComputePassEncoder; used: number; uniforms: GPUBuffer[] } | undefined;
  const flush = async (): Promise<void> => {
    if (!batch) return;
    const { encoder, pass, used, uniforms } = batch;
    batch = undefined;
    pass.end();
    try {
      const [bytes] = await ctx.read(encoder, [{ buffer: partials, bytes: 4 * used }]);
      for (const p of new Float32Array(bytes, 0, used)) total += p;
    } finally {
      uniforms.forEach((u) => u.destroy());
    }
  };
  for (const a of as) {
    for (const b of bs) {
      const { segmentRows, segments } = segmentPlan(a.rows, b.rows, form);
      const blocks = Math.ceil(a.rows / (PAIR_WG * rows));
      // segments <= rows of B / MAX_SEGMENT_ROWS + TARGET_GROUPS, far below PARTIALS_PER_READ for any binding of 2^32 bytes.
      if (segments > PARTIALS_PER_READ) throw new DeviceError(`a chunk of ${b.rows} rows needs ${segments} partials per row block, over ${PARTIALS_PER_READ}`);
      const blocksPerDispatch = Math.floor(PARTIALS_PER_READ / segments);
      for (let block = 0; block < blocks; block += blocksPerDispatch) {
        const count = Math.min(blocksPerDispatch, blocks - block);
        if (batch && batch.used + count * segments > PARTIALS_PER_READ) await flush();
        if (!batch) {
          const encoder = device.createCommandEncoder();
          batch = { encoder, pass: encoder.beginComputePass(), used: 0, uniforms: [] };
        }
        const values = { rowsA: a.rows, rowsB: b.rows, firstRowA: block * PAIR_WG * rows, blocks: count, segments, segmentRows, partialBase: batch.used };
        const uniform = createBuffer(device, pairParams.byteSize, UNIFORM | COPY_DST, new Uint8Array(pairParams.pack(values)));
        batch.uniforms.push(uniform);
        batch.pass.setPipeline(program.pipeline);
        pipelines.bind(batch.pass, program, { rowsA: a.buffer, rowsB: b.buffer, partials, params: uniform });
        const [gx, gy] = foldWorkgroups(count * segments, device.limits.maxComputeWorkgroupsPerDimension);
        batch.pass.dispatchWorkgroups(gx, gy);
        batch.used += count * segments;
      }
    }
  }
  await flush();
  return total;
}
