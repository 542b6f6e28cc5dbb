// The data of a run: a generated mixture (with its truth) or a file from disk, and
// the initial centres of the chosen schedule. Files are parsed from their bytes with
// the same .npy and CSV readers as the CLI, so a bad file gets the same message.
import { meansOf } from '../algorithms/loop.ts';
import { planSchedule } from '../algorithms/schedules.ts';
import { kmeansPlusPlus } from '../algorithms/seeding.ts';
import { seededRows, warmStart } from '../cli/init.ts';
import { InputError } from '../errors.ts';
import { generateMixture } from '../generate.ts';
import { parseCsv } from '../io/csv.ts';
import { hasNpyMagic, parseNpy } from '../io/npy.ts';
import type { Matrix } from '../types.ts';
import { requireFinite } from '../validate.ts';
import type { Start } from './session.ts';
import { isPaperSchedule, type Settings } from './settings.ts';

export interface Problem {
  readonly data: Matrix;
  /** The true centres when the data were generated. */
  readonly truth?: Matrix;
  readonly source: { readonly kind: 'generated' } | { readonly kind: 'file'; readonly name: string };
}

/** An N x d matrix from the bytes of a .npy (by its magic bytes) or CSV file. */
export function parseMatrixBytes(bytes: Uint8Array, name: string): Matrix {
  const label = `The file '${name}'`;
  if (bytes.length === 0) throw new InputError(`${label} is empty; it must be a .npy file or numeric CSV.`);
  let m: Matrix;
  if (hasNpyMagic(bytes)) m = parseNpy(bytes, label);
  else {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new InputError(`${label} is neither a .npy file (no \\x93NUMPY magic bytes) nor text CSV (it is not valid UTF-8); save the data with np.save or as comma-separated numbers.`);
    }
    m = parseCsv(text, label);
  }
  if (m.rows === 0 || m.cols === 0) throw new InputError(`${label} holds a ${m.rows} x ${m.cols} matrix; it needs at least one row and one column.`);
  requireFinite(m, label);
  return m;
}

export function generatedProblem(s: Settings): Problem {
  const { data, truth } = generateMixture({ k: s.k, d: s.d, n: s.n, separation: s.separation, seed: s.seed });
  return { data, truth, source: { kind: 'generated' } };
}

export function fileProblem(data: Matrix, name: string, k: number): Problem {
  if (data.rows < k) throw new InputError(`The file '${name}' has ${data.rows} rows but K = ${k}: use a smaller K or more data.`);
  return { data, source: { kind: 'file', name } };
}

/**
 * The initial centres: the warm start of Theorem 16 (each true centre moved by a third of
 * the separation along its own seeded direction, as the CLI demo does) or K seeded data rows.
 */
export function initialCentres(s: Settings, p: Problem): Matrix {
  if (s.schedule === 'warm') {
    if (!p.truth) throw new InputError("The warm start moves the true centres, and a file has none: choose 'K random data rows' (schedule=rows).");
    return warmStart(p.truth, s.separation / 3, s.seed);
  }
  return seededRows(p.data, s.k, s.seed);
}

/**
 * The start of a run. Warm and rows: initialCentres, with EM beside it from the same centres. A paper
 * schedule plans its own start (two-stage and projected: a small random m on the centred data, Theorem 7;
 * annealed: k-means++), with the page's steps as the limit of its last stage. EM beside it starts from
 * k-means++ on the same seed, as in the experiment suite: EM from the two-stage start, mean +/- m with m
 * small, would be started near the saddle where the two centres coincide, which no one would do with EM.
 * For annealed this is the schedule's own start.
 */
export function startOf(s: Settings, p: Problem): Start {
  if (!isPaperSchedule(s.schedule)) {
    const init = initialCentres(s, p);
    return { init, emInit: init };
  }
  const plan = planSchedule(s.schedule, p.data, { k: s.k, seed: s.seed, maxSteps: s.steps }, p.truth);
  return { init: meansOf(plan.problem, plan.init), emInit: kmeansPlusPlus(p.data, s.k, s.seed), plan };
}
