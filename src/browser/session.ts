// One training run on the page: the chosen method in chunks of steps between
// animation frames (so the tab stays responsive), EM beside it on the same data,
// pause and resume at a chunk boundary. DDPM-GD chunks call gdSteps with startStep,
// so fresh noise continues exactly as in one long call (the counter is the step number).
// A paper schedule (two-stage, projected, annealed) runs through the algorithms' own loop
// (src/algorithms/loop.ts), whose onChunk hook this session uses to yield frames and to
// hold a paused run, so the page runs exactly the stages, step sizes and stopping rules
// that the CLI and the estimator run.
import type { GpuBackend } from '../../host/engine.ts';
import type { GpuTimer } from '../../host/gpu-timer.ts';
import { meansOf, runStages, truthMetrics, type StageResult } from '../algorithms/loop.ts';
import { DEFAULTS as SCHEDULE_DEFAULTS, type Plan } from '../algorithms/schedules.ts';
import type { Matrix } from '../types.ts';
import type { Problem } from './problem.ts';
import type { Settings } from './settings.ts';

export interface Point {
  /** Steps (or iterations) done when this point was taken. */
  readonly done: number;
  /** Loss of the last step of the chunk (evaluated before its update); null for EM methods. */
  readonly loss: number | null;
  readonly gradNorm: number | null;
  readonly errorMax: number | null;
  readonly errorMean: number | null;
  /** K = 2 with the truth: |cos| between the learned and the true centre difference (MATH.md section 10); else null. */
  readonly angle: number | null;
  /** The paper schedule's stage of this chunk (e.g. "stage 1"); null for warm and rows. */
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
}

/** The start of a run: the centres the main method starts from, EM's start, and a paper schedule's plan. */
export interface Start {
  /** K x d in data coordinates (a tied schedule's mean +/- m). */
  readonly init: Matrix;
  readonly emInit: Matrix;
  readonly plan?: Plan;
}

/** Thrown into a held run when the page drops it (Reset or a new Start), so the algorithms' loop unwinds. */
class Cancelled extends Error {}

export type SessionStatus = 'ready' | 'running' | 'paused' | 'done' | 'error';

/** Wall time a chunk aims at: long enough to amortise a read-back, short enough for smooth plots. */
const CHUNK_TARGET_MS = 30;
/** The engine records at most 64 steps per command buffer; more per chunk gains nothing. */
const MAX_CHUNK = 64;

