// Chunked training: a Trainer decorator that evaluates the data chunk by chunk (src/data/source.ts) and adds
// the chunks' partial sums in float64 in global chunk order, on the host, before each update. The noise of a
// row is a pure function of (seed, step, global row) (docs/math.md section 7), so the numbers depend on the
// chunk size only: the same whether the chunks come from memory, from a file, or from several ranks (a
// PartialReducer that gathers the partials of other processes, src/ranks/).
import { DivergenceError, InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { chunkCount, matrixSource, requireChunkRows, type RowChunk, type RowSource } from '../data/source.ts';
import { matrix, type DataInput, type Dataset, type Matrix } from '../types.ts';
import { checkProblem, checkStepSize, requirePositiveInteger } from '../validate.ts';
import type { BatchedRun, DdpmOptions, EmSteps, GdOptions, GdResult, HistoryEntry, LossGradient, NoiseSpec, Trainer } from './capability.ts';
import { checkGdOptions } from './checks.ts';
import { emSums } from './cpu-reference.ts';
import { checkStudent, copyStudent, floorGamma, isPaperStudent, lowestGamma, type StudentParams } from './student.ts';
import { applyStudentStep, checkGeneralGd } from './cpu-student.ts';
import { studentScratch, studentTerms } from './general-reference.ts';

/** Adds one step's chunk partials over every chunk in global chunk order: in this process, or across ranks. */
export interface PartialReducer {
  /** The chunks this process evaluates, in order (global chunk numbers), of `count`. */
  localChunks(count: number): number[];
  /** The sum in global chunk order of every chunk's partial (each `length` numbers); `local` holds this process's. */
  reduce(local: ReadonlyMap<number, Float64Array>, count: number, length: number): Promise<Float64Array>;
}

/** Chunked EM sums the paper's student's M-step: a general one (learned variances or weights) is refused by name. */
function paperOnly(student: StudentParams | undefined): void {
  if (!isPaperStudent(student)) {
    throw new InputError(
      `chunked EM (chunkRows, memoryBudget) learns the paper's student only, not covariance '${student!.covariance}' with weights '${student!.weights}': pass covariance 'identity' and weights 'equal', use method 'ddpm', or fit in memory without chunking`,
    );
  }
}

/** Every chunk here, added in order. */
export const localReducer: PartialReducer = {
  localChunks: (count) => [...Array(count).keys()],
  reduce: async (local, count, length) => sumInOrder((c) => local.get(c), count, length),
};

/** The sum of partials 0..count-1 in that order (the one order every reducer uses). */
export function sumInOrder(partial: (c: number) => Float64Array | undefined, count: number, length: number): Float64Array {
  const total = new Float64Array(length);
  for (let c = 0; c < count; c++) {
    const p = partial(c);
    if (!p || p.length !== length) throw new Error(`sumInOrder: chunk ${c} has ${p?.length ?? 'no'} partial numbers, expected ${length}`);
    for (let q = 0; q < length; q++) total[q] = total[q]! + p[q]!;
  }
  return total;
}

/** A source held by a chunked trainer: a Dataset whose rows are read chunk by chunk. */
export interface ChunkedDataset extends Dataset {
  readonly source: RowSource;
}

class SourceHandle implements ChunkedDataset {
  readonly kind = 'dataset';
  disposed = false;
  /** Per local chunk, the inner backend's handle (memory sources only: their chunks stay resident). */
  readonly inner = new Map<number, Dataset>();
  constructor(readonly source: RowSource, readonly backend: 'gpu' | 'cpu', readonly resident: boolean) {}
  get rows(): number { return this.source.rows; }
  get cols(): number { return this.source.cols; }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.inner.forEach((h) => h.dispose());
    this.inner.clear();
  }
}

export interface ChunkedTrainer extends Trainer {
  readonly chunkRows: number;
  /** A handle on a source (a file): its chunks are read again at every pass. Dispose it when done. */
  open(source: RowSource): ChunkedDataset;
}

