// Everything the kernels' sizes derive from, computed once per (K, d) and
// device (docs/math.md section 5, matrix form; see shaders/tile.wgsl).
import { DeviceError, InputError } from '../../src/errors.ts';

export interface DeviceLimits {
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  /** WebGPU's default (256) when absent. */
  readonly maxComputeWorkgroupSizeX?: number;
}

/** The tiled kernel's knobs, chosen per adapter and shape class by host/tune/autotune.ts (default: shapeFor's own choice). */
export interface TileConfig {
  /** Samples per tile held in workgroup memory. */
  readonly tile: number;
  /** Invocations per workgroup; each owns ceil(K4 D4 / wg) 4 x 4 blocks of the sums. */
  readonly wg: number;
  /** Workgroups per pass over all chunks, at most (default DEFAULT_GROUPS). */
  readonly groups?: number;
}

export interface Shape {
  /** Components as stored on the GPU (2 when tied). */
  readonly k: number;
  readonly d: number;
  readonly k4: number;
  readonly d4: number;
  /** Workgroup size of the passes. */
  readonly wg: number;
  /** Samples per tile held in workgroup memory. */
  readonly tile: number;
  /** 4 x 4 output blocks per thread. */
  readonly blocksPerThread: number;
  /** Length of one workgroup's partial, in vec4: KP x D4 sums, K4 column sums, 1 loss. */
  readonly partialStride4: number;
  /** Rows of data per storage binding (chunk). */
  readonly rowsPerChunk: number;
  /** Workgroup memory the tiled passes need for one sample (tile = 0 when even one does not fit). */
  readonly workgroupBytesPerSample: number;
  /** Workgroups per pass over all chunks, at most (host/train/kernel-plan.ts partialPlan). */
  readonly groups: number;
}

const MAX_TILE = 32;
/** Enough workgroups to fill a GPU, few enough that the reduction is cheap. */
export const DEFAULT_GROUPS = 1024;
/** Largest tile a TileConfig may ask for: the loops over a tile's samples are run-time loops, so this only bounds the search. */
export const MAX_CONFIG_TILE = 256;

/** Workgroup memory of the tiled passes (tile.wgsl): the half norms and the reduction scratch, then per sample xs, rs, ws, cs. */
function workgroupBytes(k4: number, d4: number, wg: number): { fixed: number; perSample: number } {
  return { fixed: 16 * k4 + 4 * wg, perSample: 16 * (2 * d4 + 2 * k4) };
}

/**
 * The largest function-scope array Dawn's shader compiler accepts, in bytes ("result type size exceeds maximum
 * allowed"): a kernel whose private arrays are larger is refused before its pipeline is built.
 */
export const MAX_PRIVATE_ARRAY_BYTES = 65536;

/** Refuses a kernel whose largest private array (`bytes`, named by `what`) exceeds MAX_PRIVATE_ARRAY_BYTES, naming `fix`. */
export function requirePrivateArray(bytes: number, what: string, fix: string): void {
  if (bytes > MAX_PRIVATE_ARRAY_BYTES) {
    throw new DeviceError(`${what} needs ${bytes} bytes in one private array of each GPU invocation, over the ${MAX_PRIVATE_ARRAY_BYTES} bytes WebGPU's shader compiler allows: ${fix}`);
  }
}

/** WebGPU's default maxBufferSize: every device allocates a buffer this large. */
export const DEFAULT_MAX_BUFFER_BYTES = 256 * 1024 * 1024;

/**
 * The most bytes one chunk of rows takes (one buffer, one binding): the device's binding and buffer limits, capped at
 * DEFAULT_MAX_BUFFER_BYTES, since a driver may refuse one allocation near its advertised limit (Vulkan promises
 * only maxMemoryAllocationSize) where smaller buffers of the same total fit.
 */
export function chunkBytes(limits: Pick<DeviceLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): number {
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, DEFAULT_MAX_BUFFER_BYTES);
}

