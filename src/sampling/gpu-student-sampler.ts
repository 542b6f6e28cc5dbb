// Sampling with the general student's score on the GPU (docs/math.md sections 11 and 14; shaders/student_sample.wgsl).
// The run is the mixture sampler's (gpu-sampler.ts runSampler): the same start, step noise, batches, divergence
// flag and error. Only the score differs: the centres are uploaded once, and each step's table row carries the
// precisions and log-constants of its time (and of the next, for Heun), computed in float64 by studentAtTimeInto.
import { DeviceError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';
import { checkSampleRequest } from './checks.ts';
import type { SamplerStep } from './grid.ts';
import type { SampleProgress, SamplerOptions } from './options.ts';
import { checkStudentScore, studentAtTimeInto, studentAtTimeScratch, type StudentScore } from './student-score.ts';
import { MAX_STEPS_PER_SUBMIT, runSampler, SAMPLE_WG, sampleParams, sampleStart, type SamplerContext, type SamplerKernel } from './gpu-sampler.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { chunkBytes, requirePrivateArray, shapeFor } from '../../host/core/layout.ts';
import { type Program, slot, SLOW_COMPILE_D4, SLOW_COMPILE_PAIRS } from '../../host/core/program.ts';
import { STREAMS } from '../math/streams.ts';

/** The student sampler's specialisation: the shape (K4 = ceil(K / 4) vec4 of log-constants), Heun, unrolled loops. */
export interface StudentSampleSpec {
  readonly k: number;
  readonly d: number;
  readonly d4: number;
  readonly heun: boolean;
  readonly unrolled: boolean;
}

export const studentSteps: Program<'samples' | 'centres' | 'stepTable' | 'params' | 'status', StudentSampleSpec> = {
  entry: 'sampleSteps',
  files: ['philox.wgsl', 'sample_run.wgsl', 'student_sample.wgsl', 'sample_loop.wgsl'],
  structs: [sampleParams.wgsl],
  bindings: { samples: slot(0, 0), centres: slot(0, 1), stepTable: slot(0, 2), params: slot(0, 3), status: slot(0, 4) },
  specialise: (p) => ({
    consts: { K: p.k, K4: Math.ceil(p.k / 4), D: p.d, D4: p.d4, WG: SAMPLE_WG, STREAM: STREAMS.sampler, UNROLL: p.unrolled ? 1 : 0 },
    flags: { HEUN: p.heun },
  }),
  compileNote: (p) =>
    p.unrolled && (p.d4 >= SLOW_COMPILE_D4 || p.k * p.d4 >= SLOW_COMPILE_PAIRS)
      ? `compiling the unrolled student sampler for d = ${p.d}, K = ${p.k} on a software adapter: the first compilation at this size takes tens of seconds to minutes (once per process)`
      : undefined,
};

/** vec4 per time in the step table: K x D4 precisions, then K4 log-constants. */
function timeVec4(k: number, d4: number): number {
  return k * d4 + Math.ceil(k / 4);
}

/** n samples n x d with the general student's score (the Backend's `sample` for a StudentScore). */
export async function sampleStudentOnGpu(
  ctx: SamplerContext,
  score: StudentScore,
  n: number,
  options: SamplerOptions,
  onProgress?: (p: SampleProgress) => void,
): Promise<Matrix> {
  const d = checkStudentScore(score, "the sampler's score");
  // n, the options and a Langevin start are checked against a stand-in 1 x d, as the CPU sampler does.
  checkSampleRequest(matrix(1, d), n, options);
  const { device } = ctx;
  const k = score.means.rows;
  const shape = shapeFor(k, d, device.limits, ctx.maxChunkRows);
  const d4 = shape.d4;
  // student_sample.wgsl keeps K weights and d/4 vec4 per invocation.
  requirePrivateArray(Math.max(4 * k, 16 * d4), `the GPU sampler at K = ${k}, d = ${d}`, 'use --backend cpu (the float64 sampler), or fewer components K or dimensions d');
  const heun = options.method === 'ode';
  const stepVec4 = 2 + timeVec4(k, d4) * (heun ? 2 : 1);
  const binding = chunkBytes(device.limits);
  if (16 * stepVec4 * MAX_STEPS_PER_SUBMIT > binding) {
    throw new DeviceError(`the student sampler: a batch of ${MAX_STEPS_PER_SUBMIT} steps' precisions for K = ${k}, d = ${d} needs ${16 * stepVec4 * MAX_STEPS_PER_SUBMIT} bytes, over one storage binding (${binding}); sample on backend 'cpu'`);
  }
  const spec = { k, d, d4, heun, unrolled: ctx.unrolled(k, d) };
  const centres = createBuffer(device, 16 * k * d4, STORAGE_RW, padRows(score.means, 0, k, d4));
  try {
    const kernel: SamplerKernel = {
      start: ctx.pipelines.get(sampleStart, spec),
      steps: ctx.pipelines.get(studentSteps, spec),
      scoreBuffers: { centres },
      stepBytes: 16 * stepVec4,
      stepTable: (steps, first, count) => stepTable(score, d4, heun, steps, first, count),
      // Per score: the logits (4 K d) and the weighted sum (4 K d).
      flopsPerStep: 8 * k * 4 * d4 * (heun ? 2 : 1),
    };
    return await runSampler(ctx, kernel, n, d, shape.rowsPerChunk, options, onProgress);
  } finally {
    centres.destroy();
  }
}

/** Steps first .. first + count: (a, aNext, cy, cs), (cxi, h/2, 0, 0), then each time's precisions and log-constants. */
function stepTable(score: StudentScore, d4: number, heun: boolean, steps: readonly SamplerStep[], first: number, count: number): Float32Array {
  const { rows: k, cols: d } = score.means;
  const perTime = timeVec4(k, d4);
  const stride = 4 * (2 + perTime * (heun ? 2 : 1));
  const out = new Float32Array(stride * count);
  const q = studentAtTimeScratch(k, d);
  const putTime = (at: number) => {
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < d; c++) out[at + 4 * j * d4 + c] = q.precisions[j * d + c]!;
      out[at + 4 * k * d4 + j] = q.logConst[j]!;
    }
  };
  for (let i = 0; i < count; i++) {
    const s = steps[first + i]!;
    const row = stride * i;
    out.set([s.a, s.aNext, s.cy, s.cs, s.cxi, s.h / 2], row);
    studentAtTimeInto(score, s.t, s.a, q);
    putTime(row + 8);
    if (heun) {
      studentAtTimeInto(score, s.tNext, s.aNext, q);
      putTime(row + 8 + 4 * perTime);
    }
  }
  return out;
}
