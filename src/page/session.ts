// One training run on the page: the chosen method through the algorithms' own loop
// (src/algorithms/loop.ts) with the plan the library makes for the same options (start.ts),
// so the page runs exactly the stages, step sizes, stopping rules and averaging that the CLI
// and the estimator run. The loop's onChunk hook yields animation frames (so the tab stays
// responsive), steps EM beside the run, and holds a paused run at a chunk boundary.
import type { GpuBackend } from '../../host/engine.ts';
import type { GpuTimer } from '../../host/instrument/gpu-timer.ts';
import { meansOf, runStages, truthMetrics, type StageResult } from '../algorithms/loop.ts';
import { averageLl } from '../fit-run.ts';
import { fromScaled, logScaleSum } from '../scaling.ts';
import type { StudentParams } from '../training/student.ts';
import { matrix, type Matrix } from '../types.ts';
import type { PageData } from './problem.ts';
import { isPaperSchedule, type Settings } from './settings.ts';
import type { FitSpace, RunPlan, Start } from './start.ts';

export interface Point {
  /** Steps (or iterations) done when this point was taken. */
  readonly done: number;
  /** DDPM loss of the last step of the chunk (evaluated before its update); null for EM methods. */
  readonly loss: number | null;
  readonly gradNorm: number | null;
  readonly errorMax: number | null;
  readonly errorMean: number | null;
  /** K = 2 with the truth: |cos| between the learned and the true centre difference (docs/math.md section 10); else null. */
  readonly angle: number | null;
  /** Without a truth: the average log-likelihood per row, in the data's units, on up to LL_ROWS rows; else null. */
  readonly logLikelihood: number | null;
  /** The loop stage of this chunk (e.g. "warm", "warm (average)", "stage 1"); null at the start. */
  readonly stage: string | null;
  /** Steps in the chunk, its wall milliseconds and GPU milliseconds (timestamp queries; null without). */
  readonly steps: number;
  readonly wallMs: number;
  readonly gpuMs: number | null;
}

export interface EmPoint {
  readonly iteration: number;
  readonly errorMax: number | null;
  readonly errorMean: number | null;
  readonly angle: number | null;
  readonly logLikelihood: number | null;
}

type Metrics = Pick<EmPoint, 'errorMax' | 'errorMean' | 'angle' | 'logLikelihood'>;

/** Thrown into a held run when the page drops it (Reset or a new Start), so the algorithms' loop unwinds. */
class Cancelled extends Error {}

export type SessionStatus = 'ready' | 'running' | 'paused' | 'done' | 'error';

/** Wall time between frames: long enough to amortise a read-back, short enough for smooth plots. */
const CHUNK_TARGET_MS = 30;
/** Rows of the per-chunk log-likelihood: enough for a smooth curve, few enough to compute between frames. */
const LL_ROWS = 4096;

/** Up to `count` distinct rows, j * 2654435761 mod N (the scatter's choice: no aliasing with a periodic row order). */
export function spreadRows(x: Matrix, count: number): Matrix {
  if (x.rows <= count) return x;
  const out = matrix(count, x.cols);
  for (let j = 0; j < count; j++) out.data.set(x.data.subarray(((j * 2654435761) % x.rows) * x.cols, (((j * 2654435761) % x.rows) + 1) * x.cols), j * x.cols);
  return out;
}

