// The plan of a pass over the data: which DDPM kernel a shape gets, how the rows
// split into chunks (one storage binding each), and how many workgroups each
// chunk dispatches and where they write their partials. Pure: the engine runs
// this plan, and the tests derive their summation depths from it.
import type { Shape } from './layout.ts';

/** 'tiled' (workgroup tiles, for GPUs), 'lanes' (one sample per invocation, unrolled, for software adapters), or 'auto'. */
export type DdpmKernel = 'auto' | 'tiled' | 'lanes';
export type KernelKind = Exclude<DdpmKernel, 'auto'>;

/** Invocations of the lane-per-sample kernel over all chunks (each writes one partial). */
const TARGET_LANES = 256;
/** Workgroup size of the lane-per-sample kernel. */
export const LANES_WG = 16;
/**
 * How much of the lane kernel is unrolled. SwiftShader's first compilation grows faster than the unrolled code, and
 * what makes it shorter also makes the code slower (docs/performance.md, 'Compile times'). By the (centre,
 * coordinate block) pairs K d/4:
 * - 'unrolled': every loop over K and d/4 unrolled, the fastest per sample; up to 384 pairs, and up to 512 while
 *   d <= 256 (about 20 s of compilation at 512 pairs, for 3x less time per sample than the plans below);
 * - 'shared-norms': the same with the half norms ||m_j||^2/2 in workgroup memory, up to 512 pairs at larger d
 *   (tied d = 1024: 8-9 s of compilation instead of 25 s, 1.2-1.4x the time per sample);
 * - 'centre-loop': the loops over K become run-time loops (BLOCK_K = 1), so the code stops growing with K: about
 *   2 s of compilation above 512 pairs, at 1.4-2x the tiled kernel's speed here.
 */
export const LANE_PLANS = ['unrolled', 'shared-norms', 'centre-loop'] as const;
export type LanePlan = (typeof LANE_PLANS)[number];
export const UNROLLED_PAIRS = 384;
export const UNROLLED_PAIRS_SMALL_D = 512;
export const SMALL_D4 = 64;
export const SHARED_NORM_PAIRS = 512;

export function lanePlanFor(shape: Shape): LanePlan {
  const pairs = shape.k * shape.d4;
  if (pairs <= UNROLLED_PAIRS || (pairs <= UNROLLED_PAIRS_SMALL_D && shape.d4 <= SMALL_D4)) return 'unrolled';
  return pairs <= SHARED_NORM_PAIRS ? 'shared-norms' : 'centre-loop';
}

/** The samplers, the score error and the piecewise passes unroll their loops over K and d/4 on software adapters up to this K d/4. */
export const MAX_UNROLLED_SAMPLER_PAIRS = 512;

/** The lane kernel on software adapters (at every shape, by its plan above); the tiled kernel on GPUs. */
export function kernelFor(choice: DdpmKernel, isSoftware: boolean): KernelKind {
  if (choice !== 'auto') return choice;
  return isSoftware ? 'lanes' : 'tiled';
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

/** Where each chunk's workgroups write their partials, for the DDPM pass and the EM pass (both tiled, or both lanes). */
export interface PartialPlan {
  readonly chunkGroups: number[];
  readonly partialBases: number[];
  readonly partialCount: number;
  readonly chunkEmGroups: number[];
  readonly emPartialBases: number[];
  readonly emPartialCount: number;
}

export function partialPlan(chunks: readonly { rows: number }[], shape: Shape, kernel: KernelKind): PartialPlan {
  const tiledGroups = chunks.map((c) => Math.max(1, Math.min(Math.ceil(c.rows / Math.max(1, shape.tile)), Math.ceil(shape.groups / chunks.length), 65535)));
  const laneGroups = chunks.map((c) => Math.max(1, Math.min(Math.ceil(c.rows / LANES_WG), Math.ceil(TARGET_LANES / LANES_WG / chunks.length))));
  const chunkGroups = kernel === 'lanes' ? laneGroups : tiledGroups;
  const partialsPerGroup = kernel === 'lanes' ? LANES_WG : 1;
  const prefix = (xs: number[]) => xs.map((_, i) => xs.slice(0, i).reduce((a, b) => a + b, 0));
  const partials = chunkGroups.map((g) => g * partialsPerGroup);
  return {
    chunkGroups,
    partialBases: prefix(partials),
    partialCount: partials.reduce((a, b) => a + b, 0),
    chunkEmGroups: chunkGroups,
    emPartialBases: prefix(partials),
    emPartialCount: partials.reduce((a, b) => a + b, 0),
  };
}
