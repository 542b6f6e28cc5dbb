// The piecewise score fit's per-cell moments on the GPU (src/piecewise/moments.ts cellMoments; docs/kernels.md,
// 'The piecewise model'). Per chunk of data rows and noise draw: piecewise_points.wgsl draws x_t from Philox exactly as
// the CPU does, assigns it its nearest cell and writes the row [phi(u), y]; the host reads the u32 assignment back,
// sorts the rows by cell (O(N), stable) and cuts each cell's rows into segments of at most SEGMENT_ROWS; then
// piecewise_gram.wgsl writes each segment's outer-product sums as one float32 partial, which the host adds in float64
// in segment order. The same inputs give the same bits.
import { DeviceError } from '../errors.ts';
import { seedKey } from '../math/philox.ts';
import type { Matrix } from '../matrix.ts';
import { type CellMoments, checkMomentRequest, type MomentOptions } from './moments.ts';
import { featureCount } from './model.ts';
import { createBuffer, padRows, STORAGE_RW } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { chunkBytes, chunkRows } from '../../host/core/layout.ts';
import type { SamplerContext } from '../sampling/gpu-sampler.ts';
import { COPY_DST, UNIFORM } from '../../host/core/usage.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { defineStruct } from '../../host/core/struct-layout.ts';
import { STREAMS } from '../math/streams.ts';

/** Per dispatch of the piecewise moments' first pass (shaders/piecewise_points.wgsl): a chunk of rows, one noise draw. */
export const piecewisePointParams = defineStruct('PiecewisePointParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['cells', 'u32'],
  ['step', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
  ['a', 'f32'],
  ['sigma', 'f32'],
  ['invSigma', 'f32'],
] as const);

/** Per dispatch of the piecewise Gram pass (shaders/piecewise_gram.wgsl): a run of segments. */
export const piecewiseGramParams = defineStruct('PiecewiseGramParams', [
  ['segments', 'u32'],
  ['firstSegment', 'u32'],
] as const);

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

export const piecewiseConsts = (p: PiecewiseMomentSpec) => {
  const { d4, pf4, ew } = piecewiseBlocks(p.d, p.degree);
  return { D: p.d, D4: d4, PF4: pf4, EW: ew, TH: PIECEWISE_TH, WG: PIECEWISE_WG };
};

/** Noisy points, nearest cells and the rows of the Gram pass (src/piecewise/gpu-moments.ts). */
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

/** Per-segment outer-product sums of one cell's rows (src/piecewise/gpu-moments.ts); its TH-block loops are always unrolled. */
export const piecewiseGram: Program<'points' | 'order' | 'segments' | 'partials' | 'params', PiecewiseMomentSpec> = {
  entry: 'piecewiseGram',
  files: ['piecewise_gram.wgsl'],
  structs: [piecewiseGramParams.wgsl],
  bindings: { points: slot(0, 0), order: slot(0, 1), segments: slot(0, 2), partials: slot(0, 3), params: slot(0, 4) },
  specialise: (p) => ({ consts: { ...piecewiseConsts({ ...p, unrolled: true }), UNROLL: 1 }, flags: {} }),
};

/** Rows of one cell that one float32 chain adds, at most: it bounds the chain's rounding (test/gpu/piecewise.test.ts). */
export const SEGMENT_ROWS = 1024;
/** Bytes of partials per read-back, at most: the host adds them in float64 before the next batch. */
const PARTIAL_BYTES = 2 ** 25;
/** Workgroups of the point pass on a software adapter, which walk all rows (src/sampling/gpu-sampler.ts SOFTWARE_GROUPS). */
const SOFTWARE_GROUPS = 8;

/** Seconds spent in each phase, for the benchmark (bench/piecewise-bench.ts); each call adds to it. */
export interface MomentTimings {
  points: number;
  sort: number;
  gram: number;
  add: number;
}

