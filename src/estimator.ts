// An estimator in the spirit of scikit-learn's GaussianMixture (docs/architecture.md): construct with the number of
// components, a method and a schedule, then fit(X), predict(X), predictProba(X), score(X), bic(X), sample(n) (by
// the learned score, docs/math.md section 11), and save or load it with toJSON() / DdpmGmm.fromJSON(). The model is the balanced spherical mixture
// (1/K) sum_i N(mu_i, I) of docs/math.md section 1; every method runs through the one Backend interface, so the
// same code fits on the GPU engine and on the CPU reference.
import {
  fitEm,
  fitSchedule,
  kmeansPlusPlus,
  mixtureLogLikelihood,
  powerIteration,
  type HistoryRow,
  type LoopOptions,
  type ScheduleName,
  type ScheduleOptions,
} from './algorithms/index.ts';
import { seededUniform } from './algorithms/seeding.ts';
import { BackendSlot, describeBackend, requireBackendChoice, type BackendChoice, type BackendInfo } from './backend-choice.ts';
import { InputError } from './errors.ts';
import { philoxNormals } from './mixtures.ts';
import { STREAMS } from './math/streams.ts';
import { centreError } from './centre-error.ts';
import { checkOption, METHOD_OPTION, METHODS, orList, requiredK, SCHEDULE_DECLS, SCHEDULE_OPTION, SCHEDULE_OPTIONS, SCHEDULES, type Method, type ScheduleOptionKey } from './options/index.ts';
import { createModelFile, parseModelFile, type ModelFile } from './model-file.ts';
import { resolveSampleOptions, type SampleOptions } from './sample-options.ts';
import { matrix, type Matrix } from './types.ts';
import { chunkRowsFor } from './data/source.ts';
import { DATA_OPTIONS } from './data/options.ts';
import { withChunkedTraining } from './training/chunked.ts';
import { type Backend } from './backend.ts';
import { requireCentreCount, requireEnoughSamples, requireFinite, requirePositiveInteger, requireSameDimension, requireSeed } from './validate.ts';

export { METHODS, type Method } from './methods.ts';
export { MODEL_FORMAT, MODEL_VERSION, type ModelFile } from './model-file.ts';
export { SAMPLE_DEFAULTS, SAMPLE_METHODS, type SampleMethod, type SampleOptions } from './sample-options.ts';

export interface DdpmGmmOptions extends Omit<ScheduleOptions, 'k'> {
  readonly nComponents: number;
  readonly method?: Method;
  /** ddpm only; default two-stage for K = 2, annealed otherwise (warm when init is given). */
  readonly schedule?: ScheduleName;
  /**
   * Restarts, for every method (default 1). Restart r starts from seed + r (the k-means++ seeding of em and
   * gradient-em, the random start or seeded rows of a ddpm schedule, the start of power iteration), and ddpm
   * draws its training noise from noiseSeed + r. The run kept is the one whose fitted mixture gives X the
   * highest average log-likelihood (1/N) sum_n log q(x_n): one yardstick for every method, which the
   * methods' own objectives are not (the DDPM loss depends on t and on the noise draw).
   */
  readonly nInit?: number;
  /**
   * The Backend to run on, or a choice that fit() opens the first time it runs (default 'auto': a hardware
   * GPU, then a software adapter, then the CPU reference; see backend-choice.ts). A backend the estimator
   * opened is released by dispose(); one passed in stays the caller's.
   */
  readonly backend?: Backend | BackendChoice;
  /** Where opening a named backend reports what it chose and why (e.g. a fall-back to the CPU). */
  readonly log?: (message: string) => void;
  /** The Philox seed of the training noise (em / gradient-em / power: unused). */
  readonly noiseSeed?: number;
  /** True centres, to log matched errors in the history. */
  readonly truth?: Matrix;
  /** Checkpoint and progress hooks of the loop (ddpm, em, gradient-em); checkpoints need nInit = 1. */
  readonly loop?: Pick<LoopOptions, 'resume' | 'onCheckpoint' | 'checkpointEvery' | 'onProgress' | 'connections'>;
  /** Called before each restart r (0-based) of nInit. */
  readonly onRestart?: (restart: number, nInit: number) => void;
  /** Train on chunks of this many rows, their sums added in chunk order: the result depends on it only (src/training/chunked.ts). */
  readonly chunkRows?: number;
  /** Bytes the chunks in flight may take; sets chunkRows when it is not given (src/data/source.ts chunkRowsFor). */
  readonly memoryBudget?: number;
}

