// The engine's kernel programs, one declaration each: WGSL files, entry point,
// the specialisation that changes the generated code, and the bindings by name.
// The pipeline cache checks these names and numbers against the WGSL's own
// declarations (host/wgsl-bindings.ts), so the host never binds by bare number.
import { STREAMS } from '../../src/math/streams.ts';
import { LANES_WG, type LanePlan } from './kernel-plan.ts';
import { type Shape, shapeConsts, updateConsts } from '../core/layout.ts';
import type { Specialisation } from '../core/specialise.ts';
import { piecewiseGramParams, piecewisePointParams } from '../core/struct-layout.ts';
import { modeParams, pairParams, scoreErrorParams, passParams, reduceParams, sampleParams, updateParams } from '../core/struct-layout.ts';

/** Where a binding sits; `when` names the flag under whose `#if` the WGSL declares it. */
export interface BindingSlot {
  readonly group: number;
  readonly binding: number;
  readonly when?: string;
}

export type Bindings<B extends string> = Readonly<Record<B, BindingSlot>>;

export interface Program<B extends string, P> {
  /** The entry point; it also names the program in errors. */
  readonly entry: string;
  readonly files: readonly string[];
  /** WGSL files that are not the engine's (shaders/), by name: a test probe's or a benchmark's kernel, which the package does not ship. */
  readonly sources?: Readonly<Record<string, string>>;
  /** Uniform struct declarations the files use (host/struct-layout.ts). */
  readonly structs: readonly string[];
  readonly bindings: Bindings<B>;
  specialise(params: P): Specialisation;
  /** Logged before a compilation that takes long enough for the user to wonder. */
  compileNote?(params: P): string | undefined;
}

export function slot(group: number, binding: number, when?: string): BindingSlot {
  return when === undefined ? { group, binding } : { group, binding, when };
}

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

/** A lane kernel's specialisation: the pass's, and how much of it is unrolled (host/kernel-plan.ts). */
export interface LaneSpec extends PassSpec {
  readonly plan: LanePlan;
}

function laneSpecialisation(p: LaneSpec): Specialisation {
  const consts = { ...shapeConsts(p.shape), WG: LANES_WG, ...(p.plan === 'centre-loop' ? { BLOCK_K: 1 } : {}) };
  return { consts, flags: { ...passFlags(p), SHARED_NORMS: p.plan === 'centre-loop', ROW_BARRIER: p.plan === 'paced' } };
}

/** From this many unrolled pairs, or coordinate blocks (d = 256, the sampler), a first compilation on SwiftShader takes 10 s or more (docs/performance.md, 'Compile times'). */
const SLOW_COMPILE_PAIRS = 384;
const SLOW_COMPILE_D4 = 64;

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

/** The EM pass with one sample per invocation, for software adapters (the lane kernel's rule, host/kernel-plan.ts). */
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

/** Invocations per workgroup of the sampler and of the pairwise distance sums. */
export const SAMPLE_WG = 64;
export const PAIR_WG = 64;

/** The sampler's specialisation: the shape, Heun's second score evaluation, unrolled loops or run-time ones. */
export interface SampleSpec {
  readonly k: number;
  readonly d: number;
  readonly d4: number;
  readonly heun: boolean;
  readonly unrolled: boolean;
}

/** sample_step.wgsl's bindings: the samples, the centres and their norms, the step table, the uniforms, the divergence flag. */
const SAMPLE_IO = {
  samples: slot(0, 0),
  centres: slot(0, 1),
  stepTable: slot(0, 2),
  params: slot(0, 3),
  status: slot(0, 4),
  centreNorms: slot(0, 5),
} as const;

const sampleConsts = (p: SampleSpec) => ({
  consts: { K: p.k, D: p.d, D4: p.d4, WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 },
  flags: { HEUN: p.heun },
});

export const sampleSteps: Program<keyof typeof SAMPLE_IO, SampleSpec> = {
  entry: 'sampleSteps',
  files: ['philox.wgsl', 'sample_run.wgsl', 'sample_step.wgsl', 'sample_loop.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: SAMPLE_IO,
  specialise: sampleConsts,
  compileNote: (p) =>
    p.unrolled && (p.d4 >= SLOW_COMPILE_D4 || p.k * p.d4 >= SLOW_COMPILE_PAIRS)
      ? `compiling the unrolled sampler for d = ${p.d}, K = ${p.k} on a software adapter: the first compilation at this size takes tens of seconds to minutes (once per process)`
      : undefined,
};

/** The N(0, I) start of every sampler run, the mixture's and the piecewise model's (it binds only `samples` and `params`). */
export const sampleStart: Program<'samples' | 'stepTable' | 'params' | 'status', SampleSpec> = {
  entry: 'sampleStart',
  files: ['philox.wgsl', 'sample_run.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: { samples: SAMPLE_IO.samples, stepTable: SAMPLE_IO.stepTable, params: SAMPLE_IO.params, status: SAMPLE_IO.status },
  // The start depends on d only (K and Heun are ignored): one pipeline for every method and score.
  specialise: (p) => ({ consts: { D: p.d, D4: p.d4, WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 }, flags: {} }),
};

/** The pairwise distance sums' specialisation (host/energy-distance.ts pairForm): d/4, the rows of B per tile, the rows of A
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

/** Invocations per workgroup of the score error's draws (one draw each). */
export const SCORE_ERROR_WG = 64;

/** The score error's per-draw e_n (host/score-error.ts): specialised on d only; K and K* are run-time values. */
export const scoreErrors: Program<'model' | 'truth' | 'errors' | 'params', { readonly d: number }> = {
  entry: 'scoreErrors',
  files: ['philox.wgsl', 'score_error.wgsl'],
  structs: [scoreErrorParams.wgsl],
  bindings: { model: slot(0, 0), truth: slot(0, 1), errors: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D: p.d, D4: Math.ceil(p.d / 4), WG: SCORE_ERROR_WG, STREAM: STREAMS.metrics }, flags: {} }),
};