/** The next animation frame, or a short timer when the tab is hidden and frames stop. */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 50);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class Session {
  status: SessionStatus = 'ready';
  error: Error | undefined;
  /** The loop's stages as they ended (name, steps, whether its stopping rule was met). */
  stages: StageResult[] = [];
  /** The loop's verdict once the main run has ended (as fit() reports it). */
  converged = false;
  /** K x d in the data's units (a tied schedule's mean +/- m), as are centres, emCentres and the trajectories. */
  readonly init: Matrix;
  /** The data the model is fitted to (the settings' scaling) and the scaling. */
  readonly fit: FitSpace;
  readonly plan: RunPlan;
  readonly points: Point[] = [];
  /** Centres at the start and after every chunk. */
  readonly trajectory: Matrix[];
  readonly emPoints: EmPoint[] = [];
  readonly emTrajectory: Matrix[];
  centres: Matrix;
  emCentres: Matrix;
  /** The current centres and EM's in the fit's coordinates (what Generate samples from, with fit.data). */
  fitCentres: Matrix;
  /** The main run's general student (variances and weights, docs/math.md section 14) with fitCentres; undefined for the paper's. */
  student: StudentParams | undefined;
  private emFitCentres: Matrix;
  /** The rows the per-chunk log-likelihood is computed on (no truth only). */
  private readonly llRows: Matrix | undefined;
  /** performance.now() at the first start, and total milliseconds spent inside chunks. */
  startedAt = 0;
  finishedAt = 0;
  private done = 0;
  private emDone = 0;
  private mainFinished = false;
  /** Resolves what start() and pause() returned: the run is done, failed, or paused at a chunk boundary. */
  private settled: Promise<void> = Promise.resolve();
  private settle: () => void = () => {};
  /** Set while the loop is held inside its onChunk hook (paused). */
  private held: { resume: () => void; cancel: (e: Error) => void } | undefined;

  constructor(
    readonly backend: GpuBackend,
    readonly timer: GpuTimer | undefined,
    readonly settings: Settings,
    readonly input: PageData,
    start: Start,
    private readonly onUpdate: () => void,
  ) {
    const { plan, emInit, fit } = start;
    this.plan = plan;
    this.fit = fit;
    this.llRows = input.truth ? undefined : spreadRows(fit.data, LL_ROWS);
    this.fitCentres = meansOf(plan.problem, plan.init);
    this.student = plan.student;
    this.init = this.toData(this.fitCentres);
    this.centres = this.init;
    this.emFitCentres = emInit;
    this.emCentres = this.toData(emInit);
    this.trajectory = [this.init];
    this.emTrajectory = [this.emCentres];
    const e = this.metricsOf(this.init, this.fitCentres, this.student);
    this.points.push({ done: 0, loss: null, gradNorm: null, ...e, stage: null, steps: 0, wallMs: 0, gpuMs: null });
    if (this.emEnabled) this.emPoints.push({ iteration: 0, ...this.metricsOf(this.emCentres, emInit, undefined) });
  }

  /** Centres in the fit's coordinates to the data's units (the estimator's fromScaled). */
  toData(m: Matrix): Matrix {
    return this.fit.scaling ? fromScaled(m, this.fit.scaling) : m;
  }

  /** The most steps the main run can take: its stages' limits summed (stopping rules may end it sooner). */
  get stepLimit(): number {
    return this.plan.stages.reduce((a, st) => a + st.maxSteps, 0);
  }

  get stepsDone(): number {
    return this.done;
  }

  get emIterationsDone(): number {
    return this.emDone;
  }

  /** EM beside the main run, unless the main run is EM itself. */
  get emEnabled(): boolean {
    return this.settings.emIterations > 0 && this.settings.method !== 'em';
  }

  /**
   * EM beside warm and single steps between the main run's chunks, on the same data. Beside a paper schedule it
   * runs after: the tied K = 2 schedules work on the centred data, and EM interleaved with them would make the
   * engine swap its data and buffers at every call.
   */
  get emAfter(): boolean {
    return isPaperSchedule(this.settings.schedule);
  }

  get finished(): boolean {
    return this.mainFinished && (!this.emEnabled || this.emDone >= this.settings.emIterations);
  }

  /** Starts or resumes; resolves when the run is done, paused or failed. */
  start(): Promise<void> {
    if (this.status === 'running' || this.status === 'done' || this.status === 'error') return this.settled;
    if (this.startedAt === 0) this.startedAt = performance.now();
    this.status = 'running';
    this.settled = new Promise((resolve) => (this.settle = resolve));
    const held = this.held;
    this.held = undefined;
    // A run paused inside the loop continues there; one paused in the EM left after it re-enters run().
    if (held) held.resume();
    else void this.run();
    return this.settled;
  }

  /** Pauses at the end of the current chunk; resolves once the chunk has finished. */
  pause(): Promise<void> {
    if (this.status === 'running') this.status = 'paused';
    return this.settled;
  }

  /** Drops a paused run for good: a run held in the algorithms' loop is unwound, so it leaves no pending work. */
  cancel(): void {
    const held = this.held;
    this.held = undefined;
    held?.cancel(new Cancelled('the run was reset'));
  }

  private async run(): Promise<void> {
    try {
      if (!this.mainFinished) {
        await nextFrame();
        await this.runMain();
      }
      // EM iterations left after the main run (all of them after a paper schedule), one per frame.
      while (this.status === 'running' && !this.finished) {
        await nextFrame();
        if (this.status !== 'running') break;
        await this.emChunk();
        this.onUpdate();
      }
      if (this.finished && this.status === 'running') {
        this.status = 'done';
        this.finishedAt = performance.now();
      }
    } catch (e) {
      if (e instanceof Cancelled) {
        this.settle();
        return;
      }
      this.status = 'error';
      this.error = e instanceof Error ? e : new Error(String(e));
      this.finishedAt = performance.now();
    }
    this.onUpdate();
    this.settle();
  }

  /** Holds the algorithms' loop at a chunk boundary until start() resumes it or cancel() drops it. */
  private hold(): Promise<void> {
    const paused = new Promise<void>((resume, cancel) => (this.held = { resume, cancel }));
    this.onUpdate();
    this.settle();
    return paused;
  }

  /**
   * The plan through runStages, in the chunks of its log interval (the stopping rules are defined on it): the
   * hook records each chunk, steps EM beside it, holds a paused run, and yields a frame whenever CHUNK_TARGET_MS have
   * passed since the last one.
   */
  private async runMain(): Promise<void> {
    const plan = this.plan;
    const emBeside = this.emEnabled && !this.emAfter;
    await this.timer?.reset();
    let chunkStart = performance.now();
    let lastYield = chunkStart;
    const result = await runStages(this.backend, plan.problem, plan.stages, plan.init, {
      logEvery: plan.logEvery,
      noiseSeed: this.settings.noiseSeed,
      ...(plan.student ? { student: plan.student } : {}),
      onChunk: async (row, state) => {
        const wallMs = performance.now() - chunkStart;
        const gpu = this.timer ? await this.timer.read() : undefined;
        const steps = state.globalStep - this.done;
        const gd = row.noiseScale !== null;
        this.done = state.globalStep;
        this.fitCentres = meansOf(plan.problem, state.centres);
        this.student = state.student;
        this.centres = this.toData(this.fitCentres);
        this.points.push({
          done: this.done, loss: gd ? row.loss : null, gradNorm: gd ? row.gradNorm : null, ...this.metricsOf(this.centres, this.fitCentres, this.student),
          stage: row.stage, steps, wallMs, gpuMs: gpu && gpu.passes > 0 && gpu.seconds > 0 ? 1000 * gpu.seconds : null,
        });
        this.trajectory.push(this.centres);
        this.stages = state.stageResults;
        // Outside the chunk's timing: EM's passes are not the main run's throughput.
        if (emBeside && this.emDone < this.settings.emIterations) await this.emChunk();
        this.onUpdate();
        if (this.status === 'paused') await this.hold();
        if (performance.now() - lastYield >= CHUNK_TARGET_MS) {
          await nextFrame();
          lastYield = performance.now();
        }
        await this.timer?.reset();
        chunkStart = performance.now();
      },
    });
    // The loop's result: an averaging tail's mean, not its last iterate (and the student that goes with it).
    this.fitCentres = result.means;
    this.student = result.student;
    this.centres = this.toData(result.means);
    this.stages = result.stages;
    this.converged = result.converged;
    this.mainFinished = true;
  }

  /**
   * Matched error and (K = 2) angle of docs/math.md section 10 in the data's units (the loop's truthMetrics); without a
   * truth, the average log-likelihood in the data's units (the estimator's score) on llRows.
   */
  private metricsOf(centres: Matrix, fitCentres: Matrix, student: StudentParams | undefined): Metrics {
    const m = truthMetrics({ data: this.input.data, tied: false }, centres, this.input.truth);
    const ll = this.llRows ? averageLl(this.llRows, fitCentres, student) - (this.fit.scaling ? logScaleSum(this.fit.scaling) : 0) : null;
    return { errorMax: m.error ?? null, errorMean: m.meanError ?? null, angle: m.angle ?? null, logLikelihood: ll };
  }

  // EM beside the run is the paper's EM (identity covariance, equal weights): the yardstick the figures compare with.
  private async emChunk(): Promise<void> {
    this.emFitCentres = await this.backend.emStep(this.fit.data, this.emFitCentres);
    this.emCentres = this.toData(this.emFitCentres);
    this.emDone++;
    this.emPoints.push({ iteration: this.emDone, ...this.metricsOf(this.emCentres, this.emFitCentres, undefined) });
    this.emTrajectory.push(this.emCentres);
  }
}