/** What fit(X) returns: the kept run. */
export interface FitOutput {
  readonly means: Matrix;
  readonly history: HistoryRow[];
  readonly converged: boolean;
  readonly nIter: number;
}

/** One restart of fit(X) and the average log-likelihood of X under its fitted mixture. */
export interface RestartResult {
  readonly seed: number;
  /** ddpm's training-noise seed; the other methods draw no noise. */
  readonly noiseSeed: number;
  readonly logLikelihood: number;
  readonly converged: boolean;
  readonly nIter: number;
}

/** The ddpm schedule when none is given: two-stage for K = 2, warm from given centres, annealed otherwise. */
export function defaultSchedule(nComponents: number, hasInit: boolean): ScheduleName {
  if (hasInit) return 'warm';
  return nComponents === 2 ? 'two-stage' : 'annealed';
}

export class DdpmGmm {
  readonly nComponents: number;
  readonly method: Method;
  readonly schedule: ScheduleName;
  means: Matrix | undefined;
  history: HistoryRow[] = [];
  converged = false;
  nIter = 0;
  /** Which backend ran the last fit (for a model from fromJSON: the one the file names). */
  backendUsed: BackendInfo | undefined;
  /** Which backend ran the last sample() by a sampler (undefined before one, and for 'direct' draws). */
  sampledOn: BackendInfo | undefined;
  /** Every restart of the last fit, in order; restarts[bestRestart] is the one kept. */
  restarts: RestartResult[] = [];
  bestRestart = 0;
  private readonly backendSlot = new BackendSlot(() => this.options.backend, (m) => this.options.log?.(m));

  constructor(private readonly options: DdpmGmmOptions) {
    requireCentreCount(options.nComponents, 'nComponents');
    this.nComponents = options.nComponents;
    const method = checkOption(METHOD_OPTION, options.method ?? 'ddpm', 'method') as Method;
    this.method = method;
    const schedule = options.schedule ?? defaultSchedule(options.nComponents, options.init !== undefined);
    checkOption(SCHEDULE_OPTION, schedule, 'schedule');
    const needs = requiredK(method, schedule);
    if (needs && options.nComponents !== needs.k) {
      const others = method === 'ddpm'
        ? `schedule ${orList(SCHEDULES.filter((s) => !SCHEDULE_DECLS[s].needsK).map((s) => `'${s}'`))}`
        : `method ${orList(METHODS.filter((m) => !requiredK(m, 'annealed')).map((m) => `'${m}'`))}`;
      throw new InputError(`${needs.who} (${needs.why}) needs nComponents = ${needs.k}, got ${options.nComponents}; use ${others}`);
    }
    // The declared options, checked up front with the declarations' messages.
    for (const key of Object.keys(SCHEDULE_OPTIONS) as ScheduleOptionKey[]) {
      const value = options[key];
      if (value !== undefined) checkOption(SCHEDULE_OPTIONS[key], value, `${SCHEDULE_OPTIONS[key].what} (${key})`);
    }
    for (const key of ['chunkRows', 'memoryBudget'] as const) if (options[key] !== undefined) checkOption(DATA_OPTIONS[key], options[key]);
    if (options.nInit !== undefined) requirePositiveInteger(options.nInit, 'nInit');
    if (options.noiseSeed !== undefined) requireSeed(options.noiseSeed, 'noiseSeed');
    const backend = options.backend ?? 'auto';
    if (typeof backend === 'string') requireBackendChoice(backend);
    else if (typeof backend !== 'object' || backend === null || typeof (backend as Partial<Backend>).gdSteps !== 'function') {
      throw new InputError(`backend must be 'auto', 'gpu', 'cpu' or a Backend object, got ${String(backend)}`);
    }
    this.schedule = schedule;
  }

