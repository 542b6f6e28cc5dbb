// The general student on the GPU (docs/math.md section 14): its DDPM loss and gradients and its GD steps, on the
// lane pass and update of host/train/student-step.ts. The centres, variances and weights stay on the GPU between
// steps; every log point reads back the centres, gamma, beta and the history since the last one.
import { DivergenceError, InputError } from '../errors.ts';
import { forwardCoefficients } from '../math/forward.ts';
import { matrix, type Matrix } from '../types.ts';
import type { DdpmKernel } from '../../host/core/kernel-kind.ts';
import { unpad } from '../../host/core/buffers.ts';
import type { ReadTarget } from '../../host/core/readback.ts';
import { firstNonFinite } from '../../host/train/gd-history.ts';
import { partialPlan } from '../../host/train/kernel-plan.ts';
import { passParams } from '../../host/train/programs.ts';
import { centresBytes, type DataChunk, type DataOnGpu, type GpuResources, type ShapeResources } from '../../host/train/resources.ts';
import type { StepContext } from '../../host/train/step-encoding.ts';
import { createStudentResources, destroyStudentResources, encodeStudentPrepare, encodeStudentStep, gammaBytes, type StudentResources, writeStudent } from '../../host/train/student-step.ts';
import type { DdpmOptions, GdOptions, GdResult, HistoryEntry, LossGradient } from './capability.ts';
import { checkGdOptions } from './checks.ts';
import { checkGeneralGd } from './cpu-student.ts';
import { seedKey } from '../math/philox.ts';
import { checkStudent, type StudentParams } from './student.ts';

/** Most GD steps recorded into one command buffer (as gpu.ts). */
const MAX_STEPS_PER_SUBMIT = 64;

/** What the student's runner needs of the training engine (src/training/gpu.ts). */
export interface StudentEngine {
  readonly device: GPUDevice;
  readonly resources: GpuResources;
  readonly steps: StepContext;
  /** The DDPM kernel the caller chose: the general student has a lane kernel only. */
  readonly kernelChoice: DdpmKernel;
  readonly read: (encoder: GPUCommandEncoder, what: readonly ReadTarget[]) => Promise<ArrayBuffer[]>;
}

/** The general student runs the lane kernel; 'auto' takes it on every adapter, a forced 'tiled' is refused by name. */
export function checkStudentKernel(choice: DdpmKernel): void {
  if (choice === 'tiled') {
    throw new InputError("the general student (--covariance spherical|diag or --weights learned) has a lane kernel only on the GPU: use kernel 'auto' or 'lanes', or the paper's student (--covariance identity --weights equal)");
  }
}

export class StudentOnGpu {
  private current: StudentResources | undefined;

  constructor(private readonly engine: StudentEngine) {}

  dispose(): void {
    if (this.current) destroyStudentResources(this.current);
    this.current = undefined;
  }

  async lossAndGradient(data: Matrix | DataOnGpu, centres: Matrix, options: DdpmOptions, k: number): Promise<LossGradient> {
    checkStudentKernel(this.engine.kernelChoice);
    checkGeneralGd({ tied: options.tied });
    const student = options.student!;
    checkStudent(student, k, data.cols);
    const { a } = forwardCoefficients(options.noiseScale);
    const { res, sr, chunks } = this.prepare(data, k, options, 0, 0);
    writeStudent(this.engine.device, sr, student, options.noiseScale, data.rows, 0, false);
    this.engine.resources.writeScaledCentres(res, centres, a, false);
    const noise = this.engine.resources.uploadNoise(options.noise, data);
    try {
      const encoder = this.engine.device.createCommandEncoder();
      this.engine.resources.resetStepState(encoder, res, options.noise.kind === 'seed' ? (options.noise.step ?? 0) : 0);
      const pass = encoder.beginComputePass();
      encodeStudentPrepare(pass, this.engine.steps, sr);
      encodeStudentStep(pass, this.engine.steps, sr, chunks, noise);
      pass.end();
      const [grad, hist, sg] = await this.engine.read(encoder, [
        { buffer: res.gradient, bytes: centresBytes(res) },
        { buffer: res.history, bytes: 8 },
        { buffer: sr.studentGradient, bytes: gammaBytes(k, sr.cols) + 4 * k },
      ]);
      const gradScaled = unpad(new Float32Array(grad!), k, data.cols, res.shape.d4);
      const gradCentres = matrix(k, data.cols, gradScaled.data.map((g) => a * g));
      const loss = new Float32Array(hist!)[0]!;
      if (!Number.isFinite(loss)) throw new InputError('The loss is not finite: check the data, centres, variances and noise for huge values.');
      const g = new Float32Array(sg!);
      const gamma = matrix(k, sr.cols, Float64Array.from(g.subarray(0, k * sr.cols)));
      const beta = Float64Array.from(g.subarray(k * sr.cols, k * sr.cols + k));
      return { loss, gradScaled, gradCentres, gradStudent: { gamma, beta } };
    } finally {
      noise?.forEach((b) => b.destroy());
    }
  }

