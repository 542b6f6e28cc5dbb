// The real-data experiment (docs/experiments.md, 'Real data'): fit + predict on raw iris and digits (handed
// over by the front door) and on generated mixtures with unequal spreads, weights and feature units; the
// adjusted Rand index against the true labels and the matched centre error, for each fit variant of the
// estimator and, where the front door can run it, scikit-learn's GaussianMixture (spherical, diag) and KMeans.
import { DdpmGmm, type DdpmGmmOptions } from '../estimator.ts';
import { DivergenceError } from '../errors.ts';
import { centreError } from '../centre-error.ts';
import type { Matrix } from '../types.ts';
import type { Backend } from '../backend.ts';
import { timed, type Experiment, type Row } from './common.ts';
import { adjustedRandIndex, classMeans, generatedSet, type FitVariant, type LabelledSet, type RealDataSource } from './real-data-sets.ts';

/** The variants the table shows by default: the estimator's defaults, and beside them one choice changed each. */
export const DEFAULT_VARIANTS: readonly FitVariant[] = [
  { label: 'ddpm, defaults (scale within, diag, learned weights)', options: {} },
  { label: 'ddpm, scale none', options: { scale: 'none' } },
  { label: 'ddpm, spherical', options: { covariance: 'spherical' } },
  { label: "ddpm, the paper's student", options: { covariance: 'identity', weights: 'equal' } },
];

async function fitVariant(backend: Backend, set: LabelledSet, variant: FitVariant, seed: number): Promise<{ labels?: Int32Array; means?: Matrix; nIter: number; note?: string }> {
  const model = new DdpmGmm({ ...variant.options, nComponents: set.k, backend, seed } as DdpmGmmOptions);
  try {
    const labels = await model.fitPredict(set.X);
    return { labels, means: model.means!, nIter: model.nIter, ...(model.notes.length ? { note: `${model.notes.length} scaling note(s)` } : {}) };
  } catch (e) {
    if (e instanceof DivergenceError) return { nIter: e.step, note: `diverged: ${e.message.slice(0, 60)}` };
    throw e;
  } finally {
    model.dispose();
  }
}

function rowOf(set: LabelledSet, method: string, labels: Int32Array | undefined, means: Matrix | undefined, steps: number, seconds: number, note?: string): Row {
  const truth = set.truth ?? classMeans(set.X, set.labels, set.k);
  const err = means ? centreError(means, truth) : undefined;
  const errText = err ? `centre error mean ${err.mean.toPrecision(3)}, max ${err.max.toPrecision(3)}` : '';
  return {
    experiment: 'real-data',
    setting: `${set.name} N=${set.X.rows} d=${set.X.cols} K=${set.k}`,
    method,
    value: labels ? adjustedRandIndex(labels, set.labels) : NaN,
    valueName: 'ARI',
    steps,
    seconds,
    note: [errText, note].filter(Boolean).join('; '),
  };
}

/** The experiment on the sets the source hands over and the generated ones, for the given fit variants. */
export const realData: Experiment = async (backend, o, log) => {
    const source = o.realData;
    const variants = o.fitVariants ?? DEFAULT_VARIANTS;
    const seed = 0;
    const found = source?.sets() ?? { sets: [], missing: ['no real sets: this front door hands none over'] };
    for (const m of found.missing) log(`real-data: ${m}`);
    const generated = [generatedSet('unequal', o.quick ? 3000 : 30000, 21), generatedSet('units', o.quick ? 1500 : 6000, 22)];
    const sets = [...found.sets, ...generated];
    const rows: Row[] = [];
    const skipped: string[] = [...found.missing];
    for (const set of sets) {
      for (const variant of variants) {
        log(`real-data ${set.name}: ${variant.label}`);
        const [r, s] = await timed(() => fitVariant(backend, set, variant, seed));
        rows.push(rowOf(set, variant.label, r.labels, r.means, r.nIter, s, r.note));
      }
      const ref = source?.reference ? await source.reference(set.X, set.k, seed) : 'no reference runner';
      if (typeof ref === 'string') {
        if (!skipped.includes(ref)) skipped.push(ref);
        continue;
      }
      for (const f of ref) rows.push(rowOf(set, f.method, f.labels, f.means, f.nIter, f.seconds));
    }
    if (skipped.length) log(`real-data: skipped: ${skipped.join('; ')}`);
    return {
      rows,
      curves: [],
      settings: {
        variants: variants.map((v) => ({ label: v.label, options: v.options })),
        seed,
        sets: sets.map((s) => `${s.name} (${s.X.rows} x ${s.X.cols}, K = ${s.k})`),
        centreError: 'Hungarian-matched, in the data units, against the true centres (generated) or the class means (real)',
        skipped,
      },
    };
};