/** The next animation frame, or 50 ms when the tab is hidden and frames stop. */
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
  /** A paper schedule's stages as they ended (name, steps, whether its stopping rule was met). */
  stages: StageResult[] = [];
  readonly init: Matrix;
  readonly plan: Plan | undefined;
  readonly points: Point[] = [];
  /** Centres at the start and after every chunk. */
  readonly trajectory: Matrix[];
  readonly emPoints: EmPoint[] = [];
  readonly emTrajectory: Matrix[];
  centres: Matrix;
  emCentres: Matrix;
  /** performance.now() at the first start, and total milliseconds spent inside chunks. */
  startedAt = 0;
  finishedAt = 0;
  private done = 0;
  private emDone = 0;
  private chunk = 1;
  private planFinished = false;
  /** Resolves what start() and pause() returned: the run is done, failed, or paused at a chunk boundary. */
  private settled: Promise<void> = Promise.resolve();
  private settle: () => void = () => {};
  /** Set while a paper schedule's loop is held inside its onChunk hook (paused). */
  private held: { resume: () => void; cancel: (e: Error) => void } | undefined;

  constructor(
    readonly backend: GpuBackend,
    readonly timer: GpuTimer | undefined,
    readonly settings: Settings,
    readonly problem: Problem,
    start: Start,
    private readonly onUpdate: () => void,
  ) {
    const { init, emInit, plan } = start;
    this.init = init;
    this.plan = plan;
    this.centres = init;
    this.emCentres = emInit;
    this.trajectory = [init];
    this.emTrajectory = [emInit];
    const e = this.metricsOf(init);
    this.points.push({ done: 0, loss: null, gradNorm: null, ...e, stage: null, steps: 0, wallMs: 0, gpuMs: null });
    if (this.emEnabled) this.emPoints.push({ iteration: 0, ...this.metricsOf(emInit) });
  }

  /** The most steps the main run can take: a paper schedule's stage limits summed (its stopping rules may end it sooner). */
  get stepLimit(): number {
    return this.plan ? this.plan.stages.reduce((a, st) => a + st.maxSteps, 0) : this.settings.steps;
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

  get finished(): boolean {
    const main = this.plan ? this.planFinished : this.done >= this.settings.steps;
    return main && (!this.emEnabled || this.emDone >= this.settings.emIterations);
  }

  /** Starts or resumes; resolves when the run is done, paused or failed. */
  start(): Promise<void> {
    if (this.status === 'running' || this.status === 'done' || this.status === 'error') return this.settled;
    if (this.startedAt === 0) this.startedAt = performance.now();
    this.status = 'running';
    this.settled = new Promise((resolve) => (this.settle = resolve));
    const held = this.held;
    this.held = undefined;
    // A paper schedule paused inside its loop continues there; otherwise (re)enter the chunk loop.
    if (held) held.resume();
    else void this.run();
    return this.settled;
  }

  /** Pauses at the end of the current chunk; resolves once the chunk has finished. */
  pause(): Promise<void> {
    if (this.status === 'running') this.status = 'paused';
    return this.settled;
  }

  /** Drops a paused run for good: a schedule held in the algorithms' loop is unwound, so it leaves no pending work. */
  cancel(): void {
    const held = this.held;
    this.held = undefined;
    held?.cancel(new Cancelled('the run was reset'));
  }

  private async run(): Promise<void> {
    try {
      if (this.plan && !this.planFinished) {
        await nextFrame();
        await this.runPlan(this.plan);
      }
      // Warm and rows: the main method and EM alternate, one chunk each per frame. After a paper
      // schedule only EM is left: its loop works on the centred data with a tied centre, and EM
      // interleaved with it would make the engine swap its data and buffers at every call.
      while (this.status === 'running' && !this.finished) {
        await nextFrame();
        if (this.status !== 'running') break;
        if (!this.plan && this.done < this.settings.steps) await this.mainChunk();
        if (this.emEnabled && this.emDone < this.settings.emIterations) await this.emChunk();
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
   * A paper schedule through runStages. Its chunks are the schedule's log interval (the stopping rules are
   * defined on it), so instead of resizing chunks to 30 ms as the warm/rows loop does, the hook yields a
   * frame whenever 30 ms have passed since the last one.
   */
  private async runPlan(plan: Plan): Promise<void> {
    await this.timer?.reset();
    let chunkStart = performance.now();
    let lastYield = chunkStart;
    const result = await runStages(this.backend, plan.problem, plan.stages, plan.init, {
      logEvery: SCHEDULE_DEFAULTS.logEvery,
      noiseSeed: this.settings.noiseSeed,
      onChunk: async (row, state) => {
        const wallMs = performance.now() - chunkStart;
        const gpu = this.timer ? await this.timer.read() : undefined;
        const steps = state.globalStep - this.done;
        this.done = state.globalStep;
        this.centres = meansOf(plan.problem, state.centres);
        this.points.push({
          done: this.done, loss: row.loss, gradNorm: row.gradNorm, errorMax: row.error ?? null, errorMean: row.meanError ?? null,
          angle: row.angle ?? null, stage: row.stage, steps, wallMs, gpuMs: gpu && gpu.passes > 0 && gpu.seconds > 0 ? 1000 * gpu.seconds : null,
        });
        this.trajectory.push(this.centres);
        this.stages = state.stageResults;
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
    this.centres = result.means;
    this.stages = result.stages;
    this.planFinished = true;
  }

  /** Matched error and (K = 2) angle of MATH.md section 10, as the algorithms' loop computes them; nulls without a truth. */
  private metricsOf(centres: Matrix): { errorMax: number | null; errorMean: number | null; angle: number | null } {
    const m = truthMetrics({ data: this.problem.data, tied: false, truth: this.problem.truth }, centres);
    return { errorMax: m.error ?? null, errorMean: m.meanError ?? null, angle: m.angle ?? null };
  }

  private async mainChunk(): Promise<void> {
    const s = this.settings;
    const steps = Math.min(this.chunk, s.steps - this.done);
    const { data } = this.problem;
    await this.timer?.reset();
    const t0 = performance.now();
    let loss: number | null = null;
    let gradNorm: number | null = null;
    if (s.method === 'ddpm') {
      const r = await this.backend.gdSteps(data, this.centres, {
        noiseScale: s.t, tied: false, lr: s.lr, steps, logEvery: steps, startStep: this.done,
        noise: { kind: 'seed', seed: s.noiseSeed, mode: 'fresh' },
      });
      this.centres = r.centres;
      const last = r.history[r.history.length - 1]!;
      loss = last.loss;
      gradNorm = last.gradNorm;
    } else {
      for (let i = 0; i < steps; i++) {
        this.centres = s.method === 'em' ? await this.backend.emStep(data, this.centres) : await this.backend.gradientEmStep(data, this.centres, s.lr);
      }
    }
    const wallMs = performance.now() - t0;
    const gpu = this.timer ? await this.timer.read() : undefined;
    this.done += steps;
    this.points.push({
      done: this.done, loss, gradNorm, ...this.metricsOf(this.centres), stage: null,
      steps, wallMs, gpuMs: gpu && gpu.passes > 0 && gpu.seconds > 0 ? 1000 * gpu.seconds : null,
    });
    this.trajectory.push(this.centres);
    // Aim the next chunk at CHUNK_TARGET_MS from this one's time per step.
    this.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor((CHUNK_TARGET_MS * steps) / Math.max(wallMs, 1e-3))));
  }

  private async emChunk(): Promise<void> {
    this.emCentres = await this.backend.emStep(this.problem.data, this.emCentres);
    this.emDone++;
    this.emPoints.push({ iteration: this.emDone, ...this.metricsOf(this.emCentres) });
    this.emTrajectory.push(this.emCentres);
  }
}
