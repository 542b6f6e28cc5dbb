// The fitted mixture's figures that need no true centres: the average log-likelihood, BIC and cluster sizes,
// by the estimator's own score, bic and predict on the run's model file (DdpmGmm.fromJSON), so the page reports
// a file's fit as `ddpm-gmm fit` and `predict` would, in the data's units.
import { DdpmGmm } from '../estimator.ts';
import { createModelFile, type ModelFile } from '../model-file.ts';
import type { Session } from './session.ts';

/** v to `digits` significant digits (status.ts's fmt; status.ts imports export.ts, which imports this file). */
const fmt = (v: number, digits = 4): string => Number(v.toPrecision(digits)).toString();

export interface FitSummary {
  /** Average log-likelihood per row (1/N) sum log q(x_n), a density in the data's units (DdpmGmm.score). */
  readonly logLikelihood: number;
  /** DdpmGmm.bic: -2 sum log q(x_n) + p ln N, lower is better. */
  readonly bic: number;
  /** Rows per component, by DdpmGmm.predict (the most likely component). */
  readonly sizes: number[];
  /** The run's model file: `ddpm-gmm predict --model` and DdpmGmm.fromJSON read it. */
  readonly model: ModelFile;
}

/** The summary of the session's current centres on all its data rows. */
export function fitSummary(s: Session): FitSummary {
  const model = createModelFile({
    means: s.centres,
    // The learned variances and weights, in the fit's coordinates, as DdpmGmm.toJSON writes them.
    ...(s.student ? { student: s.student } : {}),
    method: s.settings.method,
    schedule: s.settings.schedule,
    converged: s.converged,
    nIter: s.stepsDone,
    backendUsed: null,
    scaling: s.fit.scaling ?? null,
  });
  const fitted = DdpmGmm.fromJSON(model);
  const X = s.input.data;
  const sizes = new Array<number>(s.centres.rows).fill(0);
  for (const label of fitted.predict(X)) sizes[label]!++;
  return { logLikelihood: fitted.score(X), bic: fitted.bic(X), sizes, model };
}

/** The Fit panel: the figures, then one row per component with its size, a bar and its centre in the data's units. */
export function renderSummary(el: HTMLElement, f: FitSummary, header: readonly string[] | undefined): void {
  const n = f.sizes.reduce((a, b) => a + b, 0);
  const doc = el.ownerDocument;
  const line = (text: string) => Object.assign(doc.createElement('div'), { textContent: text });
  const table = doc.createElement('table');
  const head = table.insertRow();
  const cols = f.model.dimension;
  const shown = Math.min(cols, 6);
  for (const h of ['component', 'rows', 'share', ...Array.from({ length: shown }, (_, c) => header?.[c] ?? `x${c + 1}`), ...(cols > shown ? ['...'] : [])]) {
    head.appendChild(Object.assign(doc.createElement('th'), { textContent: h }));
  }
  f.model.means.forEach((centre, j) => {
    const row = table.insertRow();
    row.insertCell().textContent = String(j + 1);
    row.insertCell().textContent = String(f.sizes[j]);
    const bar = doc.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(100 * f.sizes[j]!) / Math.max(1, n)}%`;
    bar.title = `${fmt((100 * f.sizes[j]!) / Math.max(1, n), 3)}%`;
    row.insertCell().appendChild(bar);
    for (const v of centre.slice(0, shown)) row.insertCell().textContent = fmt(v);
    if (cols > shown) row.insertCell().textContent = '...';
  });
  el.replaceChildren(
    line(`average log-likelihood per row ${fmt(f.logLikelihood, 6)} (in the data's units)`),
    line(`BIC ${fmt(f.bic, 7)} (N = ${n}; lower is better)`),
    line('Cluster sizes (each row to its most likely component) and the centres in the data\'s units:'),
    table,
  );
}
