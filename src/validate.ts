// Up-front checks of user input (docs/architecture.md, scikit-learn anchor:
// validated with messages that name the fix). Each throws an InputError whose one-line message says what is wrong and
// what to do. Rows and columns in messages are 1-based, and say so.
import { InputError } from './errors.ts';
import { matrix, type Matrix } from './types.ts';

/** Every entry finite; names the first bad entry by 1-based row and column. */
/**
 * Throws InputError naming the first row whose squared norm ||x||^2 is beyond float64's range: the mixture's
 * distances and the data radius square it, so such a row would turn the fit's numbers into Inf or NaN.
 */
export function requireSquarableRows(m: Matrix, what: string): void {
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += m.data[i * m.cols + c]! ** 2;
    if (!Number.isFinite(s)) {
      let big = 0;
      for (let c = 0; c < m.cols; c++) big = Math.max(big, Math.abs(m.data[i * m.cols + c]!));
      throw new InputError(`${what} row ${i + 1} (1-based) holds ${big.toPrecision(3)}, whose square is beyond float64's range (1.8e308), which the mixture's distances need: rescale the data (e.g. standardise the columns)`);
    }
  }
}

export function requireFinite(m: Matrix, what: string): void {
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]!;
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / m.cols) + 1;
      const col = (i % m.cols) + 1;
      throw new InputError(
        `${what} has a non-finite value (${v}) at row ${row}, column ${col} (1-based; first bad entry); remove or impute NaN and Inf values`,
      );
    }
  }
}

/** N >= K: every centre needs at least one sample. */
export function requireEnoughSamples(n: number, k: number): void {
  if (n < k) {
    throw new InputError(`N = ${n} samples but K = ${k} centres: a mixture needs at least as many samples as centres; use more data or a smaller K`);
  }
}

/** The data and the centres live in the same dimension d. */
export function requireSameDimension(data: Matrix, means: Matrix, meansWhat = 'means'): void {
  if (data.cols !== means.cols) {
    throw new InputError(
      `data has d = ${data.cols} columns but ${meansWhat} has d = ${means.cols}; both must have one column per dimension`,
    );
  }
}

/** An explicit noise matrix has the data's shape N x d (docs/math.md section 7). */
export function requireNoiseShape(noise: Matrix, data: Matrix, what = 'noise (--noise)'): void {
  if (noise.rows !== data.rows || noise.cols !== data.cols) {
    throw new InputError(
      `${what} is ${noise.rows} x ${noise.cols} but the data is ${data.rows} x ${data.cols}; the noise needs one row per sample and one column per dimension`,
    );
  }
}

/** t > 0 and finite (docs/math.md section 2: sigma_0 = 0). */
export function requireNoiseScale(t: number, what = 'the noise scale t (--t)'): void {
  if (!Number.isFinite(t) || t <= 0) {
    throw new InputError(`${what} must be a finite number > 0 (sigma_t = 0 at t = 0), got ${t}; try e.g. --t 0.5`);
  }
}

/** eta > 0 and finite (docs/math.md section 6). */
export function requireLearningRate(lr: number, what = 'the learning rate (--lr)'): void {
  if (!Number.isFinite(lr) || lr <= 0) {
    throw new InputError(`${what} must be a finite number > 0, got ${lr}; try e.g. --lr 0.1`);
  }
}

/** H a positive integer. */
export function requireSteps(steps: number, what = 'the number of steps (--steps)'): void {
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new InputError(`${what} must be a positive integer, got ${steps}`);
  }
}

