// The plan of a pass over the data: which DDPM kernel a shape gets, how the rows
// split into chunks (one storage binding each), and how many workgroups each
// chunk dispatches and where they write their partials. Pure: the engine runs
// this plan, and the tests derive their summation depths from it.
import { DeviceError, InputError } from '../../src/errors.ts';
import { MAX_PRIVATE_ARRAY_BYTES, type Shape } from '../core/layout.ts';
import type { KernelKind } from '../core/kernel-kind.ts';

/** Invocations of the lane-per-sample kernel over all chunks (each writes one partial). */
const TARGET_LANES = 256;
/** Workgroup size of the lane-per-sample kernel. */
export const LANES_WG = 16;
/**
 * How the lane kernel is compiled. SwiftShader's first compilation of unrolled code grows faster than the code,
 * so the plan goes by the (centre, coordinate block) pairs K d/4 (figures: docs/performance.md, 'Compile times'):
 * - 'unrolled': every loop over K and d/4 unrolled, the fastest per sample; only while its first compilation
 *   stays short;
 * - 'paced': the same code, with the workgroup meeting a barrier once per row, which SwiftShader compiles far
 *   faster for a small cost per sample (docs/decisions/2026-11-25-paced-lane-plan.md). Up to 512 pairs at any
 *   shape, and up to 1024 pairs while K <= 128 and d <= 128, the shapes SwiftShader's compiler is known to take
 *   (the decision record above);
 * - 'centre-loop': the loops over K become run-time loops (BLOCK_K = 1) and the half norms live in workgroup
 *   memory, so the code stops growing with K and compiles quickly at any shape; slower per sample than 'paced',
 *   it still beats the tiled kernel on software adapters.
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

// A lane invocation keeps its running sums, KP x D4 vec4 (ddpm_lanes, em_lanes, student_lanes.wgsl), in one array.
export { MAX_PRIVATE_ARRAY_BYTES };

/** Bytes of a lane invocation's largest private array at this shape: its KP x D4 vec4 sums. */
export function lanePrivateBytes(shape: Pick<Shape, 'k' | 'd4'>): number {
  return 16 * 4 * Math.ceil(shape.k / 4) * shape.d4;
}

/**
 * The plan a shape runs: the rule above, or the caller's. A forced 'unrolled' or 'paced' where the rule takes the
 * centre loop is refused: SwiftShader's compiler crashes the whole process on such code, with no error to catch.
 * A shape whose sums exceed MAX_PRIVATE_ARRAY_BYTES is refused up front with a DeviceError naming the limit.
 */
export function resolveLanePlan(shape: Pick<Shape, 'k' | 'd4'>, forced?: LanePlan): LanePlan {
  const bytes = lanePrivateBytes(shape);
  if (bytes > MAX_PRIVATE_ARRAY_BYTES) {
    throw new DeviceError(
      `K = ${shape.k} and d = ${4 * shape.d4} (padded) need ${bytes} bytes of running sums in each invocation of the GPU's lane kernel, ` +
        `over the ${MAX_PRIVATE_ARRAY_BYTES} bytes WebGPU's shader compiler allows one private array (K d <= ${MAX_PRIVATE_ARRAY_BYTES / 16} with K and d rounded up to multiples of 4): ` +
        'use --backend cpu (the float64 reference), or reduce d (for example by PCA) or K.',
    );
  }
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
