// An estimator in the spirit of scikit-learn's GaussianMixture (docs/architecture.md): fit(X), predict(X),
// predictProba(X), score(X), bic(X), sample(n) and toJSON() / DdpmGmm.fromJSON(). By default it learns diagonal
// variances and weights (docs/math.md section 14) on per-feature scaled data (section 15); the paper's balanced
// spherical mixture (section 1) by name. Every method runs through the one Backend interface, GPU or CPU.
import {
  mixtureLogLikelihood,
  requireFiniteLogLikelihood,
  type HistoryRow,
  type LoopOptions,
  type ScheduleName,
  type ScheduleOptions,
} from './algorithms/index.ts';
import { BackendSlot, describeBackend, requireBackendChoice, type BackendChoice, type BackendInfo } from './backend-choice.ts';
import { InputError } from './errors.ts';
import { checkOption, fitReads, METHOD_OPTION, METHODS, orList, requiredK, SCHEDULE_DECLS, SCHEDULE_OPTION, SCHEDULE_OPTIONS, SCHEDULES, type Method, type ScheduleOptionKey } from './options/index.ts';
import { asWritten, createModelFile, parseModelFile, type ModelFile } from './model-file.ts';
import { resolveSampleOptions, type SampleOptions } from './sample-options.ts';
import { matrix, type Matrix } from './types.ts';
import { isPaperStudent, studentFloorNotes, varianceColumns, type StudentParams } from './training/student.ts';
import { studentScoreOf } from './sampling/student-score.ts';
import { mixtureSamples } from './mixture-samples.ts';
import { restartsTogether, runTogether } from './algorithms/restarts.ts';
import { studentLogLikelihood } from './training/student-mixture.ts';
import { chunkRowsFor } from './data/source.ts';
import { DATA_OPTIONS } from './data/options.ts';
import { withChunkedTraining } from './training/chunked.ts';
import { type Backend } from './backend.ts';
import { asksGeneralStudent, averageLl, finiteCriterion, fitRun, resolveFit, type FitOutput, type RestartResult } from './fit-run.ts';
import { asMatrix, type DataInput } from './data-input.ts';
import { fitScaling, studentInUnits, scaledStarts, fromScaled, logScaleSum, SCALE_OPTION, toScaled, type ScaleMethod, type Scaling } from './scaling.ts';
import { requireCentreCount, requireEnoughSamples, requireFinite, requireSquarableRows, requirePositiveInteger, requireSameDimension, requireSeed } from './validate.ts';

export { METHODS, type Method } from './methods.ts';
export { mixtureSamples } from './mixture-samples.ts';
export type { DataInput } from './data-input.ts';
export { SCALES, type ScaleMethod, type Scaling } from './scaling.ts';
export { MODEL_FORMAT, MODEL_VERSION, type ModelFile } from './model-file.ts';
export { SAMPLE_DEFAULTS, SAMPLE_METHODS, type SampleMethod, type SampleOptions } from './sample-options.ts';

export interface DdpmGmmOptions extends Omit<ScheduleOptions, 'k'> {
  readonly nComponents: number;
  readonly method?: Method;
  /**
   * Per-feature scaling before the fit (src/scaling.ts, docs/math.md section 15): 'within' (the pooled
   * within-cluster standard deviation of a k-means pre-pass), 'standard' (the overall one) or 'none' (the data
   * as given). init, truth, means, samples and scores are in the data's units.
   */
  readonly scale?: ScaleMethod;
  /** ddpm only; default warm when init is given, else screened (two-stage for K = 2 with the paper's student). */
  readonly schedule?: ScheduleName;
  /**
   * Restarts, for every method (default 1). Restart r starts from seed + r (the k-means++ seeding of em and
   * gradient-em, the random start or seeded rows of a ddpm schedule, the start of power iteration), and ddpm
   * draws its training noise from noiseSeed + r. The run kept is the one whose fitted mixture gives X the
   * highest average log-likelihood (1/N) sum_n log q(x_n): one yardstick for every method, which the
   * methods' own objectives are not (the DDPM loss depends on t and on the noise draw). ddpm's restarts run
   * together where the backend allows (runTogether, src/algorithms/restarts.ts), with the numbers of each run alone.
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
  readonly loop?: Pick<LoopOptions, 'resume' | 'onCheckpoint' | 'checkpointEvery' | 'onProgress' | 'onStart' | 'connections'>;
  /** Called before each group of `together` restarts r, r + 1, ... (0-based) of nInit; the loop hooks follow restart r. */
  readonly onRestart?: (restart: number, nInit: number, together: number) => void;
  /** Train on chunks of this many rows, their sums added in chunk order: the result depends on it only (src/training/chunked.ts). */
  readonly chunkRows?: number;
  /** Bytes the chunks in flight may take; sets chunkRows when it is not given (src/data/source.ts chunkRowsFor). */
  readonly memoryBudget?: number;
}

