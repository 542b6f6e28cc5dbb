// The training feature's GPU side: the DDPM loss and gradient, GD and EM steps on the engine's passes (host/train/).
// Centres stay on the GPU during training; several steps go into one command buffer; the loss and centres are read
// back only every logEvery steps and at the end. It also holds the data handles' uploads, which the passes read.
import { checkProblem, checkStepSize, requirePositiveInteger } from '../validate.ts';
import { InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import type { Dataset, DataInput, Matrix } from '../types.ts';
import { DatasetRegistry, isDataset } from '../dataset.ts';
import { matrix } from '../types.ts';
import { checkGdOptions } from './checks.ts';
import { checkStudent, isPaperStudent, type StudentParams } from './student.ts';
import { studentEmSteps } from './student-mixture.ts';
import { StudentOnGpu } from './gpu-student.ts';
import type { BatchedRun, DdpmOptions, EmSteps, GdBatchOptions, GdOptions, GdResult, HistoryEntry, LossGradient, Training } from './capability.ts';
import { createBuffer, unpad } from '../../host/core/buffers.ts';
import type { GpuCore } from '../../host/core/context.ts';
import type { AcquiredDevice } from '../../host/core/device.ts';
import type { DdpmKernel, KernelKind } from '../../host/core/kernel-kind.ts';
import { type Shape, shapeFor, type TileConfig, tileConfigProblem } from '../../host/core/layout.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { COPY_DST, COPY_SRC } from '../../host/core/usage.ts';
import { divergence, firstNonFinite } from '../../host/train/gd-history.ts';
import { type LanePlan, resolveLanePlan } from '../../host/train/kernel-plan.ts';
import { ddpmTiled } from '../../host/train/programs.ts';
import { centresBytes, type DataOnGpu, GpuResources } from '../../host/train/resources.ts';
import { encodeEmSteps, encodeGdStep, type StepContext } from '../../host/train/step-encoding.ts';
import { adapterKey, textHash, TileTuner, type TuneOption, type TuneStore } from '../../host/tune/autotune.ts';
import { secondsPerStep, timingPlan } from '../../host/tune/tune-timing.ts';

/** Invocations per workgroup of the tiled kernel on software adapters, unless tuned or given. */
const SOFTWARE_TILED_WG = 64;

/** Most GD steps recorded into one command buffer. */
const MAX_STEPS_PER_SUBMIT = 64;
/**
 * Log points share one read-back until a submission holds this many sample-steps (rows x steps): a read costs
 * a few small steps on a software adapter (docs/performance.md, 'Small calls'), and progress still comes often.
 */
const READ_EVERY_SAMPLE_STEPS = 2 ** 17;

/** The training engine's own settings (host/engine.ts GpuBackendInit). */
export interface TrainingInit {
  readonly acquired: AcquiredDevice;
  /** WGSL sources by file name (shaders/*.wgsl): the tuner's choices are keyed by the kernels' text. */
  readonly sources: Readonly<Record<string, string>>;
  /** Which DDPM kernel (host/train/kernel-plan.ts); 'auto' by default. */
  readonly kernel?: DdpmKernel;
  /** The lane kernel's plan at every shape, instead of the rule by size (host/train/kernel-plan.ts); for tests and benchmarks. */
  readonly lanePlan?: LanePlan;
  /** Use subgroup operations where the adapter has them (default true); false forces the fallback. */
  readonly subgroups?: boolean;
  /** Notes for the user, such as a long first compilation. */
  readonly log?: (message: string) => void;
  /** The tiled kernel's sizes (host/tune/autotune.ts): 'auto' (default) tunes on hardware adapters only. */
  readonly tune?: TuneOption;
  /** Where tuned choices persist, given the adapter's key (host/tune/tune-store.ts); none: this process only. */
  readonly tuneStore?: (adapter: string) => TuneStore | undefined;
}

/**
 * The training engine's parts, for the test probes (test/gpu/probes.ts) and the benchmark's peak kernel
 * (bench/fma-peak.ts). Internal: not part of the Backend API, and free to change with the engine.
 */
export interface EngineInternals {
  readonly device: GPUDevice;
  readonly pipelines: GpuCore['pipelines'];
  readonly resources: GpuResources;
  /** The checks of every Training method on data and centres; returns K (2 when tied). */
  readonly checkProblem: (data: Matrix, centres: Matrix, tied: boolean) => number;
  /** Submits the encoder and returns the bytes of the targets. */
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

export class TrainingOnGpu implements Training {
  private readonly core: GpuCore;
  readonly resources: GpuResources;
  private readonly steps: StepContext;
  private readonly tiles: TileTuner;
  /** The dataset handles' uploads; a disposed handle's buffers go once the calls before it have settled. */
  private readonly datasets: DatasetRegistry<DataOnGpu>;
  /** Each handle's matrix, for the host's EM of a general student. */
  private readonly hosted = new WeakMap<Dataset, Matrix>();
  /** The general student's passes (docs/math.md section 14). */
  private readonly student: StudentOnGpu;

  constructor(core: GpuCore, init: TrainingInit) {
    this.core = core;
    const { device } = core;
    this.resources = new GpuResources(device, {
      maxChunkRows: core.maxChunkRows,
      kernelFor: () => core.kernel,
      shapeFor: (k, d) => this.shapeOf(k, d),
    });
    this.datasets = new DatasetRegistry<DataOnGpu>('gpu', (data) => void core.run(async () => this.resources.destroyData(data)));
    const subgroups = (init.subgroups ?? true) && init.acquired.hasSubgroups;
    this.steps = { pipelines: core.pipelines, limits: device.limits, subgroups, lanePlan: init.lanePlan };
    this.student = new StudentOnGpu({ device, resources: this.resources, steps: this.steps, kernelChoice: init.kernel ?? 'auto', read: this.read.bind(this) });
    const adapter = adapterKey(init.acquired.adapterInfo, device.limits, subgroups);
    const timing = { device, steps: this.steps, maxChunkRows: core.maxChunkRows, read: this.read.bind(this) };
    this.tiles = new TileTuner({
      option: init.tune ?? 'auto', hardware: !core.software, adapterName: init.acquired.adapterName, adapter, limits: device.limits, log: init.log ?? (() => undefined),
      kernels: textHash(...ddpmTiled.files.map((f) => init.sources[f] ?? '')), store: init.tuneStore?.(adapter),
      rows: timingPlan(!core.software).rows, measure: (k, d, config) => secondsPerStep(timing, k, d, config, timingPlan(!core.software)),
    });
  }

  /** The DDPM kernel this backend runs for K centres in d dimensions (K = 2 when tied). */
  kernelFor(_k: number, _d: number): KernelKind {
    return this.core.kernel;
  }

  /** How much of the lane kernel is unrolled for K centres in d dimensions (host/train/kernel-plan.ts); undefined with the tiled kernel. */
  lanePlanOf(k: number, d: number): LanePlan | undefined {
    if (this.kernelFor(k, d) !== 'lanes') return undefined;
    return resolveLanePlan(shapeFor(k, d, this.core.device.limits, this.core.maxChunkRows), this.steps.lanePlan);
  }

  /** The sizes this backend's passes use for K centres in d dimensions: with the tiled kernel, its fixed or tuned tile and workgroup. */
  shapeOf(k: number, d: number): Shape {
    if (this.kernelFor(k, d) !== 'tiled') return shapeFor(k, d, this.core.device.limits, this.core.maxChunkRows);
    const config = this.tiles.configFor(k, d) ?? (this.core.software ? this.softwareTiles(k, d) : undefined);
    return shapeFor(k, d, this.core.device.limits, this.core.maxChunkRows, config);
  }

  /** Software adapters run the tiled kernel faster with 64 invocations per workgroup than with more
   * (docs/decisions/2026-11-25-tiled-64-invocations.md): the default tile with that workgroup, where it fits. */
  private softwareTiles(k: number, d: number): TileConfig | undefined {
    const config = { tile: shapeFor(k, d, this.core.device.limits, this.core.maxChunkRows).tile, wg: SOFTWARE_TILED_WG };
    return tileConfigProblem(k, d, this.core.device.limits, config) === undefined ? config : undefined;
  }

  /** Times the tiled kernel's candidates for (K, d)'s class when this backend tunes and knows no choice yet. */
  private async tune(k: number, d: number): Promise<void> {
    if (this.kernelFor(k, d) === 'tiled') await this.tiles.ensure(k, d);
  }

  dataset(x: Matrix): Dataset {
    const handle = this.datasets.create(x, (m) => this.resources.upload(m));
    this.hosted.set(handle, x);
    return handle;
  }

  /** The data of a call: a handle's upload, or the matrix (uploaded by prepare unless unchanged since the last call). */
  private dataOf(data: DataInput): Matrix | DataOnGpu {
    return isDataset(data) ? this.datasets.payload(data) : data;
  }

  /** The engine's parts (EngineInternals); call inside the core's queue. */
  internals(): EngineInternals {
    return {
      device: this.core.device,
      pipelines: this.core.pipelines,
      resources: this.resources,
      checkProblem: (data, centres, tied) => this.checkCentres(data, centres, tied),
      read: (encoder, what) => this.read(encoder, what),
    };
  }

  dispose(): void {
    this.student.dispose();
    this.datasets.disposeAll();
    this.resources.dispose();
  }

  lossAndGradient(data: DataInput, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    return this.core.run(async () => {
      const input = this.dataOf(data);
      if (isPaperStudent(options.student)) return this.lossAndGradientNow(input, centres, options);
      return this.student.lossAndGradient(input, centres, options, this.checkCentres(input, centres, options.tied));
    });
  }

  private async lossAndGradientNow(data: Matrix | DataOnGpu, centres: Matrix, options: DdpmOptions): Promise<LossGradient> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = checkProblem(data, centres, options.tied, options.firstRow !== undefined);
    await this.tune(k, data.cols);
    const res = this.resources.prepare(data, k, { a, sigma, noise: options.noise, steps: 0, firstRow: options.firstRow });
    this.resources.writeScaledCentres(res, centres, a, options.tied);
    this.resources.writeUpdate(res, { rows: data.rows, lr: 0, apply: false, radius: 0, emMode: 0 });
    const noise = this.resources.uploadNoise(options.noise, data);
    let grad: ArrayBuffer, hist: ArrayBuffer;
    try {
      const encoder = this.core.device.createCommandEncoder();
      this.resources.resetStepState(encoder, res, options.noise.kind === 'seed' ? (options.noise.step ?? 0) : 0);
      const pass = encoder.beginComputePass();
      encodeGdStep(pass, this.steps, res, this.resources.chunks, { tied: options.tied, project: false, noise });
      pass.end();
      [grad, hist] = await this.read(encoder, [
        { buffer: res.gradient, bytes: centresBytes(res) },
        { buffer: res.history, bytes: 8 },
      ]);
    } finally {
      noise?.forEach((b) => b.destroy());
    }
    const rows = options.tied ? 1 : k;
    const gradScaled = unpad(new Float32Array(grad), rows, data.cols, res.shape.d4);
    const gradCentres = matrix(rows, data.cols, gradScaled.data.map((g) => a * g));
    const loss = new Float32Array(hist)[0];
    if (!Number.isFinite(loss)) throw new InputError('The loss is not finite: check the data, centres and noise for huge values.');
    return { loss, gradScaled, gradCentres };
  }

  gdSteps(data: DataInput, centres: Matrix, options: GdOptions): Promise<GdResult> {
    return this.core.run(async () => {
      const input = this.dataOf(data);
      if (isPaperStudent(options.student)) return this.gdStepsNow(input, centres, options);
      return this.student.gdSteps(input, centres, options, this.checkCentres(input, centres, options.tied));
    });
  }

  /**
   * One run per pass: the DDPM passes have no run index yet, so the runs go one after another through gdSteps,
   * each with the bits it has alone.
   */
  runsPerPass(_k: number, _d: number): number {
    return 1;
  }

  async gdStepsBatched(data: DataInput, runs: readonly BatchedRun[], options: GdBatchOptions): Promise<GdResult[]> {
    if (!Array.isArray(runs) || runs.length !== 1) {
      throw new InputError(`the GPU engine's pass holds 1 run, got ${Array.isArray(runs) ? runs.length : String(runs)}: give the runs one call each (runsPerPass)`);
    }
    const [run] = runs as [BatchedRun];
    const { noise, ...shared } = options;
    return [await this.gdSteps(data, run.centres, { ...shared, steps: run.steps, startStep: run.startStep, noise: { kind: 'seed', seed: run.noiseSeed, ...noise }, ...(run.onProgress ? { onProgress: run.onProgress } : {}) })];
  }

  private async gdStepsNow(data: Matrix | DataOnGpu, centres: Matrix, options: GdOptions): Promise<GdResult> {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = this.checkCentres(data, centres, options.tied);
    const { steps, noise: noiseSpec } = options;
    const logEvery = checkGdOptions(options);
    const startStep = options.startStep ?? 0;
    await this.tune(k, data.cols);
    const res = this.resources.prepare(data, k, { a, sigma, noise: noiseSpec, steps, startStep, firstRow: options.firstRow });
    this.resources.writeScaledCentres(res, centres, a, options.tied);
    const project = options.projectRadius !== undefined;
    this.resources.writeUpdate(res, { rows: data.rows, lr: options.lr, apply: true, radius: project ? a * options.projectRadius! : 0, emMode: 0 });
    const noise = this.resources.uploadNoise(noiseSpec, data);
    const rows = options.tied ? 1 : k;
    const history: HistoryEntry[] = [];
    let current = centres;
    let done = 0;
    let lastLogged = 0;
    let snapshots: GPUBuffer | undefined;
    try {
      while (done < steps) {
        const encoder = this.core.device.createCommandEncoder();
        if (done === 0) {
          // Fresh noise counts steps from startStep; fixed noise stays at its own step.
          const fresh = noiseSpec.kind === 'seed' && noiseSpec.mode === 'fresh';
          const fixedStep = noiseSpec.kind === 'seed' && noiseSpec.mode === 'fixed' ? (noiseSpec.step ?? 0) : startStep;
          this.resources.resetStepState(encoder, res, fresh ? startStep : fixedStep);
        }
        // Up to MAX_STEPS_PER_SUBMIT steps per submission, and past a log point only while the steps are cheap
        // (READ_EVERY_SAMPLE_STEPS): the centres at each log point are copied aside and come back in one read.
        const logged: number[] = [];
        for (let inSubmit = 0; inSubmit < MAX_STEPS_PER_SUBMIT && done < steps && (logged.length === 0 || inSubmit * data.rows < READ_EVERY_SAMPLE_STEPS); ) {
          const nextLog = Math.min(steps, (Math.floor(done / logEvery) + 1) * logEvery);
          const batch = Math.min(nextLog - done, MAX_STEPS_PER_SUBMIT - inSubmit);
          const pass = encoder.beginComputePass();
          for (let s = 0; s < batch; s++) encodeGdStep(pass, this.steps, res, this.resources.chunks, { tied: options.tied, project, noise });
          pass.end();
          done += batch;
          inSubmit += batch;
          if (done !== nextLog) continue;
          snapshots ??= createBuffer(this.core.device, centresBytes(res) * Math.min(MAX_STEPS_PER_SUBMIT, Math.ceil(steps / logEvery)), COPY_SRC | COPY_DST);
          encoder.copyBufferToBuffer(res.centres, 0, snapshots, logged.length * centresBytes(res), centresBytes(res));
          logged.push(done);
        }
        if (logged.length === 0) {
          this.core.device.queue.submit([encoder.finish()]);
          continue;
        }
        // The history slots of the steps since the last log point: [loss, gradNorm] each.
        const [ms, hist] = await this.read(encoder, [
          { buffer: snapshots!, bytes: centresBytes(res) * logged.length },
          { buffer: res.history, bytes: 8 * (done - lastLogged), offset: 8 * lastLogged },
        ]);
        const h = new Float32Array(hist);
        const first = lastLogged;
        for (const [i, at] of logged.entries()) {
          const badStep = firstNonFinite(h.subarray(2 * (lastLogged - first)), at - lastLogged);
          if (badStep >= 0) throw divergence(startStep + lastLogged + badStep, options.lr);
          const last = at - first - 1;
          lastLogged = at;
          const entry = { step: startStep + at - 1, loss: h[2 * last], gradNorm: h[2 * last + 1] };
          history.push(entry);
          current = unpad(new Float32Array(ms, i * centresBytes(res), centresBytes(res) / 4), rows, data.cols, res.shape.d4, 1 / a);
          if (current.data.some((v) => !Number.isFinite(v))) throw divergence(startStep + at - 1, options.lr);
          options.onProgress?.({ done: at, total: steps, centres: current, last: entry });
        }
      }
    } finally {
      noise?.forEach((b) => b.destroy());
      snapshots?.destroy();
    }
    return { centres: current, history, nIter: steps };
  }

  async emStep(data: DataInput, centres: Matrix): Promise<Matrix> {
    return (await this.core.run(() => this.emRun(this.dataOf(data), centres, 0, 0, 1))).centres;
  }

  async emSteps(data: DataInput, centres: Matrix, steps: number, student?: StudentParams): Promise<EmSteps> {
    requirePositiveInteger(steps, 'EM steps');
    if (!isPaperStudent(student)) {
      // The GPU's EM kernels learn the paper's student; a general student's M-step runs on the host in float64.
      const host = isDataset(data) ? (this.datasets.payload(data), this.hosted.get(data)!) : data;
      checkProblem(host, centres, false);
      checkStudent(student!, centres.rows, centres.cols);
      return studentEmSteps(host, centres, steps, student!);
    }
    return this.core.run(() => this.emRun(this.dataOf(data), centres, 0, 0, steps));
  }

  async gradientEmStep(data: DataInput, centres: Matrix, lr: number): Promise<Matrix> {
    checkStepSize(lr);
    return (await this.core.run(() => this.emRun(this.dataOf(data), centres, 1, lr, 1))).centres;
  }

  /**
   * `steps` EM (mode 0) or gradient-EM (mode 1) steps with the centres kept on the GPU between them, in float32 as a
   * read-back and upload per step would leave them: one read-back, with the centres before the last step.
   */
  private async emRun(data: Matrix | DataOnGpu, centres: Matrix, mode: 0 | 1, lr: number, steps: number): Promise<EmSteps> {
    const k = this.checkCentres(data, centres, false);
    await this.tune(k, data.cols);
    const res = this.resources.prepare(data, k, { a: 1, sigma: 1, noise: { kind: 'seed', seed: 0, mode: 'fixed' }, steps: 0 });
    this.resources.writeScaledCentres(res, centres, 1, false);
    this.resources.writeUpdate(res, { rows: data.rows, lr, apply: true, radius: 0, emMode: mode });
    let left = steps;
    for (; left > MAX_STEPS_PER_SUBMIT; left -= MAX_STEPS_PER_SUBMIT) {
      const encoder = this.core.device.createCommandEncoder();
      encodeEmSteps(encoder, this.steps, res, this.resources.chunks, MAX_STEPS_PER_SUBMIT);
      this.core.device.queue.submit([encoder.finish()]);
    }
    const encoder = this.core.device.createCommandEncoder();
    const bytes = centresBytes(res);
    const before = steps > 1 ? createBuffer(this.core.device, bytes, COPY_SRC | COPY_DST) : undefined;
    try {
      encodeEmSteps(encoder, this.steps, res, this.resources.chunks, left - 1);
      if (before) encoder.copyBufferToBuffer(res.centres, 0, before, 0, bytes);
      encodeEmSteps(encoder, this.steps, res, this.resources.chunks, 1);
      const read = await this.read(encoder, [{ buffer: res.centres, bytes }, ...(before ? [{ buffer: before, bytes }] : [])]);
      const unpadded = (b: ArrayBuffer) => unpad(new Float32Array(b), k, data.cols, res.shape.d4);
      // One step: the centres before it are the caller's own, in float64.
      return { centres: unpadded(read[0]!), previous: before ? unpadded(read[1]!) : centres };
    } finally {
      before?.destroy();
    }
  }

  private checkCentres(data: { readonly rows: number; readonly cols: number }, centres: Matrix, tied: boolean): number {
    return checkProblem(data, centres, tied);
  }

  /** The core's read-back; then the staging copies recorded before it have run. */
  private async read(encoder: GPUCommandEncoder, what: readonly ReadTarget[]): Promise<ArrayBuffer[]> {
    const out = await this.core.read(encoder, what);
    this.resources.releaseStaging();
    return out;
  }
}