  /** The dimension d of the fitted means; undefined before fit. */
  get dimension(): number | undefined {
    return this.means?.cols;
  }

  /** Learns the means from X (N x d), nInit times, and keeps the best run (see DdpmGmmOptions.nInit). */
  async fit(X: Matrix): Promise<FitOutput> {
    this.checkData(X, 'X');
    const o = this.options;
    const k = this.nComponents;
    if (o.init) {
      requireFinite(o.init, 'init');
      requireSameDimension(X, o.init, 'init');
      const rowsOk = o.init.rows === k || (k === 2 && o.init.rows === 1 && this.method === 'ddpm');
      if (!rowsOk) throw new InputError(`init has ${o.init.rows} rows but nComponents = ${k}; give one row per component`);
    }
    if (o.truth) {
      requireSameDimension(X, o.truth, 'truth');
      if (o.truth.rows !== k) throw new InputError(`truth has ${o.truth.rows} rows but nComponents = ${k}`);
    }
    const nInit = o.nInit ?? 1;
    if (nInit > 1 && (o.loop?.resume || o.loop?.onCheckpoint)) {
      throw new InputError(`a checkpoint covers one run, but nInit = ${nInit}: use nInit = 1 with checkpoints and resume`);
    }
    if (nInit > 1 && o.init && (this.method === 'em' || this.method === 'gradient-em')) {
      throw new InputError(`${this.method} from the given init is deterministic, so its nInit = ${nInit} restarts would be the same run: use nInit = 1, or drop init to restart from k-means++ seeds`);
    }
    const seed = o.seed ?? 0;
    const noiseSeed = o.noiseSeed ?? 0;
    requireSeed(seed + nInit - 1, 'seed + nInit - 1 (the last restart seed)');
    requireSeed(noiseSeed + nInit - 1, 'noiseSeed + nInit - 1 (the last restart noise seed)');
    const opened = await this.backendSlot.get();
    this.backendUsed = describeBackend(opened);
    const chunked = o.chunkRows !== undefined || o.memoryBudget !== undefined;
    const backend = chunked
      ? withChunkedTraining(opened, chunkRowsFor({ budget: o.memoryBudget, chunkRows: o.chunkRows, cols: X.cols, rows: X.rows, fileBytesPerValue: 8 }))
      : opened;
    const restarts: RestartResult[] = [];
    let best: FitOutput | undefined;
    let bestRestart = 0;
    for (let r = 0; r < nInit; r++) {
      o.onRestart?.(r, nInit);
      const out = await this.fitOnce(backend, X, seed + r, noiseSeed + r);
      const ll = averageLl(X, out.means);
      restarts.push({ seed: seed + r, noiseSeed: this.method === 'ddpm' ? noiseSeed + r : noiseSeed, logLikelihood: ll, converged: out.converged, nIter: out.nIter });
      // Strictly better: ties keep the earlier restart, so nInit = 1 and its first restart agree.
      if (best === undefined || ll > restarts[bestRestart]!.logLikelihood) {
        best = out;
        bestRestart = r;
      }
    }
    this.means = best!.means;
    this.history = best!.history;
    this.converged = best!.converged;
    this.nIter = best!.nIter;
    this.restarts = restarts;
    this.bestRestart = bestRestart;
    return best!;
  }

  /** Fits, then labels X: the same as fit(X) followed by predict(X). */
  async fitPredict(X: Matrix): Promise<Int32Array> {
    await this.fit(X);
    return this.predict(X);
  }

