// The data of the real-data experiment (docs/experiments.md, 'Real data'): the labelled sets a front door
// hands over, the generated mixtures with unequal spreads, weights and feature units, and the adjusted
// Rand index that scores a labelling against the truth.
import { trueCentres } from '../mixtures.ts';
import { gaussianMixture, generateGaussianMixture } from '../full-covariance/mixture.ts';
import { matrix, type Matrix } from '../types.ts';
import type { DdpmGmmOptions } from '../estimator.ts';

/** A data set with its true labels, in the units its source gives. */
export interface LabelledSet {
  readonly name: string;
  readonly X: Matrix;
  readonly labels: Int32Array;
  readonly k: number;
  /** The true centres where known (generated sets); else the class means stand in. */
  readonly truth?: Matrix;
}

/** One fit of the estimator to compare: its label in the table and its options (beside nComponents and the backend). */
export interface FitVariant {
  readonly label: string;
  readonly options: Partial<DdpmGmmOptions> & Record<string, unknown>;
}

/** What a reference implementation (scikit-learn) gave on one set. */
export interface ReferenceFit {
  readonly method: string;
  readonly labels: Int32Array;
  readonly means: Matrix;
  readonly seconds: number;
  readonly nIter: number;
}

/** What the front door hands the experiment: the labelled real sets, and a reference runner where it has one. */
export interface RealDataSource {
  /** The real sets it found, and a sentence for each it did not. */
  readonly sets: () => { readonly sets: readonly LabelledSet[]; readonly missing: readonly string[] };
  /** scikit-learn's fits of X with K components, or the reason it cannot run them. */
  readonly reference?: (X: Matrix, k: number, seed: number) => Promise<readonly ReferenceFit[] | string>;
}

/** K x d means of X's rows by label. */
export function classMeans(X: Matrix, labels: Int32Array, k: number): Matrix {
  const { rows: n, cols: d } = X;
  const out = matrix(k, d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    counts[labels[i]!]!++;
    for (let c = 0; c < d; c++) out.data[labels[i]! * d + c]! += X.data[i * d + c]!;
  }
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) out.data[j * d + c]! /= Math.max(1, counts[j]!);
  return out;
}

/** The labels as 0..K-1 (a file's labels may be any integers). */
export function denseLabels(y: ArrayLike<number>): { labels: Int32Array; k: number } {
  const ids = new Map<number, number>();
  const labels = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    if (!ids.has(y[i]!)) ids.set(y[i]!, ids.size);
    labels[i] = ids.get(y[i]!)!;
  }
  return { labels, k: ids.size };
}

const choose2 = (m: number): number => (m * (m - 1)) / 2;

/**
 * The adjusted Rand index of two labellings (Hubert and Arabie 1985): 1 for the same partition up to names,
 * about 0 for a random one. Both constant (one cluster each) or both all singletons: 1, as scikit-learn.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`adjustedRandIndex: ${n} labels against ${b.length}`);
  const pairs = new Map<string, number>();
  const rowSums = new Map<number, number>();
  const colSums = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    rowSums.set(a[i]!, (rowSums.get(a[i]!) ?? 0) + 1);
    colSums.set(b[i]!, (colSums.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const v of pairs.values()) index += choose2(v);
  let sa = 0;
  let sb = 0;
  for (const v of rowSums.values()) sa += choose2(v);
  for (const v of colSums.values()) sb += choose2(v);
  const expected = (sa * sb) / choose2(n);
  const max = (sa + sb) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

/**
 * A mixture with unequal spherical spreads and weights (the raw blobs: spreads 0.5 to 2.5), or with
 * features in units from 0.1 to 1000 (wine-like scales), seeded; the truth is in the data's units.
 */
export function generatedSet(kind: 'unequal' | 'units', n: number, seed: number): LabelledSet {
  const k = kind === 'unequal' ? 6 : 3;
  const d = kind === 'unequal' ? 8 : 6;
  const centres = trueCentres(k, d, kind === 'unequal' ? 8 : 6, seed);
  const weights = Array.from({ length: k }, (_, i) => i + 1);
  const total = weights.reduce((s, w) => s + w, 0);
  const spreads = Array.from({ length: k }, (_, i) => (kind === 'unequal' ? 0.5 + (2 * i) / (k - 1) : [0.7, 1, 1.4][i]!));
  // Feature units: 'units' multiplies feature c by units[c] and shifts the last by 10^5.
  const units = kind === 'units' ? [0.1, 1, 10, 100, 1000, 0.5] : Array.from({ length: d }, () => 1);
  const shift = kind === 'units' ? [0, 0, 0, 0, 0, 1e5] : Array.from({ length: d }, () => 0);
  const means = matrix(k, d, centres.data.map((v, i) => v * units[i % d]! + shift[i % d]!));
  const cov = new Float64Array(k * d * d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) cov[j * d * d + c * d + c] = (spreads[j]! * units[c]!) ** 2;
  const { data, labels } = generateGaussianMixture(gaussianMixture(weights.map((w) => w / total), means, cov), n, seed);
  return { name: kind === 'unequal' ? `blobs K=${k} d=${d} spreads 0.5-2.5, weights 1:..:${k}` : `units 0.1-1000, shift 1e5, K=${k} d=${d}`, X: data, labels, k, truth: means };
}
