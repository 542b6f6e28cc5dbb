// The engine's GPU buffers: the data, uploaded once per content and split into
// chunks that fit one storage binding, and the buffers of one problem shape
// (centres, partials, totals, uniforms, history), rebuilt when the shape changes.
import { InputError } from '../../src/errors.ts';
import { seedKey } from '../../src/math/philox.ts';
import type { Matrix } from '../../src/types.ts';
import type { NoiseSpec } from '../../src/training/capability.ts';
import { createBuffer, padRows, STORAGE_RW } from '../core/buffers.ts';
import { chunkRows } from '../core/layout.ts';
import { type KernelKind } from '../core/kernel-kind.ts';
import { type PartialPlan, partialPlan } from './kernel-plan.ts';
import { type Shape, shapeFor } from '../core/layout.ts';
import { passParams, reduceParams, updateParams } from './programs.ts';
import { COPY_DST, COPY_SRC, UNIFORM } from '../core/usage.ts';

export interface DataChunk {
  readonly buffer: GPUBuffer;
  readonly rows: number;
  /** Index of the chunk's first row in the whole data. */
  readonly base: number;
}

/** Data on the GPU: rows padded to d4 vec4, in chunks of at most rowsPerChunk rows (one storage binding each). */
export interface DataOnGpu {
  readonly rows: number;
  readonly cols: number;
  readonly d4: number;
  readonly chunks: readonly DataChunk[];
}

/** The upload of a matrix passed to a call (not a handle), kept for the next call with the same content. */
interface CachedData extends DataOnGpu {
  readonly source: Matrix;
  /** Content hash at upload: a caller may have edited the matrix in place since. */
  readonly hash: number;
}

export interface ShapeResources {
  readonly shape: Shape;
  readonly kernel: KernelKind;
  readonly centres: GPUBuffer;
  readonly partials: GPUBuffer;
  readonly totals: GPUBuffer;
  readonly gradient: GPUBuffer;
  readonly stepState: GPUBuffer;
  readonly reduceUniform: GPUBuffer;
  readonly updateUniform: GPUBuffer;
  /** Per chunk: the DDPM pass's uniforms and workgroup count. */
  readonly chunkUniforms: GPUBuffer[];
  readonly chunkGroups: number[];
  /** Per chunk, for the EM pass (the DDPM pass's kernel form: tiled or lanes). */
  readonly emUniforms: GPUBuffer[];
  readonly chunkEmGroups: number[];
  readonly emReduceUniform: GPUBuffer;
  readonly partialCount: number;
  readonly emPartialCount: number;
  history: GPUBuffer;
  historyCapacity: number;
}

/** What a pass's uniforms say beyond the shape: the forward coefficients, the noise, the steps to record. */
export interface PassSettings {
  readonly a: number;
  readonly sigma: number;
  readonly noise: NoiseSpec;
  /** History slots needed (one per GD step). */
  readonly steps: number;
  readonly startStep?: number;
  /** The global number of the data's first row (DdpmOptions.firstRow): seeded noise is indexed by it plus the row. */
  readonly firstRow?: number;
}

export interface UpdateSettings {
  readonly rows: number;
  readonly lr: number;
  readonly apply: boolean;
  /** The projection radius, scaled (0 without projection). */
  readonly radius: number;
  /** 0: EM (or a GD update), 1: gradient EM (update.wgsl emUpdate). */
  readonly emMode: 0 | 1;
}

export interface ResourcePlan {
  readonly maxChunkRows: number;
  readonly kernelFor: (shape: Shape) => KernelKind;
  /** The shape of K centres in d dimensions, with the tiled kernel's tuned sizes (default: shapeFor's own). */
  readonly shapeFor?: (k: number, d: number) => Shape;
}