export { asksGeneralStudent, defaultSchedule, DEFAULT_STUDENT, resolveFit, type FitOutput, type RestartResult } from './fit-run.ts';

export class DdpmGmm {
  readonly nComponents: number;
  readonly method: Method;
  readonly schedule: ScheduleName;
  readonly scale: ScaleMethod;
  /** The K x d centres, in the data's units. */
  means: Matrix | undefined;
  /** The general student's learned variances and weights (docs/math.md section 14); undefined for the paper's student. */
  student: StudentParams | undefined;
  /** The fitted scaling (undefined for scale 'none'): the model is fitted to (x - centre) / scale. */
  scaling: Scaling | undefined;
  /** What the last fit's scaling had to floor (constant features), in sentences. */
  notes: string[] = [];
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
  /** The centres in the scaled coordinates the model was fitted in (= means for scale 'none'). */
  private scaledMeans: Matrix | undefined;
  /** The options given, with the student resolveFit chose. */
  private readonly options: DdpmGmmOptions;

  constructor(given: DdpmGmmOptions) {
    requireCentreCount(given.nComponents, 'nComponents');
    this.nComponents = given.nComponents;
    const method = checkOption(METHOD_OPTION, given.method ?? 'ddpm', 'method') as Method;
    this.method = method;
    if (given.schedule !== undefined) checkOption(SCHEDULE_OPTION, given.schedule, 'schedule');
    // The declared options, checked up front with the declarations' messages.
    for (const key of Object.keys(SCHEDULE_OPTIONS) as ScheduleOptionKey[]) {
      if (given[key] !== undefined) checkOption(SCHEDULE_OPTIONS[key], given[key], `${SCHEDULE_OPTIONS[key].what} (${key})`);
    }
    const { schedule, covariance, weights } = resolveFit(method, given.schedule, given.nComponents, given.init !== undefined, given);
    const options = (this.options = { ...given, covariance, weights });
    const general = asksGeneralStudent(options);
    if (general && !fitReads(method, schedule, 'covariance')) {
      const who = method === 'ddpm' ? `the ${schedule} schedule (the tied K = 2 student)` : `method '${method}'`;
      throw new InputError(`${who} learns the paper's student only (identity covariance, equal weights); for covariance '${covariance}' and weights '${weights}' use method 'ddpm' with schedule 'screened', 'annealed', 'single' or 'warm', or method 'em'`);
    }
    const needs = requiredK(method, schedule);
    if (needs && options.nComponents !== needs.k) {
      const others = method === 'ddpm'
        ? `schedule ${orList(SCHEDULES.filter((s) => !SCHEDULE_DECLS[s].needsK).map((s) => `'${s}'`))}`
        : `method ${orList(METHODS.filter((m) => !requiredK(m, 'annealed')).map((m) => `'${m}'`))}`;
      throw new InputError(`${needs.who} (${needs.why}) needs nComponents = ${needs.k}, got ${options.nComponents}; use ${others}`);
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
    this.scale = checkOption(SCALE_OPTION, options.scale ?? SCALE_OPTION.default, 'scale') as ScaleMethod;
  }

  /** The general student's K x d variances and K weights in the data's units (docs/math.md sections 14, 15); undefined for the paper's. */
  get variancesAndWeights(): { readonly variances: Matrix; readonly weights: Float64Array } | undefined {
    return this.student && this.means ? studentInUnits(this.student, this.means.cols, this.scaling) : undefined;
  }

  /** The dimension d of the fitted means; undefined before fit. */
  get dimension(): number | undefined {
    return this.means?.cols;
  }

  /** Learns the means from X (N x d), nInit times, and keeps the best run (see DdpmGmmOptions.nInit). */
  async fit(data: DataInput): Promise<FitOutput> {
    const X = this.checkData(data, 'X');
    requireSquarableRows(X, 'X');
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
    const fitted = this.scale === 'none' ? undefined : fitScaling(X, this.scale, k, seed);
    const scaling = fitted?.scaling;
    const Z = scaling ? toScaled(X, scaling) : X;
    const opened = await this.backendSlot.get();
    this.backendUsed = describeBackend(opened);
    const chunked = o.chunkRows !== undefined || o.memoryBudget !== undefined;
    const backend = chunked
      ? withChunkedTraining(opened, chunkRowsFor({ budget: o.memoryBudget, chunkRows: o.chunkRows, cols: X.cols, rows: X.rows, fileBytesPerValue: 8 }))
      : opened;
    const restarts: RestartResult[] = [];
    let best: FitOutput | undefined;
    let bestRestart = 0;
    const together = this.method === 'ddpm' ? restartsTogether(backend, nInit, k, Z.cols, o.log, asksGeneralStudent(o)) : 1;
    for (let first = 0; first < nInit; first += together) {
      const size = Math.min(together, nInit - first);
      o.onRestart?.(first, nInit, size);
      const outs = size === 1
        ? [await this.fitOnce(backend, Z, scaling, seed + first, noiseSeed + first)]
        : await runTogether(backend, size, (trainer, i) => this.fitOnce(trainer, Z, scaling, seed + first + i, noiseSeed + first + i, i === 0));
      outs.forEach((out, i) => {
        const r = first + i;
        const ll = averageLl(Z, out.means, out.student) - (scaling ? logScaleSum(scaling) : 0);
        restarts.push({ seed: seed + r, noiseSeed: this.method === 'ddpm' ? noiseSeed + r : noiseSeed, logLikelihood: ll, converged: out.converged, nIter: out.nIter });
        // Strictly better: ties keep the earlier restart, so nInit = 1 and its first restart agree.
        if (best === undefined || ll > restarts[bestRestart]!.logLikelihood) {
          best = out;
          bestRestart = r;
        }
      });
    }
    if (nInit > 1) best = { ...best!, restarts: { kept: bestRestart, logLikelihoods: restarts.map((r) => r.logLikelihood), together } };
    this.scaling = scaling;
    this.notes = [...(fitted?.notes ?? []), ...(best!.student ? studentFloorNotes(best!.student, Z.cols) : [])];
    for (const note of this.notes) o.log?.(note);
    this.means = scaling ? fromScaled(best!.means, scaling) : best!.means;
    // From the reported means, as fromJSON does, so that a saved model predicts with the same bits.
    this.scaledMeans = scaling ? toScaled(this.means, scaling) : best!.means;
    this.student = best!.student ? asWritten(best!.student) : undefined;
    this.history = best!.history;
    this.converged = best!.converged;
    this.nIter = best!.nIter;
    this.restarts = restarts;
    this.bestRestart = bestRestart;
    return { ...best!, means: this.means };
  }

  /** Fits, then labels X: the same as fit(X) followed by predict(X). */
  async fitPredict(data: DataInput): Promise<Int32Array> {
    const X = asMatrix(data, 'X');
    await this.fit(X);
    return this.predict(X);
  }

  /** The most likely component of each row (0-based): the argmax of its responsibilities; ties go to the lower index. */
  predict(data: DataInput): Int32Array {
    const proba = this.predictProba(data);
    const k = proba.cols;
    const labels = new Int32Array(proba.rows);
    for (let i = 0; i < proba.rows; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (proba.data[i * k + j]! > proba.data[i * k + best]!) best = j;
      labels[i] = best;
    }
    return labels;
  }

  /** Responsibilities w_i(x) on the clean data under the learned mixture (N x K, docs/math.md section 9). */
  predictProba(data: DataInput): Matrix {
    const { Z, means } = this.scaled(data);
    const proba = matrix(Z.rows, means.rows);
    if (this.student) studentLogLikelihood(Z, means, this.student, proba.data);
    else mixtureLogLikelihood(Z, means, proba.data);
    return proba;
  }

  /**
   * Per-sample log-likelihood log q(x_n) under the fitted mixture (docs/math.md sections 1 and 14), as a density
   * in the data's units (with scaling: log q(z_n) - sum_c log scale_c, docs/math.md section 15).
   */
  scoreSamples(data: DataInput): Float64Array {
    const { Z, means } = this.scaled(data);
    const ll = this.student ? studentLogLikelihood(Z, means, this.student) : mixtureLogLikelihood(Z, means);
    requireFiniteLogLikelihood(ll, 'X');
    if (this.scaling) {
      const shift = logScaleSum(this.scaling);
      for (let i = 0; i < ll.length; i++) ll[i]! -= shift;
    }
    return ll;
  }

  /** Average log-likelihood (1/N) sum log q(x_n), in the data's units as scoreSamples. */
  score(data: DataInput): number {
    const { Z, means } = this.scaled(data);
    return averageLl(Z, means, this.student) - (this.scaling ? logScaleSum(this.scaling) : 0);
  }

  /**
   * Bayesian information criterion, lower is better: bic = -2 sum_n log q(x_n) + p ln N, with p = K d free
   * parameters for the paper's student (the weights are fixed at 1/K and the covariances at I), plus K
   * (spherical) or K d (diag) variances and K - 1 learned weights (docs/math.md section 14), plus d for a fitted
   * scaling, whose per-feature scale is a shared diagonal covariance learned from the data.
   */
  bic(data: DataInput): number {
    const X = asMatrix(data, 'X');
    return finiteCriterion(-2 * this.score(X) * X.rows + this.freeParameters() * Math.log(X.rows), 'BIC');
  }

  /** Akaike information criterion, lower is better: aic = -2 sum_n log q(x_n) + 2 p, with p as in bic. */
  aic(data: DataInput): number {
    const X = asMatrix(data, 'X');
    return finiteCriterion(-2 * this.score(X) * X.rows + 2 * this.freeParameters(), 'AIC');
  }

  /**
   * n samples (n x d) from the learned mixture (docs/math.md section 11). 'direct' draws a component (uniform, or
   * by the learned weights) and then N(mu_i, diag(c_i)), on the host (the bits of sampleDirect); 'reverse' (the
   * default), 'ode' and 'langevin' run the backend's sampler with the learned score (the general student's with
   * its variances and weights, section 14), in the scaled coordinates, on the backend fit() used or, for a model
   * from fromJSON, the one its backend option opens (default 'auto'). Unset settings take SAMPLE_DEFAULTS
   * (src/sample-options.ts; docs/experiments.md, 'Sampling').
   */
  async sample(n: number, options: SampleOptions = {}): Promise<Matrix> {
    if (typeof options !== 'object' || options === null) {
      throw new InputError(`sample(n, options) takes an options object such as { seed: ${String(options)} }; for the synchronous direct draw use sampleDirect(n, seed)`);
    }
    this.fitted();
    const means = this.scaledMeans!;
    // The general student's score uses its variances and weights at every t (docs/math.md section 14).
    const score = isPaperStudent(this.student) ? means : studentScoreOf(means, this.student!);
    const plan = resolveSampleOptions(score, n, options);
    if (plan.method === 'direct') {
      const out = this.sampleDirect(n, plan.seed);
      options.onProgress?.({ done: 1, total: 1 });
      return out;
    }
    const backend = await this.backendSlot.get();
    this.sampledOn = describeBackend(backend);
    const z = await backend.sample(score, n, plan, options.onProgress);
    return this.scaling ? fromScaled(z, this.scaling) : z;
  }

  /** n samples drawn directly from the learned mixture: a uniform component, then N(mu_i, I); seeded by Philox. */
  sampleDirect(n: number, seed = 0): Matrix {
    this.fitted();
    requirePositiveInteger(n, 'the number of samples n');
    requireSeed(seed, 'the sample seed');
    const z = mixtureSamples(this.scaledMeans!, n, seed, this.student);
    return this.scaling ? fromScaled(z, this.scaling) : z;
  }

  /** The versioned model file (src/model-file.ts); JSON.stringify(model) writes it. */
  toJSON(): ModelFile {
    return createModelFile({
      means: this.fitted(),
      ...(this.student ? { student: this.student } : {}),
      method: this.method,
      schedule: this.schedule,
      converged: this.converged,
      nIter: this.nIter,
      backendUsed: this.backendUsed ?? null,
      scaling: this.scaling ?? null,
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
      const student = file.student ? { covariance: file.student.covariance, weights: file.student.weights } : { covariance: options.covariance ?? 'identity', weights: options.weights ?? 'equal' };
      model = new DdpmGmm({ ...options, ...student, nComponents: file.means.rows, method: file.method, schedule: file.schedule ?? undefined, scale: file.scaling?.method ?? 'none' });
    } catch (e) {
      throw e instanceof InputError ? new InputError(`the model file does not describe a valid model: ${e.message}`) : e;
    }
    model.means = file.means;
    model.student = file.student;
    model.scaling = file.scaling ?? undefined;
    model.scaledMeans = file.scaling ? toScaled(file.means, file.scaling) : file.means;
    model.converged = file.converged;
    model.nIter = file.nIter;
    model.backendUsed = file.backendUsed ?? undefined;
    return model;
  }

  /** Releases the backend fit() opened from a named choice; a Backend passed in is left to its owner. */
  dispose(): void {
    this.backendSlot.dispose();
  }

  /**
   * One run of the method from the given seeds; init and truth are in the data's units, the fit runs in the scaled
   * coordinates. `hooks` false leaves out the loop's progress hooks (a run beside the first of its group).
   */
  private fitOnce(backend: Backend, X: Matrix, scaling: Scaling | undefined, seed: number, noiseSeed: number, hooks = true): Promise<FitOutput> {
    const options = scaling ? { ...this.options, ...scaledStarts(this.options, this.nComponents, scaling) } : this.options;
    return fitRun(backend, X, { method: this.method, schedule: this.schedule, k: this.nComponents, options }, seed, noiseSeed, hooks);
  }

  /** p = K d for the means, plus the general student's K or K d variances and K - 1 weights, plus d for a fitted scaling. */
  private freeParameters(): number {
    const means = this.fitted();
    const s = this.student;
    const variances = s ? means.rows * varianceColumns(s.covariance, means.cols) : 0;
    const weights = s?.weights === 'learned' ? means.rows - 1 : 0;
    return means.rows * means.cols + variances + weights + (this.scaling ? means.cols : 0);
  }

  private fitted(): Matrix {
    if (!this.means) throw new InputError('the model is not fitted yet: call fit(X) first, or load one with DdpmGmm.fromJSON');
    return this.means;
  }

  /** The data in the model's coordinates, checked against the fitted means (also scaled). */
  private scaled(data: DataInput): { Z: Matrix; means: Matrix } {
    const means = this.fitted();
    const X = this.checkData(data, 'X', means);
    return { Z: this.scaling ? toScaled(X, this.scaling) : X, means: this.scaledMeans! };
  }

  private checkData(data: DataInput, what: string, means?: Matrix): Matrix {
    const X = asMatrix(data, what);
    if (X.rows < 1 || X.cols < 1) throw new InputError(`${what} is ${X.rows} x ${X.cols}: give at least one sample with at least one coordinate`);
    if (means && X.cols !== means.cols) {
      throw new InputError(`${what} has d = ${X.cols} columns but the model was fitted in d = ${means.cols}; give data with the model's ${means.cols} columns`);
    }
    requireFinite(X, what);
    if (!means) requireEnoughSamples(X.rows, this.nComponents);
    return X;
  }
}
