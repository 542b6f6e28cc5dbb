// Restarts run together (docs/architecture.md, 'Restarts in one pass'): R runs of the one loop (loop.ts), each with
// its own plan, stopping rules, history and observers, on one shared Trainer whose gdSteps calls meet at a
// barrier. Once every live run waits on gdSteps (or has ended), the calls that share their settings go to the
// backend as gdStepsBatched calls of at most runsPerPass runs: one pass over the data serves them all. A run whose
// stage stopped, or whose call has fewer steps, is masked by the backend; a run that ended leaves the barrier.
// Each run makes the calls it makes alone, so its numbers are its own.
import type { BatchedRun, GdOptions, GdResult, Trainer } from '../training/capability.ts';
import { isPaperStudent } from '../training/student.ts';
import type { Dataset, DataInput, Matrix } from '../types.ts';

interface Waiting {
  readonly data: Dataset;
  readonly centres: Matrix;
  readonly options: GdOptions;
  readonly resolve: (r: GdResult) => void;
  readonly reject: (e: unknown) => void;
}

interface Shared {
  readonly matrix: Matrix;
  readonly handle: Dataset;
  refs: number;
}

/**
 * How many of nInit restarts of K x d centres run together: up to what one pass of the backend holds
 * (Training.runsPerPass). Groups, and a backend that holds one run, are said in the log.
 */
export function restartsTogether(backend: Trainer, nInit: number, k: number, d: number, log?: (message: string) => void, general = false): number {
  if (nInit === 1) return 1;
  if (general) {
    log?.(`restarts: a pass carries the paper's student only, so the ${nInit} restarts of this student (learned variances or weights) run one after another`);
    return 1;
  }
  const perPass = backend.runsPerPass(k, d);
  const together = Math.min(nInit, perPass);
  const shape = `K x d = ${k} x ${d} centres`;
  if (together === 1) log?.(`restarts: ${backend.name === 'gpu' ? "the GPU engine's" : "the backend's"} pass holds one run of ${shape}, so the ${nInit} restarts run one after another`);
  else if (together < nInit) log?.(`restarts: one pass holds ${perPass} runs of ${shape}, so the ${nInit} restarts run in ${Math.ceil(nInit / perPass)} groups of up to ${perPass}`);
  return together;
}

/**
 * Runs body(trainer, i) for i = 0 .. count - 1 together: each gets `backend` with its gdSteps calls gathered
 * into gdStepsBatched calls. Returns the bodies' results in order; a body's error is thrown after all ended.
 */
export async function runTogether<B extends Trainer, T>(backend: B, count: number, body: (trainer: B, index: number) => Promise<T>): Promise<T[]> {
  const barrier = new Barrier(backend, count);
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      body(barrier.trainer(backend), i).finally(() => barrier.leave()),
    ),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

class Barrier {
  private live: number;
  private waiting: Waiting[] = [];
  private readonly shared: Shared[] = [];
  /** Each run's handle to the shared upload of its data. */
  private readonly handles = new WeakMap<object, Dataset>();

  constructor(private readonly backend: Trainer, count: number) {
    this.live = count;
  }

  /** `backend` with dataset and gdSteps routed through the barrier; every other method as it is. */
  trainer<B extends Trainer>(backend: B): B {
    return new Proxy(backend, {
      get: (target, key) => {
        if (key === 'dataset') return (x: Matrix) => this.dataset(x);
        if (key === 'gdSteps') return (data: DataInput, centres: Matrix, options: GdOptions) => this.gdSteps(data, centres, options);
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args.map((a) => this.unwrap(a)));
      },
    });
  }

  leave(): void {
    this.live--;
    this.flush();
  }

  /** One upload for the runs whose data are equal (the untied schedules share the matrix; the tied ones centre it alike). */
  private dataset(x: Matrix): Dataset {
    let entry = this.shared.find((s) => !s.handle.disposed && sameMatrix(s.matrix, x));
    if (!entry) {
      entry = { matrix: x, handle: this.backend.dataset(x), refs: 0 };
      this.shared.push(entry);
    }
    entry.refs++;
    const own = entry;
    let disposed = false;
    const handle: Dataset = {
      kind: 'dataset',
      rows: x.rows,
      cols: x.cols,
      backend: own.handle.backend,
      get disposed() {
        return disposed || own.handle.disposed;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (--own.refs === 0) own.handle.dispose();
      },
    };
    this.handles.set(handle, own.handle);
    return handle;
  }

  private unwrap<A>(arg: A): A {
    return (typeof arg === 'object' && arg !== null && this.handles.get(arg)) as A || arg;
  }

  private gdSteps(data: DataInput, centres: Matrix, options: GdOptions): Promise<GdResult> {
    const input = this.unwrap(data);
    // Matrix noise, the general student and data given as a matrix run alone (gdStepsBatched takes neither).
    if (options.noise.kind !== 'seed' || !isPaperStudent(options.student) || options.logEvery === undefined || !isHandle(input)) {
      return this.backend.gdSteps(input, centres, options);
    }
    return new Promise<GdResult>((resolve, reject) => {
      this.waiting.push({ data: input, centres, options, resolve, reject });
      this.flush();
    });
  }

  /** Sends the waiting calls once every live run waits: one gdStepsBatched call per group of shared settings. */
  private flush(): void {
    if (this.waiting.length === 0 || this.waiting.length < this.live) return;
    const calls = this.waiting;
    this.waiting = [];
    const groups = new Map<string, Waiting[]>();
    for (const c of calls) {
      const key = settingsKey(this.shared.findIndex((s) => s.handle === c.data), c.options);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const group of groups.values()) {
      const first = group[0]!.options;
      const perPass = this.backend.runsPerPass(group[0]!.centres.rows, group[0]!.centres.cols);
      for (let at = 0; at < group.length; at += perPass) void this.send(group.slice(at, at + perPass), first);
    }
  }

  private async send(calls: Waiting[], o: GdOptions): Promise<void> {
    const noise = o.noise as GdOptions['noise'] & { kind: 'seed' };
    const runs: BatchedRun[] = calls.map((c) => ({
      centres: c.centres,
      noiseSeed: (c.options.noise as typeof noise).seed,
      startStep: c.options.startStep ?? 0,
      steps: c.options.steps,
      ...(c.options.onProgress ? { onProgress: c.options.onProgress } : {}),
    }));
    try {
      const results = await this.backend.gdStepsBatched(calls[0]!.data, runs, {
        noiseScale: o.noiseScale,
        tied: o.tied,
        lr: o.lr,
        logEvery: o.logEvery!,
        ...(o.projectRadius !== undefined ? { projectRadius: o.projectRadius } : {}),
        noise: { mode: noise.mode, ...(noise.step !== undefined ? { step: noise.step } : {}) },
      });
      calls.forEach((c, i) => c.resolve(results[i]!));
    } catch (e) {
      for (const c of calls) c.reject(e);
    }
  }
}

/** What the runs of one gdStepsBatched call must share. */
function settingsKey(data: number, o: GdOptions): string {
  const noise = o.noise as { mode: string; step?: number };
  return JSON.stringify([data, o.noiseScale, o.tied, o.lr, o.logEvery, o.projectRadius ?? null, noise.mode, noise.step ?? null]);
}

function isHandle(x: DataInput): x is Dataset {
  return (x as Dataset).kind === 'dataset';
}

function sameMatrix(a: Matrix, b: Matrix): boolean {
  if (a === b) return true;
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return false;
  return true;
}
