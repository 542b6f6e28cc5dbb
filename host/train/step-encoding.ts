// The dispatches of one GD step and of one EM step, recorded into a compute
// pass: the pass over the data per chunk, the fixed-order reduction of the
// partials, and the update (docs/math.md sections 4 to 6 and 9).
import { foldWorkgroups } from '../core/dispatch.ts';
import { type KernelKind } from '../core/kernel-kind.ts';
import { type LanePlan, resolveLanePlan } from './kernel-plan.ts';
import { requireTile, type Shape } from '../core/layout.ts';
import type { CompiledProgram, PipelineCache } from '../core/pipelines.ts';
import { ddpmLanes, ddpmTiled, emLanes, emPass, emUpdate, gdUpdate, type PassIo, reducePartials } from './programs.ts';
import type { DataChunk, ShapeResources } from './resources.ts';

export interface StepContext {
  readonly pipelines: PipelineCache;
  readonly limits: GPUSupportedLimits;
  /** Use subgroup operations in the passes over the data. */
  readonly subgroups: boolean;
  /** The lane kernel's plan at every shape instead of the rule by size (host/train/kernel-plan.ts). */
  readonly lanePlan?: LanePlan;
}

export interface GdStep {
  readonly tied: boolean;
  readonly project: boolean;
  /** Per chunk, an explicit noise matrix; undefined for seeded noise. */
  readonly noise: readonly GPUBuffer[] | undefined;
}

/** The DDPM pass's program for this shape and kernel. */
export function ddpmProgram(ctx: StepContext, shape: Shape, kernel: KernelKind, explicitNoise: boolean): CompiledProgram<PassIo> {
  const spec = { shape, explicitNoise, subgroups: ctx.subgroups };
  if (kernel === 'lanes') return ctx.pipelines.get(ddpmLanes, { ...spec, plan: resolveLanePlan(shape, ctx.lanePlan) });
  requireTile(shape, ctx.limits);
  return ctx.pipelines.get(ddpmTiled, spec);
}

/** One GD step: the DDPM pass per chunk, the reduction, the update. */
export function encodeGdStep(pass: GPUComputePassEncoder, ctx: StepContext, res: ShapeResources, chunks: readonly DataChunk[], step: GdStep): void {
  const { pipelines } = ctx;
  const ddpm = ddpmProgram(ctx, res.shape, res.kernel, step.noise !== undefined);
  pass.setPipeline(ddpm.pipeline);
  chunks.forEach((c, i) => {
    const noise = step.noise ? { noise: step.noise[i] } : { stepState: res.stepState };
    pipelines.bind(pass, ddpm, { data: c.buffer, centres: res.centres, partials: res.partials, params: res.chunkUniforms[i], ...noise });
    pass.dispatchWorkgroups(res.chunkGroups[i]);
  });
  encodeReduce(pass, ctx, res, res.reduceUniform);
  const update = pipelines.get(gdUpdate, { shape: res.shape, tied: step.tied, project: step.project });
  pass.setPipeline(update.pipeline);
  pipelines.bind(pass, update, {
    totals: res.totals, centres: res.centres, gradient: res.gradient, history: res.history, stepState: res.stepState, params: res.updateUniform,
  });
  pass.dispatchWorkgroups(1);
}

/** One EM or gradient-EM step (the update's mode is in its uniforms): the EM pass per chunk, the reduction, the update. */
export function encodeEmStep(pass: GPUComputePassEncoder, ctx: StepContext, res: ShapeResources, chunks: readonly DataChunk[]): void {
  const { pipelines } = ctx;
  // The EM pass takes the DDPM pass's kernel form: one sample per lane on software adapters.
  if (res.kernel === 'tiled') requireTile(res.shape, ctx.limits);
  const spec = { shape: res.shape, subgroups: ctx.subgroups };
  const em = res.kernel === 'lanes' ? pipelines.get(emLanes, { ...spec, plan: resolveLanePlan(res.shape, ctx.lanePlan) }) : pipelines.get(emPass, spec);
  pass.setPipeline(em.pipeline);
  chunks.forEach((c, i) => {
    pipelines.bind(pass, em, { data: c.buffer, centres: res.centres, partials: res.partials, params: res.emUniforms[i] });
    pass.dispatchWorkgroups(res.chunkEmGroups[i]);
  });
  encodeReduce(pass, ctx, res, res.emReduceUniform);
  const update = pipelines.get(emUpdate, res.shape);
  pass.setPipeline(update.pipeline);
  pipelines.bind(pass, update, { totals: res.totals, centres: res.centres, params: res.updateUniform });
  pass.dispatchWorkgroups(1);
}

/** `count` EM or gradient-EM steps in one compute pass; the centres stay on the GPU between them. */
export function encodeEmSteps(encoder: GPUCommandEncoder, ctx: StepContext, res: ShapeResources, chunks: readonly DataChunk[], count: number): void {
  if (count === 0) return;
  const pass = encoder.beginComputePass();
  for (let s = 0; s < count; s++) encodeEmStep(pass, ctx, res, chunks);
  pass.end();
}

/** The fixed-order sum of the partials; `counts` holds how many there are. */
function encodeReduce(pass: GPUComputePassEncoder, ctx: StepContext, res: ShapeResources, counts: GPUBuffer): void {
  const reduce = ctx.pipelines.get(reducePartials, res.shape);
  pass.setPipeline(reduce.pipeline);
  ctx.pipelines.bind(pass, reduce, { partials: res.partials, totals: res.totals, params: counts });
  const [gx, gy] = foldWorkgroups(Math.ceil(res.shape.partialStride4 / 64), ctx.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(gx, gy);
}
