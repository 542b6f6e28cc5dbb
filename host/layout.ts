// Everything the kernels' sizes derive from, computed once per (K, d) and
// device (docs/math.md section 5, matrix form; see shaders/tile.wgsl).
import { DeviceError } from '../src/errors.ts';

export interface DeviceLimits {
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
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
}

const MAX_TILE = 32;

export function shapeFor(k: number, d: number, limits: DeviceLimits, maxChunkRows = Infinity): Shape {
  const k4 = Math.ceil(k / 4);
  const d4 = Math.ceil(d / 4);
  const blocks = k4 * d4;
  // Enough threads that each owns at most a few 4 x 4 blocks of the K x d sums.
  let wg = 64;
  while (wg < blocks && wg * 2 <= Math.min(256, limits.maxComputeInvocationsPerWorkgroup)) wg *= 2;
  const blocksPerThread = Math.ceil(blocks / wg);
  const fixedBytes = 16 * k4 + 4 * wg;
  const bytesPerSample = 16 * (2 * d4 + 2 * k4);
  const tile = Math.min(MAX_TILE, Math.floor((limits.maxComputeWorkgroupStorageSize - fixedBytes) / bytesPerSample));
  const rowBytes = 16 * d4;
  const rowsPerChunk = Math.min(maxChunkRows, Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / rowBytes));
  return {
    k, d, k4, d4, wg, tile: Math.max(0, tile), blocksPerThread, partialStride4: 4 * k4 * d4 + k4 + 1, rowsPerChunk,
    workgroupBytesPerSample: fixedBytes + bytesPerSample,
  };
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
