// The page's live plots, drawn with uPlot: loss, centre error (DDPM and EM) with a truth or the
// log-likelihood without one, throughput, a 2-D scatter of the data with the centres' trajectories
// (the true centres drawn last, as rings), and for K = 2 with the truth the angle between the
// learned and the true centre difference.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Matrix } from '../types.ts';
import { type Projection, projectRows } from './pca.ts';
import type { Session } from './session.ts';

const DDPM = '#1f6feb';
const EM = '#d9480f';
const GPU = '#2f9e44';
/** Data points drawn in the scatter: enough to show the clusters, few enough to redraw every frame. */
const SCATTER_POINTS = 2000;

type Series = (number | null)[];

function size(el: HTMLElement): { width: number; height: number } {
  return { width: Math.max(320, Math.min(640, el.clientWidth || 460)), height: 240 };
}

/** Filled circles at every [x, y] of a faceted series: uPlot's own point drawing follows series 0's index range, which mode 2 leaves empty. */
export function dots(diameter: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx) => {
    const facet = (u.data as unknown as ([number[], number[]] | null)[])[seriesIdx];
    const path = new Path2D();
    if (!facet) return { fill: path, stroke: path };
    const [xs, ys] = facet;
    const r = (diameter / 2) * devicePixelRatio;
    for (let i = 0; i < xs.length; i++) {
      const x = u.valToPos(xs[i]!, 'x', true);
      const y = u.valToPos(ys[i]!, 'y', true);
      path.moveTo(x + r, y);
      path.arc(x, y, r, 0, 2 * Math.PI);
    }
    return { fill: path, stroke: path };
  };
}

/** Rings at every [x, y] of a faceted series, stroked in the series' colour: drawn over the centres, they hide none of them. */
export function rings(diameter: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx) => {
    const facet = (u.data as unknown as ([number[], number[]] | null)[])[seriesIdx];
    const path = new Path2D();
    if (!facet) return { stroke: path, fill: new Path2D() };
    const r = (diameter / 2) * devicePixelRatio;
    for (let i = 0; i < facet[0].length; i++) {
      const x = u.valToPos(facet[0][i]!, 'x', true);
      const y = u.valToPos(facet[1][i]!, 'y', true);
      path.moveTo(x + r, y);
      path.arc(x, y, r, 0, 2 * Math.PI);
    }
    return { stroke: path, fill: new Path2D() };
  };
}

function padded(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [min, max];
  const margin = 0.08 * (max - min || 1);
  return [min - margin, max + margin];
}

function aligned(xs: number[], ...ys: Series[]): uPlot.AlignedData {
  return [xs, ...ys] as uPlot.AlignedData;
}

/**
 * The panels of a run: the loss, error, angle, log-likelihood, fit and throughput panels follow a student's training
 * steps (a piecewise fit has none); the error needs true centres and the angle K = 2 with them; the log-likelihood
 * stands in without a truth.
 */
export function showPanels(doc: Document, piecewise: boolean, truth: boolean, k: number): void {
  const shows: Record<string, boolean> = { truth, 'k2-truth': truth && k === 2, 'no-truth': !truth };
  for (const panel of doc.querySelectorAll<HTMLElement>('[data-run="student"]')) {
    panel.hidden = piecewise || (panel.dataset.needs !== undefined && !shows[panel.dataset.needs]);
  }
}

export class Plots {
  private readonly loss: uPlot;
  /** With the truth: the matched centre error; without: the average log-likelihood (a file's data). */
  private readonly error: uPlot | undefined;
  private readonly ll: uPlot | undefined;
  private readonly speed: uPlot;
  private readonly scatter: uPlot;
  /** K = 2 with the truth only (docs/math.md section 10 defines the angle for two centres). */
  private readonly angle: uPlot | undefined;
  private readonly dataXY: [number[], number[]];
  private readonly truthXY: [number[], number[]] | null;