  /** The most likely component of each row (0-based): the argmax of its responsibilities; ties go to the lower index. */
  predict(X: Matrix): Int32Array {
    const proba = this.predictProba(X);
    const k = proba.cols;
    const labels = new Int32Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (proba.data[i * k + j]! > proba.data[i * k + best]!) best = j;
      labels[i] = best;
    }
    return labels;
  }

  /** Responsibilities w_i(x) on the clean data under the learned mixture (N x K, docs/math.md section 9). */
  predictProba(X: Matrix): Matrix {
    const means = this.fitted();
    this.checkData(X, 'X', means);
    const proba = matrix(X.rows, means.rows);
    mixtureLogLikelihood(X, means, proba.data);
    return proba;
  }

  /** Per-sample log-likelihood log q(x_n) under the balanced spherical mixture (docs/math.md section 1). */
  scoreSamples(X: Matrix): Float64Array {
    const means = this.fitted();
    this.checkData(X, 'X', means);
    return mixtureLogLikelihood(X, means);
  }

  /** Average log-likelihood (1/N) sum log q(x_n) under the balanced spherical mixture (docs/math.md section 1). */
  score(X: Matrix): number {
    const means = this.fitted();
    this.checkData(X, 'X', means);
    return averageLl(X, means);
  }

  /**
   * Bayesian information criterion, lower is better: bic = -2 sum_n log q(x_n) + p ln N, with p = K d free
   * parameters (the means only: the weights are fixed at 1/K and the covariances at I by the model).
   */
  bic(X: Matrix): number {
    return -2 * this.score(X) * X.rows + this.freeParameters() * Math.log(X.rows);
  }

  /** Akaike information criterion, lower is better: aic = -2 sum_n log q(x_n) + 2 p, with p = K d as in bic. */
  aic(X: Matrix): number {
    return -2 * this.score(X) * X.rows + 2 * this.freeParameters();
  }

  /**
   * n samples (n x d) from the learned mixture (docs/math.md section 11). 'direct' draws a uniform component
   * and then N(mu_i, I), on the host (the bits of sampleDirect); 'reverse' (the default), 'ode' and 'langevin'
   * run the backend's sampler with the learned centres' score, on the backend fit() used or, for a model
   * from fromJSON, the one its backend option opens (default 'auto'). Unset settings take SAMPLE_DEFAULTS
   * (src/sample-options.ts; docs/experiments.md, 'Sampling').
   */
  async sample(n: number, options: SampleOptions = {}): Promise<Matrix> {
    if (typeof options !== 'object' || options === null) {
      throw new InputError(`sample(n, options) takes an options object such as { seed: ${String(options)} }; for the synchronous direct draw use sampleDirect(n, seed)`);
    }
    const means = this.fitted();
    const plan = resolveSampleOptions(means, n, options);
    if (plan.method === 'direct') {
      const out = this.sampleDirect(n, plan.seed);
      options.onProgress?.({ done: 1, total: 1 });
      return out;
    }
    const backend = await this.backendSlot.get();
    this.sampledOn = describeBackend(backend);
    return backend.sample(means, n, plan, options.onProgress);
  }

  /** n samples drawn directly from the learned mixture: a uniform component, then N(mu_i, I); seeded by Philox. */
  sampleDirect(n: number, seed = 0): Matrix {
    const means = this.fitted();
    requirePositiveInteger(n, 'the number of samples n');
    requireSeed(seed, 'the sample seed');
    return mixtureSamples(means, n, seed);
  }

  /** The versioned model file (src/model-file.ts); JSON.stringify(model) writes it. */
  toJSON(): ModelFile {
    return createModelFile({
      means: this.fitted(),
      method: this.method,
      schedule: this.schedule,
      converged: this.converged,
      nIter: this.nIter,
      backendUsed: this.backendUsed ?? null,
    });
  }

  /**
   * A fitted model from a model file (the parsed JSON or its text), ready to predict, score and sample
   * without fit. `options` apply to a later fit(). Throws an InputError naming the field of a bad file.
   */
  static fromJSON(json: unknown, options: Omit<DdpmGmmOptions, 'nComponents' | 'method' | 'schedule'> = {}): DdpmGmm {
    const file = parseModelFile(json);
    let model: DdpmGmm;
    try {
      model = new DdpmGmm({ ...options, nComponents: file.means.rows, method: file.method, schedule: file.schedule ?? undefined });
    } catch (e) {
      throw e instanceof InputError ? new InputError(`the model file does not describe a valid model: ${e.message}`) : e;
    }
    model.means = file.means;
    model.converged = file.converged;
    model.nIter = file.nIter;
    model.backendUsed = file.backendUsed ?? undefined;
    return model;
  }

  /** Releases the backend fit() opened from a named choice; a Backend passed in is left to its owner. */
  dispose(): void {
    this.backendSlot.dispose();
  }


  /** One run of the method from the given seeds. */
  private async fitOnce(backend: Backend, X: Matrix, seed: number, noiseSeed: number): Promise<FitOutput> {
    const o = this.options;
    const k = this.nComponents;
    const run = { ...o.loop, logEvery: o.logEvery, noiseSeed };
    if (this.method === 'ddpm') return fitSchedule(backend, X, this.schedule, { ...o, k, seed }, o.truth, run);
    if (this.method === 'power') {
      const p = powerIteration(X, { seed, maxSteps: o.maxSteps, tol: o.tol });
      const err = o.truth ? centreError(p.means, o.truth) : undefined;
      const history = p.history.map((gap, i) => ({
        step: i,
        stage: 'power',
        noiseScale: null,
        loss: gap,
        gradNorm: gap,
        change: gap,
        ...(err && i === p.history.length - 1 ? { error: err.max, meanError: err.mean } : {}),
        seconds: 0,
      }));
      return { means: p.means, history, converged: p.converged, nIter: p.nIter };
    }
    const init = o.init ?? kmeansPlusPlus(X, k, seed);
    return fitEm(backend, this.method, X, init, { maxSteps: o.maxSteps, tol: o.tol, lr: o.lr, logEvery: o.logEvery }, o.truth, run);
  }

  /** p = K d: the means are the model's only free parameters. */
  private freeParameters(): number {
    const means = this.fitted();
    return means.rows * means.cols;
  }

  private fitted(): Matrix {
    if (!this.means) throw new InputError('the model is not fitted yet: call fit(X) first, or load one with DdpmGmm.fromJSON');
    return this.means;
  }

  private checkData(X: Matrix, what: string, means?: Matrix): void {
    if (X.rows < 1 || X.cols < 1) throw new InputError(`${what} is ${X.rows} x ${X.cols}: give at least one sample with at least one coordinate`);
    if (means && X.cols !== means.cols) {
      throw new InputError(`${what} has d = ${X.cols} columns but the model was fitted in d = ${means.cols}; give data with the model's ${means.cols} columns`);
    }
    requireFinite(X, what);
    if (!means) requireEnoughSamples(X.rows, this.nComponents);
  }
}

/**
 * n draws from (1/K) sum_i N(mu_i, I) (K x d means): component floor(K u_i) with u_i the Philox uniform of
 * draw i, then mu_comp + z_i, both on STREAMS.sample (docs/math.md section 11). The reference that the
 * samplers are measured against.
 */
export function mixtureSamples(means: Matrix, n: number, seed: number): Matrix {
  const { rows: k, cols: d } = means;
  const out = matrix(n, d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const comp = Math.min(k - 1, Math.floor(seededUniform(seed, i, STREAMS.sample, 1) * k));
    philoxNormals(seed, 0, i, STREAMS.sample, z);
    for (let c = 0; c < d; c++) out.data[i * d + c] = means.data[comp * d + c]! + z[c]!;
  }
  return out;
}

function averageLl(X: Matrix, means: Matrix): number {
  const ll = mixtureLogLikelihood(X, means);
  let s = 0;
  for (const v of ll) s += v;
  return s / X.rows;
}
