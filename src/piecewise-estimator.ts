// The piecewise score model (docs/math.md section 13) as an estimator beside DdpmGmm, with its idioms:
// construct with the options, fit(X), score(x, t), sample(n, options) with the same sampler and defaults,
// toJSON() / PiecewiseScoreModel.fromJSON() through the one model file (src/model-file.ts), dispose(). The fit runs
// its per-cell reduction on the backend (Backend.cellMoments: the GPU engine or the float64 reference).
import { BackendSlot, describeBackend, requireBackendChoice, type BackendChoice, type BackendInfo } from './backend-choice.ts';
import { CpuBackend } from './cpu/backend.ts';
import { InputError } from './errors.ts';
import { DdpmGmm, type DdpmGmmOptions } from './estimator.ts';
import { createPiecewiseModelFile, readModelFile, type PiecewiseModelFile } from './model-file.ts';
import { fitPiecewise, LADDER_DEFAULTS, type PiecewiseFitOptions, type PiecewiseLevelReport } from './piecewise/fit.ts';
import { piecewiseScore } from './piecewise/score.ts';
import type { PiecewiseModel } from './piecewise/model.ts';
import { checkCount, checkDegree, checkLadder } from './piecewise/checks.ts';
import { resolveSampleOptions, type SampleOptions } from './sample-options.ts';
import type { Backend } from './backend.ts';
import type { Matrix } from './types.ts';
import { asMatrix, type DataInput } from './data-input.ts';
import { requireFinite, requireSeed } from './validate.ts';

export type { PiecewiseLevelReport } from './piecewise/fit.ts';
export type { LevelInterpolation, PiecewiseDegree, PiecewiseLevel, PiecewiseModel } from './piecewise/model.ts';

/**
 * The fit's settings and defaults (docs/math.md section 13; measured in docs/experiments.md, 'The piecewise
 * score model'): J = 8 cells is 4K for the K = 2-3 mixtures measured there, where J = K was too coarse.
 */
export const PIECEWISE_DEFAULTS = { cells: 8, degree: 1, ...LADDER_DEFAULTS, seed: 0, interpolation: 'linear' } as const;

export interface PiecewiseScoreModelOptions extends Omit<PiecewiseFitOptions, 'cells' | 'onProgress'> {
  /** J cells (default 8), or J x d top-level centres in data coordinates. */
  readonly cells?: number | Matrix;
  /**
   * The Backend to run on, or a choice that fit() opens the first time it runs (default 'auto', as DdpmGmm).
   * A backend the estimator opened is released by dispose(); one passed in stays the caller's.
   */
  readonly backend?: Backend | BackendChoice;
  /** Where opening a named backend reports what it chose and why. */
  readonly log?: (message: string) => void;
  /** Called after each level of the ladder, from the horizon down. */
  readonly onProgress?: (report: PiecewiseLevelReport) => void;
}

export class PiecewiseScoreModel {
  /** The fitted model (levels, cells, coefficients); undefined before fit. */
  model: PiecewiseModel | undefined;
  /** What each level of the last fit did (empty for a model from fromJSON). */
  reports: readonly PiecewiseLevelReport[] = [];
  /** The last fit's notes: merged cells, singular Gram matrices the ridge made solvable. */
  notes: readonly string[] = [];
  /** Which backend ran the last fit (for a model from fromJSON: the one the file names). */
  backendUsed: BackendInfo | undefined;
  /** Which backend ran the last sample(). */
  sampledOn: BackendInfo | undefined;
  private readonly backendSlot = new BackendSlot(() => this.options.backend, (m) => this.options.log?.(m));

  constructor(private readonly options: PiecewiseScoreModelOptions = {}) {
    const o = options;
    if (typeof o !== 'object' || o === null) throw new InputError(`PiecewiseScoreModel takes an options object such as { cells: 8 }, got ${String(o)}`);
    if (typeof o.cells === 'number' || o.cells === undefined) checkCount(o.cells ?? PIECEWISE_DEFAULTS.cells, 'the number of cells J (cells)');
    else requireFinite(o.cells, 'the given cells');
    checkDegree(o.degree ?? PIECEWISE_DEFAULTS.degree);
    checkLadder(o.horizon ?? PIECEWISE_DEFAULTS.horizon, o.tMin ?? PIECEWISE_DEFAULTS.tMin, o.levels ?? PIECEWISE_DEFAULTS.levels);
    checkCount(o.draws ?? PIECEWISE_DEFAULTS.draws, 'the noise draws per row R (draws)');
    requireSeed(o.seed ?? PIECEWISE_DEFAULTS.seed, 'the piecewise seed');
    const interpolation = o.interpolation ?? PIECEWISE_DEFAULTS.interpolation;
    if (interpolation !== 'nearest' && interpolation !== 'linear') throw new InputError(`interpolation must be 'nearest' or 'linear', got ${String(interpolation)}`);
    const backend = o.backend ?? 'auto';
    if (typeof backend === 'string') requireBackendChoice(backend);
    else if (typeof backend !== 'object' || backend === null || typeof (backend as Partial<Backend>).cellMoments !== 'function') {
      throw new InputError(`backend must be 'auto', 'gpu', 'cpu' or a Backend object, got ${String(backend)}`);
    }
  }

