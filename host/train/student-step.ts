// The general student's GPU step (docs/math.md section 14): its programs (the lane pass student_lanes.wgsl, the
// fixed-order reduction, the update student_update.wgsl), the buffers it adds to a shape's (its variances and
// weights, their precisions and log-constants, its larger partials), and the dispatches of one step.
import { createBuffer, STORAGE_RW } from '../core/buffers.ts';
import { foldWorkgroups } from '../core/dispatch.ts';
import { type Shape, shapeConsts, updateConsts } from '../core/layout.ts';
import { type Program, slot } from '../core/program.ts';
import { defineStruct } from '../core/struct-layout.ts';
import { COPY_DST, UNIFORM } from '../core/usage.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { floorGamma, GAMMA_TRUST, lowestGamma, M_TRUST, varianceColumns, VARIANCE_FLOOR, WEIGHT_FLOOR, type StudentParams } from '../../src/training/student.ts';
import { LANES_WG, partialPlan } from './kernel-plan.ts';
import { PASS_IO, type PassIo, passParams, reduceParams, reducePartials } from './programs.ts';
import type { DataChunk, ShapeResources } from './resources.ts';
import type { StepContext } from './step-encoding.ts';

export const studentUpdateParams = defineStruct('StudentUpdateParams', [
  ['twoOverN', 'f32'],
  ['invN', 'f32'],
  ['lr', 'f32'],
  ['apply', 'u32'],
  ['a2', 'f32'],
  ['sigma2', 'f32'],
  ['varianceFloor', 'f32'],
  ['logWeightFloor', 'f32'],
  ['betaLr', 'f32'],
  ['gammaTrust', 'f32'],
  ['gammaMin', 'f32'],
  ['mTrust', 'f32'],
] as const);

/** vec4 per partial: the K x d sums in m and in v, the K column sums of h, the loss. */
export function studentStride4(shape: Shape): number {
  return 2 * 4 * shape.k4 * shape.d4 + shape.k4 + 1;
}

const STUDENT_PASS_IO = { ...PASS_IO, precisions: slot(0, 6), logConst: slot(0, 7) } as const;

export interface StudentPassSpec {
  readonly shape: Shape;
  readonly explicitNoise: boolean;
}

export const studentLanes: Program<keyof typeof STUDENT_PASS_IO, StudentPassSpec> = {
  entry: 'studentLanes',
  files: ['philox.wgsl', 'pass_io.wgsl', 'student_lanes.wgsl'],
  structs: [passParams.wgsl],
  bindings: STUDENT_PASS_IO,
  specialise: (p) => ({
    consts: { ...shapeConsts(p.shape), WG: LANES_WG, STUDENT_STRIDE4: studentStride4(p.shape) },
    flags: { EXPLICIT_NOISE: p.explicitNoise },
  }),
};

const STUDENT_UPDATE_IO = {
  totals: slot(0, 0), centres: slot(0, 1), gradient: slot(0, 2), history: slot(0, 3), stepState: slot(0, 4), params: slot(0, 5),
  gamma: slot(0, 6), beta: slot(0, 7), precisions: slot(0, 8), logConst: slot(0, 9), studentGradient: slot(0, 10),
} as const;

export const studentUpdate: Program<keyof typeof STUDENT_UPDATE_IO, { shape: Shape; cols: number; learnWeights: boolean }> = {
  entry: 'studentUpdate',
  files: ['student_update.wgsl'],
  structs: [studentUpdateParams.wgsl],
  bindings: STUDENT_UPDATE_IO,
  specialise: (p) => ({ consts: { ...updateConsts(p.shape), COLS: p.cols }, flags: { LEARN_WEIGHTS: p.learnWeights } }),
};

/** student_update.wgsl's deriveStudent alone: the precisions and log-constants of the uploaded gamma and beta (bind only those). */
export const studentPrepare: Program<keyof typeof STUDENT_UPDATE_IO, { shape: Shape; cols: number; learnWeights: boolean }> = { ...studentUpdate, entry: 'studentPrepare' };

/** The buffers the general student adds to a shape's (ShapeResources), for one data layout. */
export interface StudentResources {
  readonly owner: ShapeResources;
  readonly cols: number;
  readonly learnWeights: boolean;
  readonly stride4: number;
  readonly gamma: GPUBuffer;
  readonly beta: GPUBuffer;
  readonly precisions: GPUBuffer;
  readonly logConst: GPUBuffer;
  readonly studentGradient: GPUBuffer;
  readonly partials: GPUBuffer;
  readonly totals: GPUBuffer;
  readonly chunkUniforms: GPUBuffer[];
  readonly chunkGroups: number[];
  readonly partialBases: number[];
  readonly reduceUniform: GPUBuffer;
  readonly updateUniform: GPUBuffer;
}

/** Bytes of gamma (K x cols f32) and of the student's gradient (gamma's, then beta's K). */
export const gammaBytes = (k: number, cols: number): number => 4 * k * cols;

