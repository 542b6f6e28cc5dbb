// What the sampling experiments (sampling.ts) share: a least-squares line with its 95%
// interval, and the energy distance of a sampler to direct samples against the direct-vs-direct level
// (docs/experiments.md, 'Sampling').
import { mixtureSamples } from '../estimator.ts';
import type { SamplerOptions } from '../sampling/options.ts';
import type { Backend } from '../backend.ts';
import type { Matrix } from '../types.ts';

import { timed } from './common.ts';

// ---------------------------------------------------------------------------------------------
// Statistics

export function mean(v: readonly number[]): number {
  return v.reduce((s, x) => s + x, 0) / v.length;
}

export function sd(v: readonly number[]): number {
  if (v.length < 2) return NaN;
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
}

/** Two-sided 95% quantiles of Student's t by degrees of freedom (beyond 30: the normal's 1.96 is within 4%). */
const T95 = [NaN, 12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086];

function t95(df: number): number {
  if (df < 1) return NaN;
  return df < T95.length ? T95[df]! : df <= 30 ? 2.042 : 1.96;
}

/** An ordinary least-squares line y = a + b x and the 95% t interval of b (NaN with fewer than 3 points). */
export interface LineFit {
  readonly slope: number;
  readonly intercept: number;
  readonly lo: number;
  readonly hi: number;
  readonly points: number;
}

export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  const n = xs.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  const slope = n >= 2 && sxx > 0 ? sxy / sxx : NaN;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (ys[i]! - intercept - slope * xs[i]!) ** 2;
  const half = n >= 3 ? t95(n - 2) * Math.sqrt(rss / (n - 2) / sxx) : NaN;
  return { slope, intercept, lo: slope - half, hi: slope + half, points: n };
}

export function num(v: number, digits = 3): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : '-';
}

export function interval(f: LineFit): string {
  return Number.isFinite(f.lo) ? `95% interval [${num(f.lo)}, ${num(f.hi)}]` : 'no interval (fewer than 3 points)';
}

// ---------------------------------------------------------------------------------------------
// Energy distances against direct samples

/** The direct-vs-direct level for n samples of `centres`: mean and sd of D and the mean of D^2 over `reps` pairs. */
export interface NullLevel {
  readonly meanD: number;
  readonly sdD: number;
  readonly meanD2: number;
  /** D^2 of pair r, whose second set is reference set r. */
  readonly d2: number[];
}

/** Direct reference sets use seeds REFERENCE + r; the null's partners REFERENCE + NULL_OFFSET + r. */
export const REFERENCE = 1000;
export const NULL_OFFSET = 500;

export async function nullLevel(backend: Backend, centres: Matrix, n: number, reps: number): Promise<NullLevel> {
  const d: number[] = [];
  for (let r = 0; r < reps; r++) {
    d.push(await backend.energyDistance(mixtureSamples(centres, n, REFERENCE + NULL_OFFSET + r), mixtureSamples(centres, n, REFERENCE + r)));
  }
  return { meanD: mean(d), sdD: sd(d), meanD2: mean(d.map((x) => x * x)), d2: d.map((x) => x * x) };
}

/** A sampler's D against the direct reference sets, averaged over reps (its seed r each), and its seconds per run. */
export interface Measured {
  readonly meanD: number;
  readonly meanD2: number;
  /** sqrt(max(0, E[D^2] - E[D^2_null])): the V-statistic's null bias removed (docs/math.md section 11). */
  readonly excess: number;
  readonly seconds: number;
  /** D^2 of run r, against reference set r. */
  readonly d2: number[];
}

export async function measure(backend: Backend, centres: Matrix, n: number, reps: number, options: (seed: number) => SamplerOptions, level: NullLevel): Promise<Measured> {
  const d: number[] = [];
  let seconds = 0;
  for (let r = 0; r < reps; r++) {
    const [s, sec] = await timed(() => backend.sample(centres, n, options(r)));
    seconds += sec;
    d.push(await backend.energyDistance(s, mixtureSamples(centres, n, REFERENCE + r)));
  }
  const meanD2 = mean(d.map((x) => x * x));
  return { meanD: mean(d), meanD2, excess: Math.sqrt(Math.max(0, meanD2 - level.meanD2)), seconds: seconds / reps, d2: d.map((x) => x * x) };
}
