// The training engine's programs: the DDPM and EM passes over the data (tiled and lanes), the fixed-order reduction
// and the updates, with their uniform structs.
import { type Program, slot, SLOW_COMPILE_PAIRS } from '../core/program.ts';
import { LANES_WG, type LanePlan } from './kernel-plan.ts';
import { type Shape, shapeConsts, updateConsts } from '../core/layout.ts';
import type { Specialisation } from '../core/specialise.ts';
import { defineStruct } from '../core/struct-layout.ts';

/** Per chunk of the data: the DDPM, EM and probe passes. */
export const passParams = defineStruct('PassParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['partialBase', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
  ['fixedStep', 'u32'],
  ['freshNoise', 'u32'],
  ['a', 'f32'],
  ['sigma', 'f32'],
  ['invSigma', 'f32'],
] as const);

export const reduceParams = defineStruct('ReduceParams', [['partialCount', 'u32']] as const);

export const updateParams = defineStruct('UpdateParams', [
  ['twoOverN', 'f32'],
  ['invN', 'f32'],
  ['lr', 'f32'],
  ['apply', 'u32'],
  ['radius', 'f32'],
  ['emMode', 'u32'],
] as const);

/** pass_io.wgsl: what every pass over the data reads and writes. */
export const PASS_IO = {
  data: slot(0, 0),
  centres: slot(0, 1),
  partials: slot(0, 2),
  params: slot(0, 3),
  stepState: slot(0, 4),
  noise: slot(0, 5, 'EXPLICIT_NOISE'),
} as const;
export type PassIo = keyof typeof PASS_IO;

/** The specialisation of a pass over the data. */
export interface PassSpec {
  readonly shape: Shape;
  /** Noise read from a Z matrix (binding `noise`) rather than drawn from Philox. */
  readonly explicitNoise: boolean;
  readonly subgroups: boolean;
}

/** The files before the entry point's own, in every tiled pass (DDPM, EM, probes). */
export const TILED_PASS_FILES = ['philox.wgsl', 'pass_io.wgsl', 'tile.wgsl'] as const;

const passFlags = (p: PassSpec) => ({ EXPLICIT_NOISE: p.explicitNoise, SUBGROUPS: p.subgroups });

export const ddpmTiled: Program<PassIo, PassSpec> = {
  entry: 'ddpmPass',
  files: [...TILED_PASS_FILES, 'ddpm_pass.wgsl'],
  structs: [passParams.wgsl],
  bindings: PASS_IO,
  specialise: (p) => ({ consts: shapeConsts(p.shape), flags: passFlags(p) }),
};

/** A lane kernel's specialisation: the pass's, and how much of it is unrolled (host/train/kernel-plan.ts). */
export interface LaneSpec extends PassSpec {
  readonly plan: LanePlan;
}

function laneSpecialisation(p: LaneSpec): Specialisation {
  const consts = { ...shapeConsts(p.shape), WG: LANES_WG, ...(p.plan === 'centre-loop' ? { BLOCK_K: 1 } : {}) };
  return { consts, flags: { ...passFlags(p), SHARED_NORMS: p.plan === 'centre-loop', ROW_BARRIER: p.plan === 'paced' } };
}


export const ddpmLanes: Program<PassIo, LaneSpec> = {
  entry: 'ddpmLanes',
  files: ['philox.wgsl', 'pass_io.wgsl', 'lanes_softmax.wgsl', 'ddpm_lanes.wgsl'],
  structs: [passParams.wgsl],
  bindings: PASS_IO,
  specialise: laneSpecialisation,
  compileNote: ({ shape, plan }) =>
    plan === 'unrolled' && shape.k * shape.d4 > SLOW_COMPILE_PAIRS
      ? `compiling the unrolled lane kernel for d = ${shape.d}, K = ${shape.k} on a software adapter: the first compilation at this size takes 10 to 20 s (once per process)`
      : undefined,
};

export const emPass: Program<PassIo, Omit<PassSpec, 'explicitNoise'>> = {
  entry: 'emPass',
  files: [...TILED_PASS_FILES, 'em_pass.wgsl'],
  structs: [passParams.wgsl],
  bindings: PASS_IO,
  specialise: (p) => ({ consts: shapeConsts(p.shape), flags: passFlags({ ...p, explicitNoise: false }) }),
};

/** The EM pass with one sample per invocation, for software adapters (the lane kernel's rule, host/train/kernel-plan.ts). */
export const emLanes: Program<PassIo, Omit<LaneSpec, 'explicitNoise'>> = {
  entry: 'emLanes',
  files: ['philox.wgsl', 'pass_io.wgsl', 'lanes_softmax.wgsl', 'em_lanes.wgsl'],
  structs: [passParams.wgsl],
  bindings: PASS_IO,
  specialise: (p) => laneSpecialisation({ ...p, explicitNoise: false }),
};

export const reducePartials: Program<'partials' | 'totals' | 'params', Shape> = {
  entry: 'reducePartials',
  files: ['reduce.wgsl'],
  structs: [reduceParams.wgsl],
  bindings: { partials: slot(0, 0), totals: slot(0, 1), params: slot(0, 2) },
  specialise: (shape) => ({ consts: { PARTIAL_STRIDE4: shape.partialStride4 }, flags: {} }),
};

/** update.wgsl: the reduced sums in, the centres, gradient, history and step counter out. */
const UPDATE_IO = {
  totals: slot(0, 0),
  centres: slot(0, 1),
  gradient: slot(0, 2),
  history: slot(0, 3),
  stepState: slot(0, 4),
  params: slot(0, 5),
} as const;

export const gdUpdate: Program<keyof typeof UPDATE_IO, { shape: Shape; tied: boolean; project: boolean }> = {
  entry: 'gdUpdate',
  files: ['update.wgsl'],
  structs: [updateParams.wgsl],
  bindings: UPDATE_IO,
  specialise: (p) => ({ consts: updateConsts(p.shape), flags: { TIED: p.tied, PROJECT: p.project } }),
};

export const emUpdate: Program<keyof typeof UPDATE_IO, Shape> = {
  entry: 'emUpdate',
  files: ['update.wgsl'],
  structs: [updateParams.wgsl],
  bindings: UPDATE_IO,
  specialise: (shape) => ({ consts: updateConsts(shape), flags: { TIED: false, PROJECT: false } }),
};