/** The student's buffers for the shape `res` and these chunks, with the pass's uniforms written (lanes plan). */
export function createStudentResources(device: GPUDevice, res: ShapeResources, chunks: readonly DataChunk[], student: StudentParams, chunkParams: (c: DataChunk, partialBase: number) => ArrayBuffer): StudentResources {
  const { shape } = res;
  const cols = varianceColumns(student.covariance, shape.d);
  const plan = partialPlan(chunks, shape, 'lanes');
  const stride4 = studentStride4(shape);
  const storage = (bytes: number) => createBuffer(device, bytes, STORAGE_RW);
  const uniform = (bytes: number) => createBuffer(device, bytes, UNIFORM | COPY_DST);
  const out: StudentResources = {
    owner: res, cols, learnWeights: student.weights === 'learned', stride4,
    gamma: storage(gammaBytes(shape.k, cols)),
    beta: storage(16 * shape.k4),
    precisions: storage(64 * shape.k4 * shape.d4),
    logConst: storage(16 * shape.k4),
    studentGradient: storage(gammaBytes(shape.k, cols) + 4 * shape.k),
    partials: storage(16 * stride4 * plan.partialCount),
    totals: storage(16 * stride4),
    chunkUniforms: chunks.map(() => uniform(passParams.byteSize)),
    chunkGroups: plan.chunkGroups,
    partialBases: plan.partialBases,
    reduceUniform: uniform(reduceParams.byteSize),
    updateUniform: uniform(studentUpdateParams.byteSize),
  };
  chunks.forEach((c, i) => device.queue.writeBuffer(out.chunkUniforms[i]!, 0, chunkParams(c, plan.partialBases[i]!)));
  device.queue.writeBuffer(out.reduceUniform, 0, reduceParams.pack({ partialCount: plan.partialCount }));
  return out;
}

export function destroyStudentResources(s: StudentResources): void {
  for (const b of [s.gamma, s.beta, s.precisions, s.logConst, s.studentGradient, s.partials, s.totals, s.reduceUniform, s.updateUniform, ...s.chunkUniforms]) b.destroy();
}

/** Writes gamma, beta and the update's uniforms at scale t; the first pass's precisions follow from studentPrepare. */
export function writeStudent(device: GPUDevice, sr: StudentResources, student: StudentParams, t: number, rows: number, lr: number, apply: boolean, betaLr = lr): void {
  const { a, sigma } = forwardCoefficients(t);
  const q = device.queue;
  const gamma = student.gamma.data.slice();
  floorGamma(gamma, lowestGamma(student));
  q.writeBuffer(sr.gamma, 0, Float32Array.from(gamma));
  q.writeBuffer(sr.beta, 0, padded(student.beta, 4 * sr.owner.shape.k4));
  q.writeBuffer(sr.updateUniform, 0, studentUpdateParams.pack({
    twoOverN: 2 / rows, invN: 1 / rows, lr, apply: apply ? 1 : 0, a2: a * a, sigma2: sigma * sigma,
    varianceFloor: VARIANCE_FLOOR, logWeightFloor: Math.log(WEIGHT_FLOOR), betaLr, gammaTrust: GAMMA_TRUST, gammaMin: lowestGamma(student), mTrust: M_TRUST,
  }));
}

function padded(values: Float64Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(values);
  return out;
}

/** Before a call's first step: the precisions and log-constants from gamma and beta, as every update leaves them. */
export function encodeStudentPrepare(pass: GPUComputePassEncoder, ctx: StepContext, sr: StudentResources): void {
  const prepare = ctx.pipelines.get(studentPrepare, { shape: sr.owner.shape, cols: sr.cols, learnWeights: sr.learnWeights });
  pass.setPipeline(prepare.pipeline);
  ctx.pipelines.bind(pass, prepare, { params: sr.updateUniform, gamma: sr.gamma, beta: sr.beta, precisions: sr.precisions, logConst: sr.logConst });
  pass.dispatchWorkgroups(1);
}

/** One GD step of the general student: the lane pass per chunk, the reduction, the update. */
export function encodeStudentStep(pass: GPUComputePassEncoder, ctx: StepContext, sr: StudentResources, chunks: readonly DataChunk[], noise: readonly GPUBuffer[] | undefined): void {
  const { pipelines } = ctx;
  const res = sr.owner;
  const program = pipelines.get(studentLanes, { shape: res.shape, explicitNoise: noise !== undefined });
  pass.setPipeline(program.pipeline);
  chunks.forEach((c, i) => {
    const source: Partial<Record<PassIo, GPUBuffer>> = noise ? { noise: noise[i] } : { stepState: res.stepState };
    pipelines.bind(pass, program, {
      data: c.buffer, centres: res.centres, partials: sr.partials, params: sr.chunkUniforms[i], precisions: sr.precisions, logConst: sr.logConst, ...source,
    });
    pass.dispatchWorkgroups(sr.chunkGroups[i]!);
  });
  const reduce = pipelines.get(reducePartials, { ...res.shape, partialStride4: sr.stride4 });
  pass.setPipeline(reduce.pipeline);
  pipelines.bind(pass, reduce, { partials: sr.partials, totals: sr.totals, params: sr.reduceUniform });
  const [gx, gy] = foldWorkgroups(Math.ceil(sr.stride4 / 64), ctx.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(gx, gy);
  const update = pipelines.get(studentUpdate, { shape: res.shape, cols: sr.cols, learnWeights: sr.learnWeights });
  pass.setPipeline(update.pipeline);
  pipelines.bind(pass, update, {
    totals: sr.totals, centres: res.centres, gradient: res.gradient, history: res.history, stepState: res.stepState, params: sr.updateUniform,
    gamma: sr.gamma, beta: sr.beta, precisions: sr.precisions, logConst: sr.logConst, studentGradient: sr.studentGradient,
  });
  pass.dispatchWorkgroups(1);
}