/** `inner` evaluated `chunkRows` rows at a time, the partials added by `reducer` (default: all chunks here). */
export function chunkedTrainer(inner: Trainer, chunkRows: number, reducer: PartialReducer = localReducer): ChunkedTrainer {
  requireChunkRows(chunkRows);
  const handleOf = (input: DataInput): { h: SourceHandle; temporary: boolean } => {
    if (input instanceof SourceHandle) {
      if (input.disposed) throw new InputError('this dataset handle was disposed; make a new one with dataset(x)');
      return { h: input, temporary: false };
    }
    if ('kind' in input) throw new InputError('this dataset handle belongs to another backend; make one with this trainer\'s dataset(x)');
    return { h: new SourceHandle(matrixSource(input, chunkRows), inner.name, true), temporary: true };
  };
  const using = async <T>(input: DataInput, f: (h: SourceHandle) => Promise<T>): Promise<T> => {
    const { h, temporary } = handleOf(input);
    try {
      return await f(h);
    } finally {
      if (temporary) h.dispose();
    }
  };
  /** Runs `part` on each local chunk in order (the next chunk's read overlapping this one's work) and reduces. */
  const reduceChunks = async (h: SourceHandle, length: number, part: (c: RowChunk, data: DataInput) => Promise<Float64Array>): Promise<Float64Array> => {
    const count = chunkCount(h.source);
    const mine = reducer.localChunks(count);
    const local = new Map<number, Float64Array>();
    let next = mine.length > 0 ? h.source.chunk(mine[0]!) : undefined;
    for (let q = 0; q < mine.length; q++) {
      const c = mine[q]!;
      const chunk = await next!;
      next = q + 1 < mine.length ? h.source.chunk(mine[q + 1]!) : undefined;
      // Keep a pending read from rejecting unobserved when this chunk's work throws.
      next?.catch(() => {});
      let data: DataInput = chunk.rows;
      if (h.resident) {
        let d = h.inner.get(c);
        if (!d) h.inner.set(c, (d = inner.dataset(chunk.rows)));
        data = d;
      }
      local.set(c, await part(chunk, data));
    }
    return reducer.reduce(local, count, length);
  };
  /**
   * [sum_n loss_n, sum_n dL_n/dm (K x d)] over every row, each chunk's means times its rows; with a general student
   * then sum_n dL_n/dgamma and sum_n dL_n/dbeta (K).
   */
  const ddpmSums = (h: SourceHandle, centres: Matrix, o: DdpmOptions, step: number): Promise<Float64Array> => {
    const K = centres.rows;
    const d = centres.cols;
    const student = isPaperStudent(o.student) ? undefined : o.student;
    const length = 1 + K * d + (student ? student.gamma.data.length + K : 0);
    return reduceChunks(h, length, async ({ firstRow, rows }, data) => {
      const r = await inner.lossAndGradient(data, centres, {
        noiseScale: o.noiseScale,
        tied: o.tied,
        noise: chunkNoise(o.noise, firstRow, rows.rows, step),
        firstRow: (o.firstRow ?? 0) + firstRow,
        ...(student ? { student } : {}),
      });
      const out = new Float64Array(length);
      const n = rows.rows;
      out[0] = n * r.loss;
      for (let q = 0; q < K * d; q++) out[1 + q] = n * r.gradScaled.data[q]!;
      if (student) {
        const g = r.gradStudent!;
        const base = 1 + K * d;
        for (let q = 0; q < g.gamma.data.length; q++) out[base + q] = n * g.gamma.data[q]!;
        for (let q = 0; q < K; q++) out[base + g.gamma.data.length + q] = n * g.beta[q]!;
      }
      return out;
    });
  };
  /** [S (K x d), T (K)] of EM on the clean data (docs/math.md section 9). */
  const emTotals = (h: SourceHandle, mu: Matrix): Promise<Float64Array> => {
    const K = mu.rows;
    const d = mu.cols;
    return reduceChunks(h, K * d + K, async ({ rows }) => {
      const { weighted, totals } = emSums(rows, mu);
      const out = new Float64Array(K * d + K);
      out.set(weighted, 0);
      out.set(totals, K * d);
      return out;
    });
  };
  const shapeCheck = (h: SourceHandle, centres: Matrix, tied: boolean): void => {
    checkProblem(h, centres, tied);
  };

  const trainer: ChunkedTrainer = {
    name: inner.name,
    adapter: `${inner.adapter}, ${chunkRows} rows a chunk`,
    chunkRows,
    dataset: (x) => new SourceHandle(matrixSource(x, chunkRows), inner.name, true),
    open: (source) => {
      if (source.chunkRows !== chunkRows) throw new InputError(`the source reads ${source.chunkRows} rows a chunk but the trainer takes ${chunkRows}; open it with the same chunk size`);
      return new SourceHandle(source, inner.name, false);
    },
    dispose: () => inner.dispose(),

    lossAndGradient: (input, centres, o) => using(input, async (h) => {
      shapeCheck(h, centres, o.tied);
      const { a } = forwardCoefficients(o.noiseScale);
      const sums = await ddpmSums(h, centres, o, o.noise.kind === 'seed' ? (o.noise.step ?? 0) : 0);
      const K = centres.rows;
      const d = centres.cols;
      const gradScaled = matrix(K, d, sums.slice(1, 1 + K * d).map((v) => v / h.rows));
      const gradCentres = matrix(K, d, gradScaled.data.map((v) => a * v));
      const g = o.student && !isPaperStudent(o.student) ? o.student.gamma : undefined;
      const gradStudent = g ? { gamma: matrix(g.rows, g.cols, sums.slice(1 + K * d, 1 + K * d + g.data.length).map((v) => v / h.rows)), beta: sums.slice(1 + K * d + g.data.length).map((v) => v / h.rows) } : undefined;
      const result: LossGradient = { loss: sums[0]! / h.rows, gradScaled, gradCentres, ...(gradStudent ? { gradStudent } : {}) };
      return result;
    }),

    // One run per pass: the chunk partials of one run are already summed in chunk order; runs go one after another.
    runsPerPass: () => 1,
    gdStepsBatched: async (input, runs, options) => {
      if (!Array.isArray(runs) || runs.length !== 1) {
        throw new InputError(`the chunked trainer's pass holds 1 run, got ${Array.isArray(runs) ? runs.length : String(runs)}: give the runs one call each (runsPerPass)`);
      }
      const [run] = runs as [BatchedRun];
      const { noise, ...shared } = options;
      return [await trainer.gdSteps(input, run.centres, { ...shared, steps: run.steps, startStep: run.startStep, noise: { kind: 'seed', seed: run.noiseSeed, ...noise }, ...(run.onProgress ? { onProgress: run.onProgress } : {}) })];
    },
    gdSteps: (input, centres, o) => using(input, async (h): Promise<GdResult> => {
      shapeCheck(h, centres, o.tied);
      const logEvery = checkGdOptions(o);
      if (!isPaperStudent(o.student)) return studentSteps(h, centres, o, logEvery);
      const { a } = forwardCoefficients(o.noiseScale);
      const startStep = o.startStep ?? 0;
      const K = centres.rows;
      const d = centres.cols;
      const m = centres.data.map((v) => a * v);
      const history: HistoryEntry[] = [];
      let reported: Matrix | undefined;
      for (let i = 0; i < o.steps; i++) {
        const step = o.noise.kind === 'seed' && o.noise.mode === 'fresh' ? startStep + i : o.noise.kind === 'seed' ? (o.noise.step ?? 0) : 0;
        const sums = await ddpmSums(h, matrix(K, d, m.map((v) => v / a)), o, step);
        const loss = sums[0]! / h.rows;
        if (!Number.isFinite(loss)) throw divergence(startStep + i, `loss is ${loss}`, o.lr);
        let sq = 0;
        // Algorithm 1: m <- m - eta dL/dm (docs/math.md section 6).
        for (let q = 0; q < m.length; q++) {
          const g = sums[1 + q]! / h.rows;
          sq += g * g;
          m[q] = m[q]! - o.lr * g;
        }
        if (o.projectRadius !== undefined) projectRows(m, K, d, a * o.projectRadius);
        if (m.some((v) => !Number.isFinite(v))) throw divergence(startStep + i, 'centres are not finite', o.lr);
        if ((i + 1) % logEvery === 0 || i === o.steps - 1) {
          const last: HistoryEntry = { step: startStep + i, loss, gradNorm: Math.sqrt(sq) };
          history.push(last);
          reported = matrix(K, d, m.map((v) => v / a));
          // Go on from the reported centres, as the backends do, so a run split at log points equals one call.
          for (let q = 0; q < m.length; q++) m[q] = a * reported.data[q]!;
          o.onProgress?.({ done: i + 1, total: o.steps, centres: reported, last });
        }
      }
      return { centres: reported ?? matrix(K, d, m.map((v) => v / a)), history, nIter: o.steps };
    }),

    emStep: (input, centres) => using(input, async (h) => emUpdate(centres, await emTotalsChecked(h, centres))),

    emSteps: (input, centres, steps, student) => using(input, async (h): Promise<EmSteps> => {
      paperOnly(student);
      requirePositiveInteger(steps, 'EM steps');
      let [previous, current] = [centres, centres];
      for (let s = 0; s < steps; s++) [previous, current] = [current, emUpdate(current, await emTotalsChecked(h, current))];
      return { centres: current, previous };
    }),

    gradientEmStep: (input, centres, lr) => using(input, async (h) => {
      checkStepSize(lr);
      const st = await emTotalsChecked(h, centres);
      const K = centres.rows;
      const d = centres.cols;
      const out = matrix(K, d);
      for (let j = 0; j < K; j++) {
        for (let k = 0; k < d; k++) {
          const i = j * d + k;
          out.data[i] = centres.data[i]! + (lr / h.rows) * (st[i]! - st[K * d + j]! * centres.data[i]!);
        }
      }
      return out;
    }),
  };
  return trainer;

  /** GD of a general student on the chunk sums: the update of the CPU reference's studentGdSteps (applyStudentStep). */
  async function studentSteps(h: SourceHandle, centres: Matrix, o: GdOptions, logEvery: number): Promise<GdResult> {
    checkGeneralGd(o);
    const K = centres.rows;
    const d = centres.cols;
    checkStudent(o.student!, K, d);
    const { a } = forwardCoefficients(o.noiseScale);
    const startStep = o.startStep ?? 0;
    const s = copyStudent(o.student!);
    const gammaMin = lowestGamma(s);
    floorGamma(s.gamma.data, gammaMin);
    const m = centres.data.map((v) => a * v);
    const terms = studentScratch(K, d);
    const gLen = s.gamma.data.length;
    const history: HistoryEntry[] = [];
    let reported: Matrix | undefined;
    for (let i = 0; i < o.steps; i++) {
      const step = o.noise.kind === 'seed' && o.noise.mode === 'fresh' ? startStep + i : o.noise.kind === 'seed' ? (o.noise.step ?? 0) : 0;
      studentTerms(s, o.noiseScale, d, terms);
      const sums = await ddpmSums(h, matrix(K, d, m.map((v) => v / a)), { ...o, student: s }, step);
      const loss = sums[0]! / h.rows;
      if (!Number.isFinite(loss)) throw divergence(startStep + i, `loss is ${loss}`, o.lr);
      const grad = sums.slice(1).map((v) => v / h.rows);
      const g = { m: grad.subarray(0, K * d), gamma: grad.subarray(K * d, K * d + gLen), beta: grad.subarray(K * d + gLen) };
      applyStudentStep(m, s, g, terms, { lr: o.lr, betaLr: o.betaLr ?? o.lr, a2: a * a, gammaMin, d });
      if (![...m, ...s.gamma.data, ...s.beta].every(Number.isFinite)) throw divergence(startStep + i, 'parameters are not finite', o.lr);
      if ((i + 1) % logEvery === 0 || i === o.steps - 1) {
        const last: HistoryEntry = { step: startStep + i, loss, gradNorm: Math.hypot(...g.m, ...g.gamma, ...(s.weights === 'learned' ? g.beta : [])) };
        history.push(last);
        reported = matrix(K, d, m.map((v) => v / a));
        for (let q = 0; q < m.length; q++) m[q] = a * reported.data[q]!;
        o.onProgress?.({ done: i + 1, total: o.steps, centres: reported, last, student: copyStudent(s) });
      }
    }
    return { centres: reported ?? matrix(K, d, m.map((v) => v / a)), history, nIter: o.steps, student: copyStudent(s) };
  }

  async function emTotalsChecked(h: SourceHandle, mu: Matrix): Promise<Float64Array> {
    shapeCheck(h, mu, false);
    return emTotals(h, mu);
  }
}