/** Invocations per workgroup of the nearest-centre counts (one sample each). */
export const MODE_WG = 64;

/** The nearest-centre counts behind the mode weights (host/mode-weights.ts): specialised on d/4 only, K is a run-time value. */
export const modeCounts: Program<'samples' | 'centres' | 'partials' | 'params', { readonly d4: number }> = {
  entry: 'modeCounts',
  files: ['mode_weights.wgsl'],
  structs: [modeParams.wgsl],
  bindings: { samples: slot(0, 0), centres: slot(0, 1), partials: slot(0, 2), params: slot(0, 3) },
  specialise: (p) => ({ consts: { D4: p.d4, WG: MODE_WG }, flags: {} }),
};

/** The piecewise moments' vec4 blocks per row (shaders/piecewise_points.wgsl): phi(u) in PF4, [phi, y] padded to EW (a
 * multiple of the Gram pass's TH column blocks). */
export const PIECEWISE_TH = 4;
export function piecewiseBlocks(d: number, degree: 1 | 2): { readonly d4: number; readonly pf4: number; readonly ew: number } {
  const d4 = Math.ceil(d / 4);
  const pf4 = degree * d4 + 1;
  return { d4, pf4, ew: Math.ceil((pf4 + d4) / PIECEWISE_TH) * PIECEWISE_TH };
}

/** phi's feature f as a scalar slot of the padded row: u, then u * u (degree 2) from block D4, the constant at block PF4 - 1. */
export function piecewisePhiSlot(f: number, d: number, degree: 1 | 2): number {
  const { d4, pf4 } = piecewiseBlocks(d, degree);
  return f < d ? f : degree === 2 && f < 2 * d ? 4 * d4 + (f - d) : 4 * (pf4 - 1);
}

/** Invocations per workgroup of the piecewise passes. */
export const PIECEWISE_WG = 64;

/** The piecewise moments' specialisation: the dimension, the degree, unrolled loops over d/4 or run-time ones. */
export interface PiecewiseMomentSpec {
  readonly d: number;
  readonly degree: 1 | 2;
  readonly unrolled: boolean;
}

const piecewiseConsts = (p: PiecewiseMomentSpec) => {
  const { d4, pf4, ew } = piecewiseBlocks(p.d, p.degree);
  return { D: p.d, D4: d4, PF4: pf4, EW: ew, TH: PIECEWISE_TH, WG: PIECEWISE_WG };
};

/** Noisy points, nearest cells and the rows of the Gram pass (host/piecewise-moments.ts). */
export const piecewisePoints: Program<'data' | 'cells' | 'points' | 'assignment' | 'params', PiecewiseMomentSpec> = {
  entry: 'piecewisePoints',
  files: ['philox.wgsl', 'piecewise_cells.wgsl', 'piecewise_points.wgsl'],
  structs: [piecewisePointParams.wgsl],
  bindings: { data: slot(0, 0), cells: slot(0, 1), points: slot(0, 2), assignment: slot(0, 3), params: slot(0, 4) },
  specialise: (p) => ({
    consts: { ...piecewiseConsts(p), STREAM: STREAMS.piecewise, UNROLL: p.unrolled ? 1 : 0 },
    flags: { QUADRATIC: p.degree === 2 },
  }),
};

/** Per-segment outer-product sums of one cell's rows (host/piecewise-moments.ts); its TH-block loops are always unrolled. */
export const piecewiseGram: Program<'points' | 'order' | 'segments' | 'partials' | 'params', PiecewiseMomentSpec> = {
  entry: 'piecewiseGram',
  files: ['piecewise_gram.wgsl'],
  structs: [piecewiseGramParams.wgsl],
  bindings: { points: slot(0, 0), order: slot(0, 1), segments: slot(0, 2), partials: slot(0, 3), params: slot(0, 4) },
  specialise: (p) => ({ consts: { ...piecewiseConsts({ ...p, unrolled: true }), UNROLL: 1 }, flags: {} }),
};

/** The piecewise sampler's specialisation (host/piecewise-sampler.ts): as the moments', plus Heun's second score. */
export interface PiecewiseSampleSpec extends PiecewiseMomentSpec {
  readonly heun: boolean;
}

/** piecewise_sample.wgsl with sample_run.wgsl's bindings: the cells of every level, their coefficients, the level table. */
export const piecewiseSteps: Program<'samples' | 'cells' | 'stepTable' | 'params' | 'status' | 'coef' | 'levels', PiecewiseSampleSpec> = {
  entry: 'sampleSteps',
  files: ['philox.wgsl', 'sample_run.wgsl', 'piecewise_cells.wgsl', 'piecewise_sample.wgsl', 'sample_loop.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: { samples: slot(0, 0), cells: slot(0, 1), stepTable: slot(0, 2), params: slot(0, 3), status: slot(0, 4), coef: slot(0, 5), levels: slot(0, 6) },
  specialise: (p) => ({
    consts: { ...piecewiseConsts(p), WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 },
    flags: { HEUN: p.heun, QUADRATIC: p.degree === 2 },
  }),
};