  constructor(
    private readonly session: Session,
    private readonly projection: Projection,
    els: { loss: HTMLElement; error: HTMLElement; ll: HTMLElement; speed: HTMLElement; scatter: HTMLElement; angle: HTMLElement },
  ) {
    for (const el of Object.values(els)) el.replaceChildren();
    const label = session.settings.method === 'ddpm' ? 'DDPM-GD' : session.settings.method === 'em' ? 'EM' : 'gradient EM';
    this.loss = new uPlot({
      ...size(els.loss), scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: 'loss', size: 60 }],
      series: [{ label: 'step' }, { label: 'loss', stroke: DDPM, width: 1.5, spanGaps: true }],
    }, aligned([], []), els.loss);
    const beside = (axis: string, scale: uPlot.Scale, el: HTMLElement): uPlot => new uPlot({
      ...size(el), scales: { x: { time: false }, y: scale },
      axes: [{ label: 'step / EM iteration' }, { label: axis, size: 60 }],
      series: [
        { label: 'step' },
        { label: label, stroke: DDPM, width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'EM beside it', stroke: EM, width: 1.5, spanGaps: true, dash: [6, 3], points: { show: false } },
      ],
    }, aligned([], [], []), el);
    const hasTruth = session.input.truth !== undefined;
    this.error = hasTruth ? beside('max centre error', { distr: 3 }, els.error) : undefined;
    this.ll = hasTruth ? undefined : beside('log-likelihood / row', {}, els.ll);
    this.speed = new uPlot({
      ...size(els.speed), scales: { x: { time: false }, sgs: { auto: true }, ms: { auto: true } },
      axes: [
        { label: 'step' },
        { scale: 'sgs', label: 'sample-gradients / s', size: 70, values: (_u, vals) => vals.map((v) => v.toExponential(1)) },
        { scale: 'ms', side: 1, label: 'ms / step', size: 60, grid: { show: false } },
      ],
      series: [
        { label: 'step' },
        { label: 'sample-grads/s', scale: 'sgs', stroke: DDPM, width: 1.5, spanGaps: true, value: (_u, v) => (v === null ? '-' : v.toExponential(3)) },
        { label: 'ms/step (wall)', scale: 'ms', stroke: '#888', width: 1, spanGaps: true },
        { label: 'ms/step (GPU)', scale: 'ms', stroke: GPU, width: 1, spanGaps: true },
      ],
    }, aligned([], [], [], []), els.speed);

    this.angle = session.points[0]!.angle === null ? undefined : new uPlot({
      // |cos| lies in [0, 1]; a fixed range shows how far from a random direction (about 1/sqrt(d)) the run started.
      ...size(els.angle), scales: { x: { time: false }, y: { auto: false, range: [0, 1.02] } },
      axes: [{ label: 'step / EM iteration' }, { label: '|cos| to the true direction', size: 60 }],
      series: [
        { label: 'step' },
        { label: label, stroke: DDPM, width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'EM beside it', stroke: EM, width: 1.5, spanGaps: true, dash: [6, 3], points: { show: false } },
      ],
    }, aligned([], [], []), els.angle);

    const { data, truth } = session.input;
    // Rows j * 2654435761 mod N (a prime multiplier: distinct rows) rather than every s-th row, which aliases
    // with any periodic order of the data (the generator puts sample i in component i mod K).
    const shown = Math.min(data.rows, SCATTER_POINTS);
    this.dataXY = [[], []];
    for (let j = 0; j < shown; j++) {
      const i = shown === data.rows ? j : (j * 2654435761) % data.rows;
      const [x, y] = projection.project(data, i);
      this.dataXY[0].push(x);
      this.dataXY[1].push(y);
    }
    this.truthXY = truth ? projectRows(this.projection, truth) : null;
    const k = session.init.rows;
    const points = (fill: string, stroke: string, pt: number): uPlot.Series => ({ stroke, fill, width: 1.5, paths: dots(pt), points: { show: false } });
    const series: uPlot.Series[] = [
      {},
      { label: 'data', ...points('rgba(90,98,112,0.25)', 'rgba(90,98,112,0.25)', 2.5) },
      { label: 'start', ...points('#fff', DDPM, 9) },
    ];
    for (let j = 0; j < k; j++) series.push({ label: `trajectory ${j + 1}`, stroke: DDPM, width: 1.5, points: { show: false } });
    series.push({ label: `${label} centres`, ...points(DDPM, DDPM, 10) });
    for (let j = 0; j < k; j++) series.push({ label: `EM trajectory ${j + 1}`, stroke: EM, width: 1, dash: [4, 3], points: { show: false } });
    series.push({ label: 'EM centres', ...points(EM, EM, 8) });
    // Last, so that the learned centres, which end on top of them, do not hide them.
    series.push({ label: 'true centres', stroke: '#000', width: 2, paths: rings(15), points: { show: false } });
    this.scatter = new uPlot({
      ...size(els.scatter), mode: 2, cursor: { show: false }, legend: { show: false },
      // 8% margins, so that centres at the edge of the data stay inside the frame.
      scales: { x: { time: false, range: padded }, y: { range: padded } },
      axes: [{ label: projection.label.startsWith('first') ? 'PC 1' : 'x1' }, { label: projection.label.startsWith('first') ? 'PC 2' : 'x2', size: 50 }],
      series,
    }, this.scatterData(), els.scatter);
  }

  private scatterData(): uPlot.AlignedData {
    const s = this.session;
    const k = s.init.rows;
    const path = (traj: Matrix[], j: number): [number[], number[]] => {
      const out: [number[], number[]] = [[], []];
      for (const m of traj) {
        const [x, y] = this.projection.project(m, j);
        out[0].push(x);
        out[1].push(y);
      }
      return out;
    };
    const empty: [number[], number[]] = [[], []];
    const em = s.emEnabled;
    const facets: [number[], number[]][] = [
      this.dataXY,
      projectRows(this.projection, s.init),
      ...Array.from({ length: k }, (_, j) => path(s.trajectory, j)),
      projectRows(this.projection, s.centres),
      ...Array.from({ length: k }, (_, j) => (em ? path(s.emTrajectory, j) : empty)),
      em ? projectRows(this.projection, s.emCentres) : empty,
      this.truthXY ?? empty,
    ];
    // uPlot's faceted mode (mode 2) takes one [xs, ys] pair per series after a null x slot.
    return [null, ...facets] as unknown as uPlot.AlignedData;
  }

  update(): void {
    const s = this.session;
    const lossPts = s.points.filter((p) => p.loss !== null);
    this.loss.setData(aligned(lossPts.map((p) => p.done), lossPts.map((p) => p.loss)));
    const xs = [...new Set([...s.points.map((p) => p.done), ...s.emPoints.map((p) => p.iteration)])].sort((a, b) => a - b);
    const beside = (plot: uPlot | undefined, of: (p: { errorMax: number | null; logLikelihood: number | null }) => number | null) => {
      if (!plot) return;
      const main = new Map(s.points.map((p) => [p.done, of(p)]));
      const em = new Map(s.emPoints.map((p) => [p.iteration, of(p)]));
      plot.setData(aligned(xs, xs.map((x) => main.get(x) ?? null), xs.map((x) => em.get(x) ?? null)));
    };
    beside(this.error, (p) => p.errorMax);
    beside(this.ll, (p) => p.logLikelihood);
    if (this.angle) {
      const mainAngle = new Map(s.points.map((p) => [p.done, p.angle]));
      const emAngle = new Map(s.emPoints.map((p) => [p.iteration, p.angle]));
      this.angle.setData(aligned(xs, xs.map((x) => mainAngle.get(x) ?? null), xs.map((x) => emAngle.get(x) ?? null)));
    }
    const trained = s.points.filter((p) => p.steps > 0);
    const n = s.input.data.rows;
    this.speed.setData(aligned(
      trained.map((p) => p.done),
      trained.map((p) => (n * p.steps) / (p.wallMs / 1000)),
      trained.map((p) => p.wallMs / p.steps),
      trained.map((p) => (p.gpuMs === null ? null : p.gpuMs / p.steps)),
    ));
    this.scatter.setData(this.scatterData());
  }

  destroy(): void {
    for (const p of [this.loss, this.error, this.ll, this.speed, this.scatter, this.angle]) p?.destroy();
  }
}
