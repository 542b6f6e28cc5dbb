// The page's Generate panel: particles flowing from N(0, I) to the learned mixture by the estimator's default
// sampler (reverse diffusion, or the probability-flow ODE for a general student) (resolveSampleOptions, docs/experiments.md 'Sampling'), drawn in the page's
// 2-D projection at about FRAMES values of stopAfter (each a prefix of the same run, recomputed: cheap at
// this n), then the energy distance of the final particles to a data subsample beside direct draws' distance.
import uPlot from 'uplot';
import { InputError } from '../errors.ts';
import { mixtureSamples } from '../estimator.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import { resolveSampleOptions } from '../sample-options.ts';
import type { DiffusionSampler } from '../sampling/options.ts';
import { studentScoreOf } from '../sampling/student-score.ts';
import { isPaperStudent, type StudentParams } from '../training/student.ts';
import { matrix, type Matrix } from '../types.ts';
import { type Backend } from '../backend.ts';
import { type Projection, projectRows } from './pca.ts';

/** Animation frames per run (stopAfter values spread over the S steps, the last one S). */
export const FRAMES = 20;
/** Default particle count (the generate=N URL parameter and the panel's input). */
export const GENERATE_DEFAULT_N = 1000;
/** Most particles: the animation re-runs about FRAMES / 2 prefixes of the run and draws every particle per frame. */
export const GENERATE_MAX_N = 100_000;
/** Data rows the energy distances are measured against (evenly spread, as the scatter's). */
const DATA_ROWS = 2000;

export interface GenerateResult {
  readonly n: number;
  /** S, the sampler's steps (the estimator's default for n). */
  readonly steps: number;
  readonly horizon: number;
  /** Frames drawn (the stopAfter values the animation showed). */
  readonly frames: number;
  /** Rows of the data subsample the distances are measured against. */
  readonly dataRows: number;
  /** Energy distance of the final particles to the data subsample. */
  readonly energyDistance: number;
  /** Energy distance of n direct draws from the learned mixture (seed 1) to the same subsample; null for a piecewise model, which has none. */
  readonly directEnergyDistance: number | null;
}

/** The particle count typed in the panel or given as generate=N (`what` names where), or an InputError saying what to give. */
export function particleCount(text: string, what: string): number {
  const n = text.trim() === '' ? GENERATE_DEFAULT_N : Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > GENERATE_MAX_N) {
    throw new InputError(`${what} takes a whole number of particles from 1 to ${GENERATE_MAX_N} (got '${text}'), e.g. ${GENERATE_DEFAULT_N}`);
  }
  return n;
}

/** stopAfter values 1..S for `frames` frames, increasing, the last S. */
export function frameSteps(steps: number, frames = FRAMES): number[] {
  const out = new Set<number>();
  for (let i = 1; i <= frames; i++) out.add(Math.max(1, Math.round((steps * i) / frames)));
  return [...out];
}

function subsample(data: Matrix, rows: number): Matrix {
  const m = Math.min(rows, data.rows);
  const out = matrix(m, data.cols);
  for (let j = 0; j < m; j++) {
    const i = m === data.rows ? j : (j * 2654435761) % data.rows;
    out.data.set(data.data.subarray(i * data.cols, (i + 1) * data.cols), j * data.cols);
  }
  return out;
}

const nextFrame = () => new Promise<void>((ok) => requestAnimationFrame(() => ok()));

/** A scatter of the data (grey), the centres (black) and the particles (blue), redrawn per frame. */
export class GeneratePlot {
  private readonly plot: uPlot;
  private readonly dataXY: [number[], number[]];
  private readonly centresXY: [number[], number[]];

  constructor(el: HTMLElement, private readonly projection: Projection, data: Matrix, centres: Matrix) {
    el.replaceChildren();
    this.dataXY = projectRows(this.projection, subsample(data, DATA_ROWS));
    this.centresXY = projectRows(this.projection, centres);
    const dot = (fill: string, diameter: number): uPlot.Series => ({
      stroke: fill, fill, points: { show: false },
      paths: (u, idx) => {
        const facet = (u.data as unknown as ([number[], number[]] | null)[])[idx];
        const path = new Path2D();
        if (facet) {
          const r = (diameter / 2) * devicePixelRatio;
          for (let i = 0; i < facet[0].length; i++) {
            const x = u.valToPos(facet[0][i]!, 'x', true);
            const y = u.valToPos(facet[1][i]!, 'y', true);
            path.moveTo(x + r, y);
            path.arc(x, y, r, 0, 2 * Math.PI);
          }
        }
        return { fill: path, stroke: path };
      },
    });
    // Fixed axes from the data and N(0, I) noise, so that the frame does not rescale as the particles move.
    const range = (k: 0 | 1): [number, number] => {
      const vs = [...this.dataXY[k], -3, 3];
      const lo = Math.min(...vs), hi = Math.max(...vs);
      const pad = 0.08 * (hi - lo || 1);
      return [lo - pad, hi + pad];
    };
    const pc = projection.label.startsWith('first');
    this.plot = new uPlot({
      width: Math.max(320, Math.min(640, el.clientWidth || 460)), height: 240, mode: 2, cursor: { show: false }, legend: { show: false },
      scales: { x: { time: false, auto: false, range: range(0) }, y: { auto: false, range: range(1) } },
      axes: [{ label: pc ? 'PC 1' : 'x1' }, { label: pc ? 'PC 2' : 'x2', size: 50 }],
      series: [{}, dot('rgba(90,98,112,0.25)', 2.5), dot('rgba(31,111,235,0.6)', 3), dot('#000', 9)],
    }, this.data([[], []]), el);
  }

  private data(particles: [number[], number[]]): uPlot.AlignedData {
    return [null, this.dataXY, particles, this.centresXY] as unknown as uPlot.AlignedData;
  }

  show(particles: Matrix): void {
    this.plot.setData(this.data(projectRows(this.projection, particles)));
  }

  destroy(): void {
    this.plot.destroy();
  }
}

/**
 * n particles by the estimator's default sampler (defaultSampleMethod) for the student's `centres` (with its general
 * `student`'s variances and weights where given, as DdpmGmm.sample scores them) or a piecewise model, shown at FRAMES prefixes (stopAfter) between animation frames; `onFrame` gets each frame's stopAfter.
 * Returns the distances.
 */
export async function generate(
  backend: Backend,
  centres: Matrix | PiecewiseModel,
  data: Matrix,
  n: number,
  plot: GeneratePlot,
  onFrame: (done: number, total: number) => void,
  student?: StudentParams,
): Promise<GenerateResult> {
  const score = 'kind' in centres || isPaperStudent(student) ? centres : studentScoreOf(centres, student!);
  const plan = resolveSampleOptions(score, n, {}) as DiffusionSampler;
  let last: Matrix | undefined;
  let frames = 0;
  for (const stopAfter of frameSteps(plan.steps)) {
    last = await backend.sample(score, n, { ...plan, stopAfter });
    await nextFrame();
    plot.show(last);
    frames++;
    onFrame(stopAfter, plan.steps);
  }
  const ref = subsample(data, DATA_ROWS);
  const energyDistance = await backend.energyDistance(last!, ref);
  const directEnergyDistance = 'kind' in centres ? null : await backend.energyDistance(mixtureSamples(centres, n, 1, student), ref);
  return { n, steps: plan.steps, horizon: plan.horizon, frames, dataRows: ref.rows, energyDistance, directEnergyDistance };
}