/** The same sums as cellMoments (float64 CPU), reduced on the GPU in float32 with deterministic partials. */
export async function cellMomentsOnGpu(ctx: SamplerContext, data: Matrix, cells: Matrix, options: MomentOptions, timings?: MomentTimings): Promise<CellMoments> {
  checkMomentRequest(data, cells, options);
  const { device, pipelines } = ctx;
  const { rows: N, cols: d } = data;
  const J = cells.rows;
  const { degree, draws, firstStep } = options;
  const { d4, pf4, ew } = piecewiseBlocks(d, degree);
  const hq = ew / PIECEWISE_TH;
  const tiles = Math.ceil((pf4 * hq) / PIECEWISE_WG);
  const segmentVec4 = pf4 * ew * 4;
  const binding = chunkBytes(device.limits);
  if (16 * d4 * J > binding) throw new DeviceError(`the piecewise moments: ${J} cells in d = ${d} need ${16 * d4 * J} bytes, over one storage binding (${binding}); use fewer cells or --backend cpu`);
  if (16 * segmentVec4 > binding) throw new DeviceError(`the piecewise moments: one partial in d = ${d} at degree ${degree} needs ${16 * segmentVec4} bytes, over one storage binding (${binding}); use a smaller d or --backend cpu`);
  const rowsPerChunk = Math.min(ctx.maxChunkRows, Math.floor(binding / (16 * ew)));
  const spec = { d, degree, unrolled: ctx.unrolled(1, d) };
  const pointsProgram = pipelines.get(piecewisePoints, spec);
  const gramProgram = pipelines.get(piecewiseGram, spec);
  const a = Math.exp(-options.t);
  const sigma = Math.sqrt(-Math.expm1(-2 * options.t));
  const [seedLo, seedHi] = seedKey(options.seed);
  const width = 4 * ew;
  const sums = new Float64Array(J * 4 * pf4 * width);
  const counts = new Float64Array(J);
  const perRead = Math.max(1, Math.floor(Math.min(binding, PARTIAL_BYTES) / (16 * segmentVec4)));
  const maxSegments = Math.ceil(Math.min(N, rowsPerChunk) / SEGMENT_ROWS) + J;
  const cellsBuffer = createBuffer(device, 16 * d4 * J, STORAGE_RW, padRows(cells, 0, J, d4));
  const partials = createBuffer(device, 16 * segmentVec4 * Math.min(perRead, maxSegments), STORAGE_RW);
  const segmentsBuffer = createBuffer(device, 8 * maxSegments, STORAGE_RW);
  const uniform = (bytes: ArrayBuffer) => createBuffer(device, bytes.byteLength, UNIFORM | COPY_DST, new Uint8Array(bytes));
  const clock = () => performance.now() / 1000;
  try {
    for (const chunk of chunkRows(N, rowsPerChunk)) {
      const dataBuffer = createBuffer(device, 16 * d4 * chunk.rows, STORAGE_RW, padRows(data, chunk.base, chunk.rows, d4));
      const points = createBuffer(device, 16 * ew * chunk.rows, STORAGE_RW);
      const assignment = createBuffer(device, 4 * chunk.rows, STORAGE_RW);
      const order = createBuffer(device, 4 * chunk.rows, STORAGE_RW);
      try {
        for (let r = 0; r < draws; r++) {
          let t0 = clock();
          const pointUniform = uniform(piecewisePointParams.pack({ rows: chunk.rows, chunkBase: chunk.base, cells: J, step: firstStep + r, seedLo, seedHi, a, sigma, invSigma: 1 / sigma }));
          let assigned: ArrayBuffer;
          try {
            const encoder = device.createCommandEncoder();
            const pass = encoder.beginComputePass();
            pass.setPipeline(pointsProgram.pipeline);
            pipelines.bind(pass, pointsProgram, { data: dataBuffer, cells: cellsBuffer, points, assignment, params: pointUniform });
            const wanted = Math.ceil(chunk.rows / PIECEWISE_WG);
            pass.dispatchWorkgroups(...foldWorkgroups(ctx.software ? Math.min(wanted, SOFTWARE_GROUPS) : wanted, device.limits.maxComputeWorkgroupsPerDimension));
            pass.end();
            [assigned] = await ctx.read(encoder, [{ buffer: assignment, bytes: 4 * chunk.rows }]);
          } finally {
            pointUniform.destroy();
          }
          let t1 = clock();
          if (timings) timings.points += t1 - t0;
          const plan = segmentsByCell(new Uint32Array(assigned), J);
          for (let j = 0; j < J; j++) counts[j] = counts[j]! + plan.counts[j]!;
          device.queue.writeBuffer(order, 0, plan.order);
          device.queue.writeBuffer(segmentsBuffer, 0, plan.segments);
          t0 = clock();
          if (timings) timings.sort += t0 - t1;
          const total = plan.cellOf.length;
          for (let first = 0; first < total; first += perRead) {
            const count = Math.min(perRead, total - first);
            const gramUniform = uniform(piecewiseGramParams.pack({ segments: count, firstSegment: first }));
            let got: Float32Array;
            try {
              const encoder = device.createCommandEncoder();
              const pass = encoder.beginComputePass();
              pass.setPipeline(gramProgram.pipeline);
              pipelines.bind(pass, gramProgram, { points, order, segments: segmentsBuffer, partials, params: gramUniform });
              pass.dispatchWorkgroups(...foldWorkgroups(count * tiles, device.limits.maxComputeWorkgroupsPerDimension));
              pass.end();
              got = new Float32Array((await ctx.read(encoder, [{ buffer: partials, bytes: 16 * segmentVec4 * count }]))[0]!);
            } finally {
              gramUniform.destroy();
            }
            t1 = clock();
            if (timings) timings.gram += t1 - t0;
            for (let s = 0; s < count; s++) addPartial(got, s * 4 * segmentVec4, sums, plan.cellOf[first + s]! * 4 * pf4 * width, pf4, hq);
            t0 = clock();
            if (timings) timings.add += t0 - t1;
          }
        }
      } finally {
        for (const b of [dataBuffer, points, assignment, order]) b.destroy();
      }
    }
  } finally {
    for (const b of [cellsBuffer, partials, segmentsBuffer]) b.destroy();
  }
  return unpackMoments(sums, counts, J, d, degree, pf4, width);
}

