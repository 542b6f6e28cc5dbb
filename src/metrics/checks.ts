// The metrics' checks (docs/math.md section 11), shared by both backends.
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { requireFinite, requireSeed } from '../validate.ts';

/** Two non-empty, finite sample sets with the same number of columns (the energy distance's inputs). */
export function checkSampleSets(x: Matrix, y: Matrix, what = 'the energy distance'): void {
  for (const [m, name] of [[x, 'first'], [y, 'second']] as const) {
    if (m.rows < 1 || m.cols < 1) {
      throw new InputError(`${what}: the ${name} sample set is ${m.rows} x ${m.cols}; give at least one row with at least one column`);
    }
    requireFinite(m, `${what}: the ${name} sample set`);
  }
  if (x.cols !== y.cols) {
    throw new InputError(`${what}: the sample sets have ${x.cols} and ${y.cols} columns; both need one column per dimension d`);
  }
}

/** Samples and centres for a nearest-centre search: both non-empty and finite, with the same d. */
export function checkSamplesAndCentres(samples: Matrix, centres: Matrix, what: string): void {
  for (const [m, row] of [[samples, 'sample'], [centres, 'centre']] as const) {
    if (m.rows < 1 || m.cols < 1) {
      throw new InputError(`${what}: the ${row} matrix is ${m.rows} x ${m.cols}; give at least one ${row} (row) with at least one column`);
    }
    requireFinite(m, `${what}: the ${row} matrix`);
  }
  if (samples.cols !== centres.cols) {
    throw new InputError(`${what}: the samples have ${samples.cols} columns and the centres ${centres.cols}; both need one column per dimension d`);
  }
}

/** The score error's inputs (docs/math.md section 11): K >= 1 and K* >= 1 finite centres of one d, t >= 0, 2 K* <= samples < 2^32. */
export function checkScoreErrorRequest(centres: Matrix, trueCentres: Matrix, t: number, samples: number, seed: number): void {
  const d = trueCentres.cols;
  if (centres.rows < 1 || trueCentres.rows < 1 || d < 1 || centres.cols !== d) {
    throw new InputError(
      `the score error needs K >= 1 centres and K* >= 1 true centres with the same d >= 1 columns (got ${centres.rows} x ${centres.cols} and ${trueCentres.rows} x ${d})`,
    );
  }
  requireFinite(centres, "the score error's centres");
  requireFinite(trueCentres, "the score error's true centres");
  checkScoreErrorDraws(t, samples, trueCentres.rows, seed);
}

/** The score error's time t >= 0, its 2 K* <= samples < 2^32 draws (two per true component) and its seed. */
export function checkScoreErrorDraws(t: number, samples: number, trueComponents: number, seed: number): void {
  if (!Number.isFinite(t) || t < 0) throw new InputError(`the score error's time t must be a finite number >= 0 (got ${t})`);
  const Kt = trueComponents;
  if (!Number.isSafeInteger(samples) || samples < 2 * Kt || samples >= 4294967296) {
    throw new InputError(
      `the score error needs an integer sample count of at least 2 K* = ${2 * Kt} (two per true component, for the standard error), below 2^32; got ${samples}`,
    );
  }
  requireSeed(seed, "the score error's seed");
}
