// The page's piecewise run (docs/math.md section 13): PiecewiseScoreModel with the library's defaults on the page's
// backend (the GPU engine does the per-cell sums), a status line per level of the ladder, and the cells drawn in the
// scatter's 2-D view: the data coloured by their cell at the lowest level, the cell centres in black.
import uPlot from 'uplot';
import type { PiecewiseModelFile } from '../model-file.ts';
import { PiecewiseScoreModel, type PiecewiseLevelReport, type PiecewiseModel } from '../piecewise-estimator.ts';
import { nearestCell } from '../piecewise/model.ts';
import { matrix, type Matrix } from '../types.ts';
import { type Backend } from '../backend.ts';
import type { GenerateResult } from './particles.ts';
import { type Projection, projectRows } from './pca.ts';
import { dots } from './plots.ts';
import type { PageData } from './problem.ts';
import type { Settings } from './settings.ts';

/** What the headless contract publishes for a piecewise run (docs/browser.md). */
export interface PiecewiseResult {
  readonly model: 'piecewise';
  readonly settings: Settings;
  readonly adapter: string;
  readonly data: { readonly rows: number; readonly cols: number; readonly source: 'generated' | 'file' };
  /** One report per level, from the horizon down: t, cells, ridge, losses, notes. */
  readonly levels: readonly PiecewiseLevelReport[];
  readonly notes: readonly string[];
  readonly seconds: number;
  /** The model file (PiecewiseScoreModel.fromJSON and 'ddpm-gmm sample' read it). */
  readonly file: PiecewiseModelFile;
  readonly generate?: GenerateResult;
}

/** A level's cells in data coordinates: x_t centres divided by a_t = e^{-t}. */
export function cellsInData(model: PiecewiseModel, level = model.levels.length - 1): Matrix {
  const { t, cells } = model.levels[level]!;
  return matrix(cells.rows, cells.cols, Float64Array.from(cells.data, (v) => v * Math.exp(t)));
}

/** Fits the piecewise model to the page's data on `backend`, reporting each level; returns the published result. */
export async function fitOnPage(backend: Backend, s: Settings, input: PageData, onLevel: (r: PiecewiseLevelReport) => void): Promise<{ model: PiecewiseModel; result: PiecewiseResult }> {
  const estimator = new PiecewiseScoreModel({ degree: s.degree, levels: s.levels, cells: s.cells, seed: s.seed, backend, onProgress: onLevel });
  const began = performance.now();
  const model = await estimator.fit(input.data);
  const seconds = (performance.now() - began) / 1000;
  const data = { rows: input.data.rows, cols: input.data.cols, source: input.source.kind };
  return { model, result: { model: 'piecewise', settings: s, adapter: backend.adapter, data, levels: estimator.reports, notes: estimator.notes, seconds, file: estimator.toJSON() } };
}

const PALETTE = ['#1f6feb', '#d9480f', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e03131', '#5c940d', '#6741d9', '#c2255c'];
const SCATTER_POINTS = 2000;

/** The scatter's view of a piecewise model: up to 2000 data rows coloured by their lowest-level cell, and the centres. */
export function drawCells(el: HTMLElement, projection: Projection, data: Matrix, model: PiecewiseModel): uPlot {
  el.replaceChildren();
  const cells = cellsInData(model);
  const J = cells.rows;
  const groups: [number[], number[]][] = Array.from({ length: J }, () => [[], []]);
  const stride = Math.max(1, Math.floor(data.rows / SCATTER_POINTS));
  for (let i = 0; i < data.rows; i += stride) {
    const [x, y] = projection.project(data, i);
    const g = groups[nearestCell(data.data, i * data.cols, cells)]!;
    g[0].push(x);
    g[1].push(y);
  }
  const centres = projectRows(projection, cells);
  const pc = projection.label.startsWith('first');
  const series: uPlot.Series[] = [{}, ...groups.map((_, j) => ({ stroke: PALETTE[j % PALETTE.length], fill: PALETTE[j % PALETTE.length], paths: dots(3), points: { show: false } })), { stroke: '#000', fill: '#000', paths: dots(9), points: { show: false } }];
  return new uPlot({
    width: Math.max(320, Math.min(640, el.clientWidth || 460)), height: 240, mode: 2, cursor: { show: false }, legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ label: pc ? 'PC 1' : 'x1' }, { label: pc ? 'PC 2' : 'x2', size: 50 }],
    series,
  }, [null, ...groups, centres] as unknown as uPlot.AlignedData, el);
}

/** The status text of a level: where the ladder is and what the level did. */
export function levelLine(r: PiecewiseLevelReport, degree: number): string {
  return `piecewise fit (degree ${degree}): level ${r.level + 1} / ${r.levels}, t = ${Number(r.t.toPrecision(3))}, ${r.cells} cells, loss ${Number(r.loss.toPrecision(4))}`;
}