/** The sizes of (K, d) on this device: the default tile and workgroup, or `config`'s (an InputError when it does not fit). */
export function shapeFor(k: number, d: number, limits: DeviceLimits, maxChunkRows = Infinity, config?: TileConfig): Shape {
  const k4 = Math.ceil(k / 4);
  const d4 = Math.ceil(d / 4);
  const blocks = k4 * d4;
  const problem = config && tileConfigProblem(k, d, limits, config);
  if (problem) throw new InputError(problem);
  // Enough threads that each owns at most a few 4 x 4 blocks of the K x d sums.
  let wg = 64;
  while (wg < blocks && wg * 2 <= Math.min(256, limits.maxComputeInvocationsPerWorkgroup)) wg *= 2;
  if (config) wg = config.wg;
  const blocksPerThread = Math.ceil(blocks / wg);
  const bytes = workgroupBytes(k4, d4, wg);
  const tile = config ? config.tile : Math.min(MAX_TILE, Math.floor((limits.maxComputeWorkgroupStorageSize - bytes.fixed) / bytes.perSample));
  const rowBytes = 16 * d4;
  const rowsPerChunk = Math.min(maxChunkRows, Math.floor(chunkBytes(limits) / rowBytes));
  return {
    k, d, k4, d4, wg, tile: Math.max(0, tile), blocksPerThread, partialStride4: 4 * k4 * d4 + k4 + 1, rowsPerChunk,
    workgroupBytesPerSample: bytes.fixed + bytes.perSample, groups: config?.groups ?? DEFAULT_GROUPS,
  };
}

/** Why `config` cannot run (K, d) on this device, or undefined when it can: every candidate passes this before it is timed or used. */
export function tileConfigProblem(k: number, d: number, limits: DeviceLimits, config: TileConfig): string | undefined {
  const { tile, wg, groups = DEFAULT_GROUPS } = config;
  const whole = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  const maxWg = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX ?? 256);
  if (!whole(tile, 1, MAX_CONFIG_TILE)) return `tile ${tile} is not a whole number of samples from 1 to ${MAX_CONFIG_TILE}`;
  if (!whole(wg, 1, maxWg)) return `workgroup size ${wg} is not a whole number from 1 to this device's ${maxWg} invocations per workgroup`;
  if (!whole(groups, 1, 2 ** 24)) return `groups ${groups} is not a whole number of workgroups from 1 to 2^24`;
  const k4 = Math.ceil(k / 4);
  const d4 = Math.ceil(d / 4);
  const bytes = workgroupBytes(k4, d4, wg);
  const need = bytes.fixed + tile * bytes.perSample;
  if (need > limits.maxComputeWorkgroupStorageSize) {
    return `tile ${tile} with workgroup size ${wg} needs ${need} bytes of workgroup memory at K = ${k}, d = ${d}, but this device allows ${limits.maxComputeWorkgroupStorageSize}`;
  }
  const partialBytes = groups * 16 * (4 * k4 * d4 + k4 + 1);
  const maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (partialBytes > maxBinding) return `${groups} workgroups write ${partialBytes} bytes of partial sums at K = ${k}, d = ${d}, over this device's ${maxBinding}-byte binding`;
  return undefined;
}

/** The tiled passes (tiled DDPM, EM, probes) hold at least one sample in workgroup memory. */
export function requireTile(s: Shape, limits: DeviceLimits): void {
  if (s.tile < 1) {
    throw new DeviceError(
      `K = ${s.k} and d = ${s.d} need ${s.workgroupBytesPerSample} bytes of workgroup memory for one sample, ` +
        `but this device allows ${limits.maxComputeWorkgroupStorageSize}: reduce d (for example by PCA) or use --backend cpu.`,
    );
  }
}

export function shapeConsts(s: Shape): Record<string, number> {
  return {
    K: s.k,
    K4: s.k4,
    KP: 4 * s.k4,
    D: s.d,
    D4: s.d4,
    WG: s.wg,
    T: s.tile,
    BPT: s.blocksPerThread,
    PARTIAL_STRIDE4: s.partialStride4,
    UPDATE_WG: 64,
  };
}

/** The update kernels' constants: the tiled pass's tile and workgroup sizes left out, so that autotuner candidates share one update pipeline. */
export function updateConsts(s: Shape): Record<string, number> {
  const { T: _t, WG: _wg, BPT: _bpt, ...rest } = shapeConsts(s);
  return rest;
}

export interface ChunkRows {
  readonly rows: number;
  /** Index of the chunk's first row in the whole data. */
  readonly base: number;
}

/** The data's rows split into chunks of at most rowsPerChunk. */
export function chunkRows(rows: number, rowsPerChunk: number): ChunkRows[] {
  const chunks: ChunkRows[] = [];
  for (let base = 0; base < rows; base += rowsPerChunk) chunks.push({ rows: Math.min(rowsPerChunk, rows - base), base });
  return chunks;
}
