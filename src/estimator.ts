// An estimator in the spirit of scikit-learn's GaussianMixture (STYLE.md): construct with the number of
// components, a method and a schedule, then fit(X), predictProba(X), score(X), sample(n). The model is the
// balanced spherical mixture (1/K) sum_i N(mu_i, I) of MATH.md section 1; every method runs through the one
// Backend interface, so the same code fits on the GPU engine and on the CPU reference.
import {
  fitEm,
  fitSchedule,
  kmeansPlusPlus,
  mixtureLogLikelihood,
  powerIteration,
  SCHEDULES,
  type HistoryRow,
  type LoopOptions,
  type ScheduleName,
  type ScheduleOptions,
} from './algorithms/index.ts';
import { philoxNormals } from './generate.ts';
import { InputError } from './errors.ts';
import { matrix, type Backend, type Matrix } from './types.ts';
import { seededUniform } from './algorithms/seeding.ts';
import { requireCentreCount, requireEnoughSamples, requireFinite, requirePositiveInteger, requireSameDimension, requireSeed } from './validate.ts';
import { centreError } from './metrics.ts';

export type Method = 'ddpm' | 'em' | 'gradient-em' | 'power';
export const METHODS: readonly Method[] = ['ddpm', 'em', 'gradient-em', 'power'];

/** Philox stream of sample(): apart from the data (1), seeding (2-4) and training noise (0). */
const STREAM_SAMPLE = 6;

export interface DdpmGmmOptions extends Omit<ScheduleOptions, 'k'> {
  readonly nComponents: number;
  readonly method?: Method;
  /** ddpm only; default two-stage for K = 2, annealed otherwise (warm when init is given). */
  readonly schedule?: ScheduleName;
  /** em / gradient-em: k-means++ restarts, the best average log-likelihood kept (default 1). */
  readonly nInit?: number;
  /** em / gradient-em: the gradient-EM step size and the step limit come from lr and maxSteps. */
  readonly backend: Backend;
  /** The Philox seed of the training noise. */
  readonly noiseSeed?: number;
  /** True centres, to log matched errors in the history. */
  readonly truth?: Matrix;
  /** Checkpoint and progress hooks of the loop (ddpm, em, gradient-em). */
  readonly loop?: Pick<LoopOptions, 'resume' | 'onCheckpoint' | 'checkpointEvery' | 'onProgress' | 'connections'>;
}

export interface FitOutput {
  readonly means: Matrix;
  readonly history: HistoryRow[];
  readonly converged: boolean;
  readonly nIter: number;
}

export class DdpmGmm {
  readonly nComponents: number;
  readonly method: Method;
  readonly schedule: ScheduleName;
  means: Matrix | undefined;
  history: HistoryRow[] = [];
  converged = false;
  nIter = 0;

  constructor(private readonly options: DdpmGmmOptions) {
    requireCentreCount(options.nComponents, 'nComponents');
    this.nComponents = options.nComponents;
    const method = options.method ?? 'ddpm';
    if (!METHODS.includes(method)) throw new InputError(`method must be one of ${METHODS.join(', ')}, got '${String(method)}'`);
    this.method = method;
    const schedule = options.schedule ?? (options.nComponents === 2 && !options.init ? 'two-stage' : options.init ? 'warm' : 'annealed');
    if (!SCHEDULES.includes(schedule)) throw new InputError(`schedule must be one of ${SCHEDULES.join(', ')}, got '${String(schedule)}'`);
    if ((schedule === 'two-stage' || schedule === 'projected') && method === 'ddpm' && options.nComponents !== 2) {
      throw new InputError(`the ${schedule} schedule needs nComponents = 2, got ${options.nComponents}; use schedule 'annealed' or 'warm'`);
    }
    if (method === 'power' && options.nComponents !== 2) {
      throw new InputError(`method 'power' (the spectral method of MATH.md section 9) needs nComponents = 2, got ${options.nComponents}`);
    }
    if (options.nInit !== undefined) requirePositiveInteger(options.nInit, 'nInit');
    if (options.seed !== undefined) requireSeed(options.seed, 'seed');
    if (options.noiseSeed !== undefined) requireSeed(options.noiseSeed, 'noiseSeed');
    this.schedule = schedule;
  }

  /** Learns the means from X (N x d). */
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
    const run = { ...o.loop, logEvery: o.logEvery, noiseSeed: o.noiseSeed };
    let out: FitOutput;
    if (this.method === 'ddpm') {
      const r = await fitSchedule(o.backend, X, this.schedule, { ...o, k }, o.truth, run);
      out = r;
    } else if (this.method === 'power') {
      const p = powerIteration(X, { seed: o.seed, maxSteps: o.maxSteps, tol: o.tol });
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
      out = { means: p.means, history, converged: p.converged, nIter: p.nIter };
    } else {
      const nInit = o.nInit ?? 1;
      let best: FitOutput | undefined;
      let bestLl = -Infinity;
      for (let r = 0; r < nInit; r++) {
        const init = o.init ?? kmeansPlusPlus(X, k, (o.seed ?? 0) + r);
        const res = await fitEm(o.backend, this.method, X, init, { maxSteps: o.maxSteps, tol: o.tol, lr: o.lr, logEvery: o.logEvery }, o.truth, r === 0 ? run : {});
        const ll = averageLl(X, res.means);
        if (ll > bestLl) {
          bestLl = ll;
          best = res;
        }
      }
      out = best!;
    }
    this.means = out.means;
    this.history = out.history;
    this.converged = out.converged;
    this.nIter = out.nIter;
    return out;
  }

  /** Responsibilities w_i(x) on the clean data under the learned mixture (N x K, MATH.md section 9). */
  predictProba(X: Matrix): Matrix {
    const means = this.fitted();
    this.checkData(X, 'X', means);
    const proba = matrix(X.rows, means.rows);
    mixtureLogLikelihood(X, means, proba.data);
    return proba;
  }

  /** Average log-likelihood (1/N) sum log q(x_n) under the balanced spherical mixture (MATH.md section 1). */
  score(X: Matrix): number {
    const means = this.fitted();
    this.checkData(X, 'X', means);
    return averageLl(X, means);
  }

  /** n samples from the learned mixture: a uniform component, then N(mu_i, I); seeded by Philox. */
  sample(n: number, seed = 0): Matrix {
    const means = this.fitted();
    requirePositiveInteger(n, 'the number of samples n');
    requireSeed(seed, 'the sample seed');
    const { rows: k, cols: d } = means;
    const out = matrix(n, d);
    const z = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const comp = Math.min(k - 1, Math.floor(seededUniform(seed + 7919, i) * k));
      philoxNormals(seed, 0, i, STREAM_SAMPLE, z);
      for (let c = 0; c < d; c++) out.data[i * d + c] = means.data[comp * d + c]! + z[c]!;
    }
    return out;
  }

  private fitted(): Matrix {
    if (!this.means) throw new InputError('the model is not fitted yet: call fit(X) first');
    return this.means;
  }

  private checkData(X: Matrix, what: string, means?: Matrix): void {
    if (X.rows < 1 || X.cols < 1) throw new InputError(`${what} is ${X.rows} x ${X.cols}: give at least one sample with at least one coordinate`);
    requireFinite(X, what);
    if (means) requireSameDimension(X, means, 'the fitted means');
    else requireEnoughSamples(X.rows, this.nComponents);
  }
}

function averageLl(X: Matrix, means: Matrix): number {
  const ll = mixtureLogLikelihood(X, means);
  let s = 0;
  for (const v of ll) s += v;
  return s / X.rows;
}
