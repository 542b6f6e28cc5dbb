// One training run on the page: the chosen method in chunks of steps between
// animation frames (so the tab stays responsive), EM beside it on the same data,
// pause and resume at a chunk boundary. DDPM-GD chunks call gdSteps with startStep,
// so fresh noise continues exactly as in one long call (the counter is the step number).
import type { GpuBackend } from '../../host/engine.ts';
import type { GpuTimer } from '../../host/gpu-timer.ts';
import { centreError } from '../metrics.ts';
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
  /** Steps in the chunk, its wall milliseconds and GPU milliseconds (timestamp queries; null without). */
  readonly steps: number;
  readonly wallMs: number;
  readonly gpuMs: number | null;
}

export interface EmPoint {
  readonly iteration: number;
  readonly errorMax: number | null;
  readonly errorMean: number | null;
}

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
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly backend: GpuBackend,
    readonly timer: GpuTimer | undefined,
    readonly settings: Settings,
    readonly problem: Problem,
    readonly init: Matrix,
    private readonly onUpdate: () => void,
  ) {
    this.centres = init;
    this.emCentres = init;
    this.trajectory = [init];
    this.emTrajectory = [init];
    const e = this.errorOf(init);
    this.points.push({ done: 0, loss: null, gradNorm: null, errorMax: e?.max ?? null, errorMean: e?.mean ?? null, steps: 0, wallMs: 0, gpuMs: null });
    if (this.emEnabled) this.emPoints.push({ iteration: 0, errorMax: e?.max ?? null, errorMean: e?.mean ?? null });
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
    return this.done >= this.settings.steps && (!this.emEnabled || this.emDone >= this.settings.emIterations);
  }

  /** Starts or resumes; resolves when the run is done, paused or failed. */
  start(): Promise<void> {
    if (this.status === 'running' || this.status === 'done' || this.status === 'error') return this.loop;
    if (this.startedAt === 0) this.startedAt = performance.now();
    this.status = 'running';
    this.loop = this.run();
    return this.loop;
  }

  /** Pauses at the end of the current chunk; resolves once the chunk has finished. */
  pause(): Promise<void> {
    if (this.status === 'running') this.status = 'paused';
    return this.loop;
  }

  private async run(): Promise<void> {
    try {
      while (this.status === 'running' && !this.finished) {
        await nextFrame();
        if (this.status !== 'running') break;
        if (this.done < this.settings.steps) await this.mainChunk();
        if (this.emEnabled && this.emDone < this.settings.emIterations) await this.emChunk();
        this.onUpdate();
      }
      if (this.finished && this.status === 'running') {
        this.status = 'done';
        this.finishedAt = performance.now();
      }
    } catch (e) {
      this.status = 'error';
      this.error = e instanceof Error ? e : new Error(String(e));
      this.finishedAt = performance.now();
    }
    this.onUpdate();
  }

  private errorOf(centres: Matrix): { max: number; mean: number } | undefined {
    return this.problem.truth ? centreError(centres, this.problem.truth) : undefined;
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
    const e = this.errorOf(this.centres);
    this.points.push({
      done: this.done, loss, gradNorm, errorMax: e?.max ?? null, errorMean: e?.mean ?? null,
      steps, wallMs, gpuMs: gpu && gpu.passes > 0 && gpu.seconds > 0 ? 1000 * gpu.seconds : null,
    });
    this.trajectory.push(this.centres);
    // Aim the next chunk at CHUNK_TARGET_MS from this one's time per step.
    this.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor((CHUNK_TARGET_MS * steps) / Math.max(wallMs, 1e-3))));
  }

  private async emChunk(): Promise<void> {
    this.emCentres = await this.backend.emStep(this.problem.data, this.emCentres);
    this.emDone++;
    const e = this.errorOf(this.emCentres);
    this.emPoints.push({ iteration: this.emDone, errorMax: e?.max ?? null, errorMean: e?.mean ?? null });
    this.emTrajectory.push(this.emCentres);
  }
}