/** The noise of a chunk: seeded noise at one counter step (its rows' numbers travel in firstRow), or a matrix's rows. */
function chunkNoise(spec: NoiseSpec, firstRow: number, rows: number, step: number): NoiseSpec {
  if (spec.kind === 'seed') return { kind: 'seed', seed: spec.seed, mode: 'fixed', step };
  const { z } = spec;
  return { kind: 'matrix', z: matrix(rows, z.cols, z.data.subarray(firstRow * z.cols, (firstRow + rows) * z.cols)) };
}

/** EM's update from its sums: mu_i = S_i / T_i, a centre without weight kept (docs/math.md section 9). */
function emUpdate(mu: Matrix, st: Float64Array): Matrix {
  const K = mu.rows;
  const d = mu.cols;
  const out = matrix(K, d, Float64Array.from(mu.data));
  for (let j = 0; j < K; j++) {
    const t = st[K * d + j]!;
    if (t > 0) for (let k = 0; k < d; k++) out.data[j * d + k] = st[j * d + k]! / t;
  }
  return out;
}

/** Projection of docs/math.md section 6: each m_i onto the ball of radius a_t R. */
function projectRows(m: Float64Array, K: number, d: number, radius: number): void {
  for (let j = 0; j < K; j++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += m[j * d + k]! ** 2;
    const norm = Math.sqrt(sq);
    if (norm > radius) for (let k = 0; k < d; k++) m[j * d + k] = m[j * d + k]! * (radius / norm);
  }
}

function divergence(step: number, what: string, lr: number): DivergenceError {
  return new DivergenceError(step, `training diverged at step ${step} (${what}): lower the step size --lr, for example to ${lr / 10}`);
}

const TRAINING_KEYS: ReadonlySet<PropertyKey> = new Set(['dataset', 'adapter', 'lossAndGradient', 'gdSteps', 'emStep', 'emSteps', 'gradientEmStep', 'chunkRows', 'open']);

/**
 * `backend` with its training (and its data handles) chunked: every other capability is the backend's own, so
 * the loop's observers and the estimator's other calls see the same backend. Disposing it disposes `backend`.
 */
export function withChunkedTraining<B extends Trainer>(backend: B, chunkRows: number, reducer?: PartialReducer): B & ChunkedTrainer {
  const chunked = chunkedTrainer(backend, chunkRows, reducer);
  return new Proxy(backend, {
    get(target, key) {
      if (TRAINING_KEYS.has(key)) return chunked[key as keyof ChunkedTrainer];
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as B & ChunkedTrainer;
}
