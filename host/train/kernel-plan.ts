// The plan of a pass over the data: which DDPM kernel a shape gets, how the rows
// split into chunks (one storage binding each), and how many workgroups each
// chunk dispatches and where they write their partials. Pure: the engine runs
// this plan, and the tests derive their summation depths from it.
import { InputError } from '../../src/errors.ts';
import type { Shape } from '../core/layout.ts';
import type { KernelKind } from '../core/kernel-kind.ts';

/** Invocations of the lane-per-sample kernel over all chunks (each writes one partial). */
const TARGET_LANES = 256;
/** Workgroup size of the lane-per-sample kernel. */
export const LANES_WG = 16;
/**
 * How the lane kernel is compiled. SwiftShader's first compilation of unrolled code grows faster than the code
 * (docs/performance.md, 'Compile times'). By the (centre, coordinate block) pairs K d/4:
 * - 'unrolled': every loop over K and d/4 unrolled, the fastest per sample; up to 384 pairs (about 10 s of
 *   compilation at 384, 20 s at 512);
 * - 'paced': the same code, with the workgroup meeting a barrier once per row. On SwiftShader this compiles
 *   the same unrolled code in 2-5 s, at 1.1-1.4x the time per sample. Up to 512 pairs at any shape, and up to
 *   1024 pairs while K <= 128 and d <= 128: at 1024 pairs with d = 256 or more, or K = 256 or more, and at 2048
 *   pairs, SwiftShader's compiler crashed the process (SIGSEGV);
 * - 'centre-loop': the loops over K become run-time loops (BLOCK_K = 1) and the half norms live in workgroup
 *   memory, so the code stops growing with K: a few seconds of compilation at any shape, 5x slower per sample
 *   than 'paced' at 64 x 64 but still 1.4-2x faster than the tiled kernel here.
 */
export const LANE_PLANS = ['unrolled', 'paced', 'centre-loop'] as const;
export type LanePlan = (typeof LANE_PLANS)[number];
export const UNROLLED_PAIRS = 384;
export const PACED_PAIRS = 512;
export const PACED_PAIRS_SMALL = 1024;
export const PACED_MAX_K = 128;
export const PACED_MAX_D4 = 32;

export function lanePlanFor(shape: Pick<Shape, 'k' | 'd4'>): LanePlan {
  const pairs = shape.k * shape.d4;
  if (pairs <= UNROLLED_PAIRS) return 'unrolled';
  if (pairs <= PACED_PAIRS || (pairs <= PACED_PAIRS_SMALL && shape.k <= PACED_MAX_K && shape.d4 <= PACED_MAX_D4)) return 'paced';
  return 'centre-loop';
}

/**
 * The plan a shape runs: the rule above, or the caller's. A forced 'unrolled' or 'paced' where the rule takes the
 * centre loop is refused: SwiftShader's compiler crashes the whole process on such code, with no error to catch.
 */
export function resolveLanePlan(shape: Pick<Shape, 'k' | 'd4'>, forced?: LanePlan): LanePlan {
  const rule = lanePlanFor(shape);
  if (forced === undefined) return rule;
  if (forced !== 'centre-loop' && rule === 'centre-loop') {
    throw new InputError(
      `lanePlan '${forced}' unrolls K x d/4 = ${shape.k} x ${shape.d4} = ${shape.k * shape.d4} (centre, block) pairs, where SwiftShader's compiler ` +
        `has crashed the process; use lanePlan 'centre-loop' or leave lanePlan unset for this shape`,
    );
  }
  return forced;
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