/** The chunk's rows sorted by cell (stable) and cut into segments of at most SEGMENT_ROWS rows of one cell each. */
export function segmentsByCell(assignment: Uint32Array, J: number): { counts: Uint32Array; order: Uint32Array; segments: Uint32Array; cellOf: number[] } {
  const counts = new Uint32Array(J);
  for (const j of assignment) {
    if (j >= J) throw new DeviceError(`the piecewise moments: the GPU assigned a point to cell ${j} of ${J}`);
    counts[j] = counts[j]! + 1;
  }
  const next = new Uint32Array(J);
  for (let j = 1; j < J; j++) next[j] = next[j - 1]! + counts[j - 1]!;
  const starts = next.slice();
  const order = new Uint32Array(assignment.length);
  assignment.forEach((j, row) => (order[next[j]!++] = row));
  const segments: number[] = [];
  const cellOf: number[] = [];
  for (let j = 0; j < J; j++) {
    for (let s = 0; s < counts[j]!; s += SEGMENT_ROWS) {
      segments.push(starts[j]! + s, Math.min(SEGMENT_ROWS, counts[j]! - s));
      cellOf.push(j);
    }
  }
  return { counts, order, segments: Uint32Array.from(segments), cellOf };
}

/** One segment's partial (PF4 x HQ invocations, each 4 TH vec4: row r of block (fb, hq TH + k) at 4 k + r) into M. */
function addPartial(got: Float32Array, from: number, sums: Float64Array, to: number, pf4: number, hq: number): void {
  const width = 4 * hq * PIECEWISE_TH;
  for (let fb = 0; fb < pf4; fb++) {
    for (let q = 0; q < hq; q++) {
      const base = from + (fb * hq + q) * 16 * PIECEWISE_TH;
      for (let k = 0; k < PIECEWISE_TH; k++) {
        for (let r = 0; r < 4; r++) {
          const src = base + 16 * k + 4 * r;
          const dst = to + (4 * fb + r) * width + 4 * (q * PIECEWISE_TH + k);
          for (let l = 0; l < 4; l++) sums[dst + l] = sums[dst + l]! + got[src + l]!;
        }
      }
    }
  }
}

/** The padded sums M (4 PF4 x 4 EW per cell) as cellMoments' Gram, cross and target sums. */
function unpackMoments(sums: Float64Array, counts: Float64Array, J: number, d: number, degree: 1 | 2, pf4: number, width: number): CellMoments {
  const p = featureCount(d, degree);
  const phiSlot = (f: number) => piecewisePhiSlot(f, d, degree);
  const one = 4 * (pf4 - 1);
  const gram = new Float64Array(J * p * p);
  const cross = new Float64Array(J * p * d);
  const targetSquares = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const m = j * 4 * pf4 * width;
    for (let f = 0; f < p; f++) {
      const row = m + phiSlot(f) * width;
      for (let h = 0; h < p; h++) gram[j * p * p + f * p + h] = sums[row + phiSlot(h)]!;
      for (let c = 0; c < d; c++) cross[j * p * d + f * d + c] = sums[row + 4 * pf4 + c]!;
    }
    targetSquares[j] = sums[m + one * width + one + 1]!;
  }
  return { counts, gram, cross, targetSquares };
}
