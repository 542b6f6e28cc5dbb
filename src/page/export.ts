// The result of a run as JSON: what "Export JSON" downloads and what the headless
// contract publishes on window.ddpmGmm.result (docs/browser.md).
import { toRows } from '../types.ts';
import type { GenerateResult } from './particles.ts';
import type { Session } from './session.ts';
import type { Settings } from './settings.ts';
import type { FitSummary } from './summary.ts';

export interface RunResult {
  readonly settings: Settings;
  readonly adapter: string;
  readonly isSoftware: boolean;
  readonly timestampQueries: boolean;
  readonly data: { readonly rows: number; readonly cols: number; readonly source: 'generated' | 'file'; readonly file?: string };
  readonly status: string;
  readonly stepsDone: number;
  /** Centres in the data's units (the fit runs in the scaling's coordinates, as DdpmGmm.fit does). */
  readonly init: number[][];
  readonly centres: number[][];
  /** The estimator's per-feature scaling of this run (null for scale 'none'), and what it had to floor. */
  readonly scaling: { readonly method: string; readonly centre: number[]; readonly scale: number[]; readonly notes: readonly string[] } | null;
  /** Log-likelihood, BIC, cluster sizes and the model file of the centres, once the run has ended or paused. */
  readonly fit: FitSummary | null;
  readonly truth: number[][] | null;
  /** Matched centre error (docs/math.md section 10) of the final centres; null without a truth. */
  readonly error: { readonly max: number; readonly mean: number } | null;
  /** One entry per chunk: steps done, the chunk's last loss and |dL/dm|, error, angle (K = 2), stage, timings. */
  readonly history: Session['points'];
  /**
   * The plan the library made for the settings: its resolved numbers (t, step sizes, limits, tolerances,
   * averaging, ...; the settings' t, lr and steps are undefined where the library's defaults apply) and
   * its stages as they ended.
   */
  readonly schedule: { readonly settings: Record<string, number | string | number[] | boolean>; readonly stages: Session['stages'] };
  readonly em: { readonly iterations: number; readonly centres: number[][]; readonly error: { max: number; mean: number } | null; readonly history: Session['emPoints'] } | null;
  readonly timing: {
    /** Seconds inside the training chunks (what throughput is computed from). */
    readonly trainingSeconds: number;
    /** Seconds from Start to the end, including the frames in between and EM. */
    readonly elapsedSeconds: number;
    /** N x steps / trainingSeconds (docs/math.md section 12). */
    readonly sampleGradsPerSec: number;
    readonly msPerStepWall: number;
    /** From timestamp queries; null when the adapter has none. */
    readonly msPerStepGpu: number | null;
    /** The longest main-thread task while training (Long Tasks API; 0 when it reported none). */
    readonly longestTaskMs: number;
  };
  /** The Generate panel's last run with these centres (src/page/particles.ts); absent before one. */
  readonly generate?: GenerateResult;
}

export function buildResult(session: Session, info: { adapter: string; isSoftware: boolean; timestamps: boolean; longestTaskMs: number }, fit: FitSummary | null): RunResult {
  const p = session.input;
  const trained = session.points.filter((x) => x.steps > 0);
  const steps = trained.reduce((a, x) => a + x.steps, 0);
  const wallMs = trained.reduce((a, x) => a + x.wallMs, 0);
  const gpuTimed = trained.every((x) => x.gpuMs !== null) && trained.length > 0;
  const gpuMs = trained.reduce((a, x) => a + (x.gpuMs ?? 0), 0);
  const last = session.points[session.points.length - 1]!;
  const emLast = session.emPoints[session.emPoints.length - 1];
  const end = session.finishedAt || performance.now();
  return {
    settings: session.settings,
    adapter: info.adapter,
    isSoftware: info.isSoftware,
    timestampQueries: info.timestamps,
    data: { rows: p.data.rows, cols: p.data.cols, source: p.source.kind, ...(p.source.kind === 'file' ? { file: p.source.name } : {}) },
    status: session.status,
    stepsDone: session.stepsDone,
    init: toRows(session.init),
    centres: toRows(session.centres),
    scaling: session.fit.scaling
      ? { method: session.fit.scaling.method, centre: Array.from(session.fit.scaling.centre), scale: Array.from(session.fit.scaling.scale), notes: session.fit.notes }
      : null,
    fit,
    truth: p.truth ? toRows(p.truth) : null,
    error: last.errorMax !== null && last.errorMean !== null ? { max: last.errorMax, mean: last.errorMean } : null,
    history: session.points,
    schedule: { settings: session.plan.settings, stages: session.stages },
    em: session.emEnabled
      ? {
          iterations: session.emIterationsDone,
          centres: toRows(session.emCentres),
          error: emLast && emLast.errorMax !== null && emLast.errorMean !== null ? { max: emLast.errorMax, mean: emLast.errorMean } : null,
          history: session.emPoints,
        }
      : null,
    timing: {
      trainingSeconds: wallMs / 1000,
      elapsedSeconds: session.startedAt ? (end - session.startedAt) / 1000 : 0,
      sampleGradsPerSec: wallMs > 0 ? (p.data.rows * steps) / (wallMs / 1000) : 0,
      msPerStepWall: steps > 0 ? wallMs / steps : 0,
      msPerStepGpu: gpuTimed && steps > 0 ? gpuMs / steps : null,
      longestTaskMs: info.longestTaskMs,
    },
  };
}

/** Offers a value as a JSON file download (Export JSON). */
export function downloadJson(value: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
