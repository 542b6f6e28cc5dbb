// The plan of a pass over the data: which DDPM kernel a shape gets, how the rows
// split into chunks (one storage binding each), and how many workgroups each
// chunk dispatches and where they write their partials. Pure: the engine runs
// this plan, and the tests derive their summation depths from it.
import { InputError } from '../src/errors.ts';
import type { Shape } from './layout.ts';

/** 'tiled' (workgroup tiles, for GPUs), 'lanes' (one sample per invocation, unrolled, for software adapters), or 'auto'. */
export type DdpmKernel = 'auto' | 'tiled' | 'lanes';
export type KernelKind = Exclude<DdpmKernel, 'auto'>;

/** Invocations of the lane-per-sample kernel over all chunks (each writes one partial). */
const TARGET_LANES = 256;
/** Workgroup size of the lane-per-sample kernel. */
export const LANES_WG = 16;
/** Most unrolled (centre, coordinate block) pairs K d/4 of the lane kernel: above it SwiftShader's compiler has crashed the process (docs/kernels.md, 'The shader files'). */
export const MAX_UNROLLED_PAIRS = 512;

/** The lane kernel on software adapters unless its unrolled code would be too large (see ddpm_lanes.wgsl). */
export function kernelFor(shape: Shape, choice: DdpmKernel, isSoftware: boolean): KernelKind {
  const pairs = shape.k * shape.d4;
  if (choice === 'lanes' && pairs > MAX_UNROLLED_PAIRS) {
    throw new InputError(
      `the lane kernel unrolls K x d/4 = ${shape.k} x ${shape.d4} = ${pairs} (centre, block) pairs, over its limit of ${MAX_UNROLLED_PAIRS} ` +
        `(SwiftShader's compiler crashes above it); use kernel 'auto' or 'tiled' for this shape`,
    );
  }
  if (choice !== 'auto') return choice;
  return isSoftware && pairs <= MAX_UNROLLED_PAIRS ? 'lanes' : 'tiled';
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