  /** d of the fitted model; undefined before fit. */
  get dimension(): number | undefined {
    return this.model?.d;
  }

  /** Fits the ladder to X (N x d), level by level from the horizon down; the cell sums run on the backend. */
  async fit(data: DataInput): Promise<PiecewiseModel> {
    const X = asMatrix(data, 'X');
    const { backend: _b, log: _l, onProgress, cells, ...rest } = this.options;
    const backend = await this.backendSlot.get();
    this.backendUsed = describeBackend(backend);
    const fit = await fitPiecewise(
      X,
      { ...PIECEWISE_DEFAULTS, ...rest, cells: cells ?? PIECEWISE_DEFAULTS.cells, ...(onProgress ? { onProgress } : {}) },
      (d, c, o) => backend.cellMoments(d, c, o),
    );
    this.model = fit.model;
    this.reports = fit.reports;
    this.notes = fit.notes;
    return fit.model;
  }

  /** The model's score at every row of x (n x d) at forward time t >= 0 (outside the ladder: its end level). */
  score(points: DataInput, t: number): Matrix {
    const model = this.fitted();
    const x = asMatrix(points, 'the points x');
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InputError(`the forward time t must be a finite number >= 0, got ${String(t)}`);
    requireFinite(x, 'the points x');
    return piecewiseScore(model, x, t);
  }

  /**
   * n samples (n x d) by the model's score (docs/math.md sections 11 and 13): 'reverse' (the default), 'ode'
   * or 'langevin', with DdpmGmm.sample's defaults except the horizon, which is the ladder's top level; from the
   * ladder's smallest level down to tMin (default 0) the score is that level's. No 'direct' draw: there is no mixture.
   */
  async sample(n: number, options: SampleOptions = {}): Promise<Matrix> {
    if (typeof options !== 'object' || options === null) throw new InputError(`sample(n, options) takes an options object such as { seed: ${String(options)} }`);
    const model = this.fitted();
    const plan = resolveSampleOptions(model, n, options);
    if (plan.method === 'direct') throw new InputError("a piecewise model has no direct draw: use method 'reverse', 'ode' or 'langevin'");
    // Soft cells are evaluated by the CPU reference only (the GPU sampler refuses them).
    const soft = model.levels.some((l) => l.tau !== undefined);
    const backend = soft ? new CpuBackend() : await this.backendSlot.get();
    this.sampledOn = describeBackend(backend);
    return backend.sample(model, n, plan, options.onProgress);
  }

  /** The versioned model file (src/model-file.ts); JSON.stringify(model) writes it. */
  toJSON(): PiecewiseModelFile {
    return createPiecewiseModelFile({ score: this.fitted(), backendUsed: this.backendUsed ?? null });
  }

  /** A fitted model from a model file (the parsed JSON or its text); `options` apply to sampling and a later fit(). */
  static fromJSON(json: unknown, options: PiecewiseScoreModelOptions = {}): PiecewiseScoreModel {
    const file = readModelFile(json);
    if (file.kind !== 'piecewise') throw new InputError("this is the student's model file, not a piecewise one: load it with DdpmGmm.fromJSON (or loadModel, which reads both)");
    const model = new PiecewiseScoreModel(options);
    model.model = file.score;
    model.backendUsed = file.backendUsed ?? undefined;
    return model;
  }

  /** Releases the backend this estimator opened from a named choice; a Backend passed in is left to its owner. */
  dispose(): void {
    this.backendSlot.dispose();
  }


  private fitted(): PiecewiseModel {
    if (!this.model) throw new InputError('the piecewise model is not fitted yet: call fit(X) first, or load one with PiecewiseScoreModel.fromJSON');
    return this.model;
  }
}

/** The options either estimator's fromJSON takes: where it samples (backend, log). */
export type LoadOptions = Pick<DdpmGmmOptions, 'backend' | 'log'>;

/** A fitted model of either kind from a model file: a DdpmGmm for the student's, a PiecewiseScoreModel for a piecewise one. */
export function loadModel(json: unknown, options: LoadOptions = {}): DdpmGmm | PiecewiseScoreModel {
  const file = readModelFile(json);
  return file.kind === 'piecewise' ? PiecewiseScoreModel.fromJSON(json, options) : DdpmGmm.fromJSON(json, options);
}