export class GpuResources {
  /** The last matrix passed as data, uploaded. */
  private cached: CachedData | undefined;
  /** The data of the last prepare: the cached matrix or a dataset handle's upload. */
  private active: DataOnGpu | undefined;
  private current: ShapeResources | undefined;
  /** Staging buffers of copies recorded into encoders not yet read back. */
  private staging: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice, private readonly plan: ResourcePlan) {}

  /** The chunks of the data of the last prepare. */
  get chunks(): readonly DataChunk[] {
    if (!this.active) throw new Error('GpuResources.chunks before prepare');
    return this.active.chunks;
  }

  /** The data in chunks on the GPU (a dataset handle's copy); the caller releases it with destroyData. */
  upload(data: Matrix): DataOnGpu {
    // Rows per chunk depend on d alone, so one upload serves every K.
    const shape = shapeFor(1, data.cols, this.device.limits, this.plan.maxChunkRows);
    const chunks = chunkRows(data.rows, shape.rowsPerChunk).map(({ rows, base }) => ({
      buffer: createBuffer(this.device, 16 * shape.d4 * rows, STORAGE_RW, padRows(data, base, rows, shape.d4)),
      rows,
      base,
    }));
    return { rows: data.rows, cols: data.cols, d4: shape.d4, chunks };
  }

  destroyData(data: DataOnGpu): void {
    data.chunks.forEach((c) => c.buffer.destroy());
    if (this.active === data) this.active = undefined;
  }

  /**
   * The data on the GPU (a matrix is uploaded unless it is the last one, unchanged; an upload is used as it
   * is) and the buffers of its shape, with the uniforms of this pass written.
   */
  prepare(data: Matrix | DataOnGpu, k: number, pass: PassSettings): ShapeResources {
    const shape = this.plan.shapeFor?.(k, data.cols) ?? shapeFor(k, data.cols, this.device.limits, this.plan.maxChunkRows);
    this.active = 'data' in data ? this.cachedUpload(data) : data;
    const chunks = this.chunks;
    const kernel = this.plan.kernelFor(shape);
    const plan = partialPlan(chunks, shape, kernel);
    let res = this.current;
    // Every number the dispatches and partial buffers were sized by must match, EM's included: the lane
    // kernel caps the DDPM partial count, so two data sizes can share it while EM's grid differs.
    const samePlan =
      res !== undefined &&
      res.partialCount === plan.partialCount &&
      res.emPartialCount === plan.emPartialCount &&
      sameNumbers(res.chunkGroups, plan.chunkGroups) &&
      sameNumbers(res.chunkEmGroups, plan.chunkEmGroups);
    // The shape's tile and workgroup size pick the DDPM and EM pipelines, so a new tuned choice rebuilds too.
    const sameSizes = res !== undefined && res.shape.tile === shape.tile && res.shape.wg === shape.wg;
    if (!res || !samePlan || !sameSizes || res.shape.k !== shape.k || res.shape.d !== shape.d || res.kernel !== kernel || res.chunkUniforms.length !== chunks.length) {
      this.destroyShapeResources();
      res = this.createShapeResources(shape, chunks.length, kernel, plan);
      this.current = res;
    }
    if (pass.steps > res.historyCapacity) {
      res.history.destroy();
      res.history = createBuffer(this.device, 8 * pass.steps, STORAGE_RW);
      res.historyCapacity = pass.steps;
    }
    const { noise } = pass;
    const [seedLo, seedHi] = noise.kind === 'seed' ? seedKey(noise.seed) : [0, 0];
    const fresh = noise.kind === 'seed' && noise.mode === 'fresh';
    const fixedStep = noise.kind === 'seed' ? (noise.step ?? (fresh ? (pass.startStep ?? 0) : 0)) : 0;
    const queue = this.device.queue;
    chunks.forEach((c, i) => {
      const common = { rows: c.rows, chunkBase: ((pass.firstRow ?? 0) + c.base) >>> 0, seedLo, seedHi, fixedStep: fixedStep >>> 0, freshNoise: fresh ? 1 : 0, a: pass.a, sigma: pass.sigma, invSigma: 1 / pass.sigma };
      queue.writeBuffer(res.chunkUniforms[i], 0, passParams.pack({ ...common, partialBase: plan.partialBases[i] }));
      queue.writeBuffer(res.emUniforms[i], 0, passParams.pack({ ...common, partialBase: plan.emPartialBases[i] }));
    });
    queue.writeBuffer(res.reduceUniform, 0, reduceParams.pack({ partialCount: plan.partialCount }));
    queue.writeBuffer(res.emReduceUniform, 0, reduceParams.pack({ partialCount: plan.emPartialCount }));
    return res;
  }

  /** An explicit noise matrix, chunked like the data; undefined for seeded noise. The caller destroys the buffers. */
  uploadNoise(noise: NoiseSpec, data: { readonly rows: number; readonly cols: number }): GPUBuffer[] | undefined {
    if (noise.kind !== 'matrix') return undefined;
    const z = noise.z;
    if (z.rows !== data.rows || z.cols !== data.cols) {
      throw new InputError(`The noise matrix is ${z.rows} x ${z.cols} but the data are ${data.rows} x ${data.cols}: give noise of the same shape as the data.`);
    }
    const d4 = Math.ceil(data.cols / 4);
    return this.chunks.map((c) => createBuffer(this.device, 16 * d4 * c.rows, STORAGE_RW, padRows(z, c.base, c.rows, d4)));
  }

  /** The rows the GPU stores, times `scale`; tied: [m; -m] from the one given centre. */
  writeScaledCentres(res: ShapeResources, centres: Matrix, scale: number, tied: boolean): void {
    const { k4, d4 } = res.shape;
    const out = new Float32Array(16 * k4 * d4);
    const rows = tied ? 2 : centres.rows;
    for (let j = 0; j < rows; j++) {
      const src = tied ? 0 : j;
      const sign = tied && j === 1 ? -1 : 1;
      for (let c = 0; c < centres.cols; c++) out[j * 4 * d4 + c] = sign * scale * centres.data[src * centres.cols + c];
    }
    this.device.queue.writeBuffer(res.centres, 0, out);
  }

  writeUpdate(res: ShapeResources, u: UpdateSettings): void {
    this.device.queue.writeBuffer(res.updateUniform, 0, updateParams.pack({
      twoOverN: 2 / u.rows, invN: 1 / u.rows, lr: u.lr, apply: u.apply ? 1 : 0, radius: u.radius, emMode: u.emMode,
    }));
  }

  /** Sets the step counter to [globalStep, 0] as the encoder's next command. */
  resetStepState(encoder: GPUCommandEncoder, res: ShapeResources, globalStep: number): void {
    const state = new Uint32Array([globalStep >>> 0, 0, 0, 0]);
    // Through a staging copy so that it is ordered with the encoder's other commands.
    const staging = createBuffer(this.device, 16, COPY_SRC, state);
    encoder.copyBufferToBuffer(staging, 0, res.stepState, 0, 16);
    this.staging.push(staging);
  }

  /** After a read-back: the staging copies recorded before it have run. */
  releaseStaging(): void {
    this.staging.forEach((s) => s.destroy());
    this.staging = [];
  }

  dispose(): void {
    if (this.cached) this.destroyData(this.cached);
    this.cached = undefined;
    this.destroyShapeResources();
    this.releaseStaging();
  }

  private cachedUpload(data: Matrix): DataOnGpu {
    const hash = contentHash(data.data);
    const c = this.cached;
    if (c && c.source === data && c.rows === data.rows && c.cols === data.cols && c.hash === hash) return c;
    if (c) this.destroyData(c);
    this.cached = undefined;
    this.cached = { ...this.upload(data), source: data, hash };
    return this.cached;
  }

  private createShapeResources(shape: Shape, chunkCount: number, kernel: KernelKind, plan: PartialPlan): ShapeResources {
    const bytes = centresBytes({ shape });
    const storage = (bytes: number) => createBuffer(this.device, bytes, STORAGE_RW);
    const uniform = (bytes: number) => createBuffer(this.device, bytes, UNIFORM | COPY_DST);
    const perChunk = () => Array.from({ length: chunkCount }, () => uniform(passParams.byteSize));
    return {
      shape,
      kernel,
      centres: storage(bytes),
      partials: storage(16 * shape.partialStride4 * Math.max(plan.partialCount, plan.emPartialCount)),
      totals: storage(16 * shape.partialStride4),
      gradient: storage(bytes),
      stepState: storage(16),
      reduceUniform: uniform(reduceParams.byteSize),
      updateUniform: uniform(updateParams.byteSize),
      chunkUniforms: perChunk(),
      chunkGroups: plan.chunkGroups,
      emUniforms: perChunk(),
      chunkEmGroups: plan.chunkEmGroups,
      emReduceUniform: uniform(reduceParams.byteSize),
      partialCount: plan.partialCount,
      emPartialCount: plan.emPartialCount,
      history: storage(8 * 16),
      historyCapacity: 16,
    };
  }

  private destroyShapeResources(): void {
    const r = this.current;
    if (!r) return;
    for (const b of [r.centres, r.partials, r.totals, r.gradient, r.stepState, r.reduceUniform, r.emReduceUniform, r.updateUniform, r.history, ...r.chunkUniforms, ...r.emUniforms]) b.destroy();
    this.current = undefined;
  }
}

/** FNV-1a over the 32-bit words of the data: cheap next to an upload, and it sees any edit in place. */
function contentHash(values: Float64Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Bytes of the KP x D4 vec4 of the centres (and of the gradient). */
export function centresBytes(res: { readonly shape: Shape }): number {
  return 16 * 4 * res.shape.k4 * res.shape.d4;
}
