// The training feature's CPU twin, in float64: the same Training capability as the GPU engine (src/training/gpu.ts),
// one fused per-sample pass with preallocated scratch, noise drawn row by row from Philox (docs/math.md sections 4-7).
import { DivergenceError, InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { noiseRowInto, seedKey, STREAM_TRAINING_NOISE } from '../math/philox.ts';
import { matrix, type DataInput, type Matrix } from '../types.ts';
import type { CpuFeature } from '../cpu/context.ts';
import type { DdpmOptions, EmSteps, GdOptions, GdResult, HistoryEntry, LossGradient, NoiseSpec, Training } from './capability.ts';
import { emStep, gradientEmStep } from './cpu-reference.ts';
import { checkGdOptions } from './checks.ts';
import { checkProblem, checkStepSize, requirePositiveInteger } from '../validate.ts';
import { checkGeneralGd, studentGdSteps, type NoiseRows } from './cpu-student.ts';
import { studentPass, studentScratch } from './general-reference.ts';
import { checkStudent, isPaperStudent, type StudentParams } from './student.ts';
import { studentEmSteps } from './student-mixture.ts';
import { shiftedExps } from '../math/softmax.ts';

/** Where one pass takes its noise rows from: an explicit matrix or Philox at one counter step. */
type NoiseSource = { readonly z: Float64Array } | { readonly k0: number; readonly k1: number; readonly step: number; readonly firstRow: number };

/** Reused buffers of the fused pass, sized for K and d (no per-sample allocation). */
export interface Scratch {
  readonly x: Float64Array;
  readonly z: Float64Array;
  readonly residual: Float64Array;
  readonly mbar: Float64Array;
  readonly logits: Float64Array;
  readonly w: Float64Array;
  readonly halfNorms: Float64Array;
  readonly colsumC: Float64Array;
  readonly words: Uint32Array;
}

export function makeScratch(K: number, d: number): Scratch {
  return {
    x: new Float64Array(d),
    z: new Float64Array(((d + 3) >>> 2) * 4),
    residual: new Float64Array(d),
    mbar: new Float64Array(d),
    logits: new Float64Array(K),
    w: new Float64Array(K),
    halfNorms: new Float64Array(K),
    colsumC: new Float64Array(K),
    words: new Uint32Array(4),
  };
}

export function noiseRow(noise: NoiseSource, n: number, d: number, s: Scratch): Float64Array {
  if ('z' in noise) {
    s.z.set(noise.z.subarray(n * d, (n + 1) * d));
  } else {
    noiseRowInto(noise.k0, noise.k1, noise.step, noise.firstRow + n, d, STREAM_TRAINING_NOISE, s.words, s.z);
  }
  return s.z;
}

/**
 * L and dL/dm at scaled centres m into `grad` (K x d), in one pass over the samples (docs/math.md sections 4 and 5).
 * Accumulates the matrix form W^T R + C^T X per sample and subtracts diag(colsum C) M at the end.
 */
function ddpmPass(
  x0: Matrix,
  m: Float64Array,
  K: number,
  tied: boolean,
  a: number,
  sigma: number,
  noise: NoiseSource,
  grad: Float64Array,
  s: Scratch,
): number {
  const { rows: N, cols: d } = x0;
  passBegin(m, K, d, grad, s);
  let loss = 0;
  for (let n = 0; n < N; n++) loss = passSample(loss, x0.data, n * d, m, K, d, tied, a, sigma, noiseRow(noise, n, d, s), grad, s);
  passEnd(m, K, d, tied, N, grad, s);
  return loss / N;
}

/** A pass's start: grad and colsum C zeroed, the half norms ||m_j||^2 / 2. */
export function passBegin(m: Float64Array, K: number, d: number, grad: Float64Array, s: Scratch): void {
  grad.fill(0);
  s.colsumC.fill(0);
  for (let j = 0; j < K; j++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += m[j * d + k]! ** 2;
    s.halfNorms[j] = sq / 2;
  }
}

/** One sample's terms of the pass (row at x0d[off..], noise row z): adds to grad and returns loss plus its squared residual. */
export function passSample(
  loss: number,
  x0d: Float64Array,
  off: number,
  m: Float64Array,
  K: number,
  d: number,
  tied: boolean,
  a: number,
  sigma: number,
  z: Float64Array,
  grad: Float64Array,
  s: Scratch,
): number {
  const invSigma = 1 / sigma;
  const { x, residual, mbar, logits, w, halfNorms, colsumC } = s;
  for (let k = 0; k < d; k++) x[k] = a * x0d[off + k]! + sigma * z[k]!;
  if (tied) {
    // mbar = tanh(m.x) m; dL/dm sums tanh(u) r + (1 - tanh(u)^2)(m.r) x (docs/math.md sections 3 and 5).
    let u = 0;
    for (let k = 0; k < d; k++) u += m[k]! * x[k]!;
    const th = Math.tanh(u);
    let mr = 0;
    for (let k = 0; k < d; k++) {
      const r = th * m[k]! - x[k]! + z[k]! * invSigma;
      residual[k] = r;
      loss += r * r;
      mr += m[k]! * r;
    }
    const coef = (1 - th * th) * mr;
    for (let k = 0; k < d; k++) grad[k] += th * residual[k]! + coef * x[k]!;
    return loss;
  }
  // Logits m_j.x - ||m_j||^2/2 with the max subtracted: the softmax never overflows (docs/math.md section 3).
  let max = -Infinity;
  for (let j = 0; j < K; j++) {
    let dot = 0;
    const mo = j * d;
    for (let k = 0; k < d; k++) dot += m[mo + k]! * x[k]!;
    const l = dot - halfNorms[j]!;
    logits[j] = l;
    if (l > max) max = l;
  }
  const invSum = 1 / shiftedExps(logits, K, max, w);
  mbar.fill(0);
  for (let j = 0; j < K; j++) {
    const wj = w[j]! * invSum;
    w[j] = wj;
    if (wj === 0) continue;
    const mo = j * d;
    for (let k = 0; k < d; k++) mbar[k] += wj * m[mo + k]!;
  }
  for (let k = 0; k < d; k++) {
    const r = mbar[k]! - x[k]! + z[k]! * invSigma;
    residual[k] = r;
    loss += r * r;
  }
  for (let j = 0; j < K; j++) {
    const wj = w[j]!;
    if (wj === 0) continue;
    const mo = j * d;
    let p = 0;
    for (let k = 0; k < d; k++) p += (m[mo + k]! - mbar[k]!) * residual[k]!;
    const c = wj * p;
    colsumC[j] += c;
    for (let k = 0; k < d; k++) grad[mo + k] += wj * residual[k]! + c * x[k]!;
  }
  return loss;
}

/** A pass's end: grad = (2 / N)(W^T R + C^T X - diag(colsum C) M). */
export function passEnd(m: Float64Array, K: number, d: number, tied: boolean, N: number, grad: Float64Array, s: Scratch): void {
  const scale = 2 / N;
  if (tied) {
    for (let k = 0; k < d; k++) grad[k] = scale * grad[k]!;
  } else {
    for (let j = 0; j < K; j++) {
      for (let k = 0; k < d; k++) grad[j * d + k] = scale * (grad[j * d + k]! - s.colsumC[j]! * m[j * d + k]!);
    }
  }
}

/** The noise source of one evaluation at GD step number `step` (docs/math.md section 7). */
export function noiseSource(spec: NoiseSpec, data: Matrix, step: number, firstRow = 0): NoiseSource {
  if (spec.kind === 'matrix') {
    const { z } = spec;
    if (z.rows !== data.rows || z.cols !== data.cols) {
      throw new InputError(
        `noise matrix must be N x d = ${data.rows} x ${data.cols} to match the data (got ${z.rows} x ${z.cols})`,
      );
    }
    return { z: z.data };
  }
  const [k0, k1] = seedKey(spec.seed);
  if (!Number.isInteger(step) || step < 0 || step >= 4294967296) {
    throw new InputError(`noise step must be an integer in [0, 2^32) (got ${step}): it is a Philox counter word`);
  }
  requireFirstRow(firstRow, data.rows);
  return { k0, k1, step, firstRow };
}

/** DdpmOptions.firstRow: the global number of the data's first row, a Philox counter word with the rows after it. */
function requireFirstRow(firstRow: number, rows: number): void {
  if (!Number.isSafeInteger(firstRow) || firstRow < 0 || firstRow + rows > 4294967296) {
    throw new InputError(`the first row's number must be an integer with firstRow + N <= 2^32 (got ${firstRow} + ${rows}): rows are Philox counter words`);
  }
}

/** The rows of one noise source, for the general student's pass (docs/math.md section 14). */
function noiseRows(noise: NoiseSource, d: number): (n: number) => Float64Array {
  const s = makeScratch(1, d);
  return (n) => noiseRow(noise, n, d, s);
}

export function frobenius(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! ** 2;
  return Math.sqrt(s);
}

export function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

export function unscaled(m: Float64Array, rows: number, cols: number, a: number): Matrix {
  const out = matrix(rows, cols);
  for (let i = 0; i < m.length; i++) out.data[i] = m[i]! / a;
  return out;
}

export const trainingOnCpu: CpuFeature<Omit<Training, 'gdStepsBatched' | 'runsPerPass'>> = (core) => ({
  async lossAndGradient(input: DataInput, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    const data = core.dataOf(input);
    checkProblem(data, centres, options.tied, options.firstRow !== undefined);
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const noise = noiseSource(options.noise, data, options.noise.kind === 'seed' ? (options.noise.step ?? 0) : 0, options.firstRow);
    const { rows: K, cols: d } = centres;
    // Parameters are the scaled centres m = a_t mu (docs/math.md section 3).
    const m = new Float64Array(K * d);
    for (let i = 0; i < m.length; i++) m[i] = a * centres.data[i]!;
    const gradScaled = matrix(K, d);
    const student = options.student;
    if (student && !isPaperStudent(student)) {
      checkGeneralGd(options);
      checkStudent(student, K, d);
      const gamma = matrix(student.gamma.rows, student.gamma.cols);
      const beta = new Float64Array(K);
      const rows = noiseRows(noise, d);
      const loss = studentPass(data, m, student, options.noiseScale, rows, gradScaled.data, gamma.data, beta, studentScratch(K, d));
      const gradCentres = matrix(K, d, gradScaled.data.map((g) => a * g));
      return { loss, gradScaled, gradCentres, gradStudent: { gamma, beta } };
    }
    const loss = ddpmPass(data, m, K, options.tied, a, sigma, noise, gradScaled.data, makeScratch(K, d));
    // dL/dmu = a_t dL/dm (docs/math.md section 5).
    const gradCentres = matrix(K, d);
    for (let i = 0; i < m.length; i++) gradCentres.data[i] = a * gradScaled.data[i]!;
    return { loss, gradScaled, gradCentres };
  },

  async gdSteps(input: DataInput, centres: Matrix, options: GdOptions): Promise<GdResult> {
    const data = core.dataOf(input);
    checkProblem(data, centres, options.tied);
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const { steps, lr } = options;
    const logEvery = checkGdOptions(options);
    const startStep = options.startStep ?? 0;
    const radius = options.projectRadius;
    const spec = options.noise;
    const { rows: K, cols: d } = centres;
    const m = new Float64Array(K * d);
    for (let i = 0; i < m.length; i++) m[i] = a * centres.data[i]!;
    const grad = new Float64Array(K * d);
    const scratch = makeScratch(K, d);
    const history: HistoryEntry[] = [];
    // Fixed noise reuses one counter step; matrix noise is validated once (docs/math.md section 7).
    const fixedNoise =
      spec.kind === 'matrix' ? noiseSource(spec, data, 0) : spec.mode === 'fixed' ? noiseSource(spec, data, spec.step ?? 0, options.firstRow) : null;
    if (options.student && !isPaperStudent(options.student)) {
      const noiseAt: NoiseRows = (step) => noiseRows(fixedNoise ?? noiseSource(spec, data, step, options.firstRow), d);
      return studentGdSteps(data, centres, options.student, options, logEvery, noiseAt);
    }
    let reported: Matrix | undefined;
    for (let i = 0; i < steps; i++) {
      const noise = fixedNoise ?? noiseSource(spec, data, startStep + i, options.firstRow);
      const loss = ddpmPass(data, m, K, options.tied, a, sigma, noise, grad, scratch);
      if (!Number.isFinite(loss)) throw divergence(startStep + i, `loss is ${loss}`, lr);
      // Algorithm 1: m <- m - eta dL/dm (docs/math.md section 6).
      for (let q = 0; q < m.length; q++) m[q] = m[q]! - lr * grad[q]!;
      if (radius !== undefined) projectRows(m, K, d, a * radius);
      if (!allFinite(m)) throw divergence(startStep + i, 'centres are not finite', lr);
      if ((i + 1) % logEvery === 0 || i === steps - 1) {
        const last: HistoryEntry = { step: startStep + i, loss, gradNorm: frobenius(grad) };
        history.push(last);
        reported = unscaled(m, K, d, a);
        // Go on from the reported centres as a new call would, so that a run split into calls at log points equals one call.
        for (let q = 0; q < m.length; q++) m[q] = a * reported.data[q]!;
        options.onProgress?.({ done: i + 1, total: steps, centres: reported, last });
      }
    }
    return { centres: reported ?? unscaled(m, K, d, a), history, nIter: steps };
  },

  async emStep(input: DataInput, centres: Matrix): Promise<Matrix> {
    const data = core.dataOf(input);
    checkProblem(data, centres, false);
    return emStep(data, centres);
  },

  async emSteps(input: DataInput, centres: Matrix, steps: number, student?: StudentParams): Promise<EmSteps> {
    const data = core.dataOf(input);
    checkProblem(data, centres, false);
    requirePositiveInteger(steps, 'EM steps');
    if (student && !isPaperStudent(student)) {
      checkStudent(student, centres.rows, centres.cols);
      return studentEmSteps(data, centres, steps, student);
    }
    let [previous, current] = [centres, centres];
    for (let s = 0; s < steps; s++) [previous, current] = [current, emStep(data, current)];
    return { centres: current, previous };
  },

  async gradientEmStep(input: DataInput, centres: Matrix, lr: number): Promise<Matrix> {
    const data = core.dataOf(input);
    checkProblem(data, centres, false);
    checkStepSize(lr);
    return gradientEmStep(data, centres, lr);
  },

});

/** Projection of docs/math.md section 6: each m_i onto the ball of radius a_t R. */
export function projectRows(m: Float64Array, K: number, d: number, radius: number): void {
  for (let j = 0; j < K; j++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += m[j * d + k]! ** 2;
    const norm = Math.sqrt(sq);
    if (norm > radius) {
      const f = radius / norm;
      for (let k = 0; k < d; k++) m[j * d + k] = m[j * d + k]! * f;
    }
  }
}

export function divergence(step: number, what: string, lr: number): DivergenceError {
  return new DivergenceError(
    step,
    `training diverged at step ${step} (${what}): lower the step size --lr, for example to ${lr / 10}`,
  );
}