/** A positive integer count such as d or N; returns it. */
export function requirePositiveInteger(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${what} must be a positive integer, got ${v}`);
  return v;
}

/** A count that may be 0, such as the averaging steps; returns it. */
export function requireNonNegativeInteger(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InputError(`${what} must be a whole number >= 0, got ${v}`);
  return v;
}

/** K an integer >= 1. */
export function requireCentreCount(k: number, what = 'the number of centres K (--k)'): void {
  if (!Number.isSafeInteger(k) || k < 1) throw new InputError(`${what} must be an integer >= 1, got ${k}`);
}

/** Tied mode is the symmetric two-component student (docs/math.md section 3). */
export function requireTiedK(k: number): void {
  if (k !== 2) {
    throw new InputError(
      `--tied needs K = 2 (the symmetric student m_2 = -m_1) but K = ${k}; drop --tied or use K = 2`,
    );
  }
}

/** 'a', 'b' or 'c': the allowed values of a choice, as messages list them. */
export function quotedList(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** Seeds are non-negative integers below 2^53, exactly representable as doubles. */
export function requireSeed(seed: number, what = 'the seed (--seed)'): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InputError(`${what} must be an integer with 0 <= seed < 2^53, got ${seed}`);
  }
}

/** A finite positive real such as the separation; returns it. */
export function requirePositiveFinite(v: number, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new InputError(`${what} must be a finite number > 0, got ${v}`);
  return v;
}

/** A finite real >= 0 such as a final time; returns it. */
export function requireNonNegativeFinite(v: number, what: string): number {
  if (!Number.isFinite(v) || v < 0) throw new InputError(`${what} must be a finite number >= 0, got ${v}`);
  return v;
}

/**
 * Converts tied centres as given in a file to the Backend's 1 x d form.
 * Accepted: 1 x d (the centre m of +m / -m), or 2 x d with row 2 = -row 1 up to a
 * relative 1e-6 (so CSV files with ~7 printed digits pass).
 */
export function tiedCentres(means: Matrix, what: string): Matrix {
  if (means.rows === 1) return means;
  if (means.rows !== 2) {
    throw new InputError(
      `--tied needs ${what} with 1 row (m) or 2 rows (m, -m), but it has ${means.rows} rows; drop --tied or give 2 centres`,
    );
  }
  const d = means.cols;
  let scale = 0;
  for (const v of means.data) scale = Math.max(scale, Math.abs(v));
  for (let j = 0; j < d; j++) {
    const a = means.data[j]!;
    const b = means.data[d + j]!;
    if (Math.abs(a + b) > 1e-6 * Math.max(scale, 1e-300)) {
      throw new InputError(
        `--tied needs ${what} row 2 = -row 1 (the symmetric student), but column ${j + 1} (1-based) has ${a} and ${b}; give one row m, or rows m and -m, or drop --tied`,
      );
    }
  }
  return matrix(1, d, means.data.slice(0, d));
}

/** Expands a tied 1 x d centre m to the 2 x d centres (m, -m). */
export function untiedCentres(m: Matrix): Matrix {
  const out = new Float64Array(2 * m.cols);
  for (let j = 0; j < m.cols; j++) {
    out[j] = m.data[j]!;
    out[m.cols + j] = -m.data[j]!;
  }
  return matrix(2, m.cols, out);
}

// Checks every Backend applies in the same words, so that the GPU engine and the CPU reference refuse
// the same problems.

/** The data of Backend.dataset, checked once for every later call: its shape and finite values. */
export function checkData(data: Matrix): void {
  requireDataShape(data);
  if (data.data.length !== data.rows * data.cols) {
    throw new InputError(`the data says ${data.rows} x ${data.cols} but holds ${data.data.length} values: build it with matrix(rows, cols, values)`);
  }
  requireFinite(data, 'the data');
}

function requireDataShape(data: { readonly rows: number; readonly cols: number }): void {
  if (!Number.isSafeInteger(data.rows) || !Number.isSafeInteger(data.cols) || data.rows < 1 || data.cols < 1) {
    throw new InputError(`the data is ${data.rows} x ${data.cols}: at least one sample with at least one coordinate is needed`);
  }
}

/** Shapes of data (a matrix or a dataset handle) and centres; returns K (2 when tied). A chunk of larger data (`chunk`) may hold fewer rows than K. */
export function checkProblem(data: { readonly rows: number; readonly cols: number }, centres: Matrix, tied: boolean, chunk = false): number {
  requireDataShape(data);
  if (centres.cols !== data.cols) {
    throw new InputError(`centres have ${centres.cols} columns but the data has ${data.cols}: both must have d columns`);
  }
  if (tied && centres.rows !== 1) {
    throw new InputError(`tied mode takes one centre (1 x ${data.cols}, the second is its negative), got ${centres.rows} x ${centres.cols}`);
  }
  if (centres.rows < 1) throw new InputError('at least one centre is needed (K >= 1)');
  const k = tied ? 2 : centres.rows;
  if (data.rows < k && !chunk) {
    throw new InputError(`N = ${data.rows} samples is fewer than K = ${k} centres: give more data or fewer centres`);
  }
  return k;
}

/** The step size eta of GD and gradient EM. */
export function checkStepSize(lr: number): void {
  if (!Number.isFinite(lr) || lr <= 0) {
    throw new InputError(`the step size must be a finite number > 0 (got ${lr}): pass --lr such as 0.1`);
  }
}