  async gdSteps(data: Matrix | DataOnGpu, centres: Matrix, options: GdOptions, k: number): Promise<GdResult> {
    checkStudentKernel(this.engine.kernelChoice);
    checkGeneralGd(options);
    const student = options.student!;
    checkStudent(student, k, data.cols);
    const logEvery = checkGdOptions(options);
    const { a } = forwardCoefficients(options.noiseScale);
    const { steps, noise: spec } = options;
    const startStep = options.startStep ?? 0;
    const { res, sr, chunks } = this.prepare(data, k, options, steps, startStep);
    writeStudent(this.engine.device, sr, student, options.noiseScale, data.rows, options.lr, true, options.betaLr ?? options.lr);
    this.engine.resources.writeScaledCentres(res, centres, a, false);
    const noise = this.engine.resources.uploadNoise(spec, data);
    const history: HistoryEntry[] = [];
    let current = centres;
    let now = student;
    let done = 0;
    try {
      while (done < steps) {
        const encoder = this.engine.device.createCommandEncoder();
        if (done === 0) {
          const fixedStep = spec.kind === 'seed' && spec.mode === 'fixed' ? (spec.step ?? 0) : startStep;
          this.engine.resources.resetStepState(encoder, res, fixedStep);
        }
        const nextLog = Math.min(steps, (Math.floor(done / logEvery) + 1) * logEvery);
        // Up to MAX_STEPS_PER_SUBMIT steps per submission; a read at every log point.
        const batch = Math.min(nextLog - done, MAX_STEPS_PER_SUBMIT);
        const pass = encoder.beginComputePass();
        if (done === 0) encodeStudentPrepare(pass, this.engine.steps, sr);
        for (let s = 0; s < batch; s++) encodeStudentStep(pass, this.engine.steps, sr, chunks, noise);
        pass.end();
        const from = done;
        done += batch;
        if (done !== nextLog) {
          this.engine.device.queue.submit([encoder.finish()]);
          continue;
        }
        const [ms, gammaBuf, betaBuf, hist] = await this.engine.read(encoder, [
          { buffer: res.centres, bytes: centresBytes(res) },
          { buffer: sr.gamma, bytes: gammaBytes(k, sr.cols) },
          { buffer: sr.beta, bytes: 4 * k },
          { buffer: res.history, bytes: 8 * (done - logStart(from, logEvery)), offset: 8 * logStart(from, logEvery) },
        ]);
        const h = new Float32Array(hist!);
        const bad = firstNonFinite(h, done - logStart(from, logEvery));
        if (bad >= 0) throw divergence(startStep + logStart(from, logEvery) + bad, options.lr);
        const last = done - logStart(from, logEvery) - 1;
        const entry = { step: startStep + done - 1, loss: h[2 * last]!, gradNorm: h[2 * last + 1]! };
        history.push(entry);
        current = unpad(new Float32Array(ms!), k, data.cols, res.shape.d4, 1 / a);
        const gamma = matrix(k, sr.cols, Float64Array.from(new Float32Array(gammaBuf!).subarray(0, k * sr.cols)));
        now = { ...student, gamma, beta: Float64Array.from(new Float32Array(betaBuf!).subarray(0, k)) };
        if (![...current.data, ...gamma.data, ...now.beta].every(Number.isFinite)) throw divergence(startStep + done - 1, options.lr);
        options.onProgress?.({ done, total: steps, centres: current, last: entry, student: now });
      }
    } finally {
      noise?.forEach((b) => b.destroy());
    }
    return { centres: current, history, nIter: steps, student: now };
  }

  /** The shape's buffers (resources.prepare) and the student's beside them, rebuilt when either changes. */
  private prepare(data: Matrix | DataOnGpu, k: number, options: DdpmOptions, steps: number, startStep: number): { res: ShapeResources; sr: StudentResources; chunks: readonly DataChunk[] } {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const res = this.engine.resources.prepare(data, k, { a, sigma, noise: options.noise, steps, startStep });
    const chunks = this.engine.resources.chunks;
    const student = options.student!;
    const cols = student.gamma.cols;
    const old = this.current;
    const lanes = partialPlan(chunks, res.shape, 'lanes').chunkGroups;
    const same = old !== undefined && old.owner === res && old.chunkGroups.length === lanes.length && old.chunkGroups.every((g, i) => g === lanes[i]) && old.cols === cols && old.learnWeights === (student.weights === 'learned') && old.chunkUniforms.length === chunks.length;
    if (!same && old) destroyStudentResources(old);
    // The pass's uniforms: passParams as the DDPM pass's, with the lane plan's partial bases.
    const noise = options.noise;
    const [seedLo, seedHi] = noise.kind === 'seed' ? seedKey(noise.seed) : [0, 0];
    const fresh = noise.kind === 'seed' && noise.mode === 'fresh';
    const fixedStep = noise.kind === 'seed' ? (noise.step ?? (fresh ? startStep : 0)) : 0;
    const chunkParams = (c: DataChunk, partialBase: number) =>
      passParams.pack({ rows: c.rows, chunkBase: c.base, partialBase, seedLo, seedHi, fixedStep: fixedStep >>> 0, freshNoise: fresh ? 1 : 0, a, sigma, invSigma: 1 / sigma });
    const sr = same ? old : createStudentResources(this.engine.device, res, chunks, student, chunkParams);
    if (same) sr.chunkUniforms.forEach((u, i) => this.engine.device.queue.writeBuffer(u, 0, chunkParams(chunks[i]!, sr.partialBases[i]!)));
    this.current = sr;
    return { res, sr, chunks };
  }
}

/** The first step since the last log point before `from` (history slots are per step of the call). */
function logStart(from: number, logEvery: number): number {
  return Math.floor(from / logEvery) * logEvery;
}

function divergence(step: number, lr: number): DivergenceError {
  return new DivergenceError(step, `Training diverged at step ${step} (the loss, centres, variances or weights became NaN or infinite): use a smaller step size, for example --lr ${lr / 10}.`);
}
