// Up-front checks of the piecewise score model and its fit (docs/math.md section 13), in the words of
// src/validate.ts: each throws a one-line InputError that says what is wrong and what to do.
import { InputError } from '../errors.ts';
import { featureCount, type PiecewiseModel } from './model.ts';

/** 1 (affine) or 2 (with diagonal quadratic terms). */
export function checkDegree(degree: unknown): asserts degree is 1 | 2 {
  if (degree !== 1 && degree !== 2) {
    throw new InputError(`the piecewise degree must be 1 (affine) or 2 (affine plus diagonal quadratic terms), got ${String(degree)}`);
  }
}

/** A geometric ladder from T down to tMin > 0 with at least 2 levels. */
export function checkLadder(horizon: number, tMin: number, levels: number): void {
  if (typeof tMin !== 'number' || !Number.isFinite(tMin) || tMin <= 0) {
    throw new InputError(`the ladder's smallest time tMin must be a finite number > 0 (sigma_t = 0 at t = 0), got ${String(tMin)}; try 0.01`);
  }
  if (typeof horizon !== 'number' || !Number.isFinite(horizon) || horizon <= tMin) {
    throw new InputError(`the ladder's horizon T must be a finite number > tMin = ${tMin}, got ${String(horizon)}; try T = 8`);
  }
  if (!Number.isSafeInteger(levels) || levels < 2) {
    throw new InputError(`the ladder needs an integer number of levels >= 2 (T and tMin at least), got ${String(levels)}`);
  }
}

/** A positive integer option of the fit, such as the draws R or the cell count J. */
export function checkCount(v: unknown, what: string, min = 1): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InputError(`${what} must be an integer >= ${min}, got ${String(v)}`);
}

/** A model's shape: levels in decreasing t > 0, J x d cells and (J p) x d finite coefficients per level. */
export function checkPiecewiseModel(model: PiecewiseModel): void {
  checkDegree(model.degree);
  const { d, levels } = model;
  if (!Number.isSafeInteger(d) || d < 1) throw new InputError(`a piecewise model needs d >= 1, got ${d}`);
  if (levels.length < 1) throw new InputError('a piecewise model needs at least one level');
  if (model.interpolation !== 'nearest' && model.interpolation !== 'linear') {
    throw new InputError(`the level interpolation must be 'nearest' or 'linear', got ${String(model.interpolation)}`);
  }
  const p = featureCount(d, model.degree);
  levels.forEach((level, l) => {
    const where = `piecewise level ${l + 1} (1-based, t = ${level.t})`;
    if (!Number.isFinite(level.t) || level.t <= 0 || (l > 0 && level.t >= levels[l - 1]!.t)) {
      throw new InputError(`${where}: the level times must be finite, > 0 and strictly decreasing`);
    }
    if (level.cells.rows < 1 || level.cells.cols !== d) throw new InputError(`${where}: the cells are ${level.cells.rows} x ${level.cells.cols}, need J x ${d} with J >= 1`);
    if (level.coef.rows !== level.cells.rows * p || level.coef.cols !== d) {
      throw new InputError(`${where}: the coefficients are ${level.coef.rows} x ${level.coef.cols}, need (J p) x d = ${level.cells.rows * p} x ${d}`);
    }
    if (!level.cells.data.every(Number.isFinite) || !level.coef.data.every(Number.isFinite)) throw new InputError(`${where}: the cells and coefficients must be finite`);
    if (level.tau !== undefined && !(Number.isFinite(level.tau) && level.tau > 0)) throw new InputError(`${where}: the soft gate width tau must be a finite number > 0, got ${level.tau}`);
  });
}
