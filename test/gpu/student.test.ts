// The general student on the GPU (docs/math.md section 14; shaders/student_lanes.wgsl, student_update.wgsl): its
// programs' bindings against the WGSL, the loss and the three gradients against the float64 pass within the derived
// bound of test/support/student-bounds.ts, GD steps continuing the same numbers, and the refusals.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { chunkRows, shapeFor } from '../../host/core/layout.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings } from '../../host/core/wgsl-bindings.ts';
import { partialPlan } from '../../host/train/kernel-plan.ts';
import { studentLanes, studentPrepare, studentUpdate } from '../../host/train/student-step.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { matrix } from '../../src/types.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { GAMMA_MIN, gammaMinFor, gammaOf, gammaStepScale, heavyFactor, initialStudent, logWeightsOf, VARIANCE_FLOOR, type Covariance, type StudentParams, type Weights } from '../../src/training/student.ts';
import { OP, U } from '../support/bounds.ts';
import { caseById, makeProblem, scaledCentres } from '../support/cases.ts';
import { worstRatio } from '../support/compare.ts';
import { studentBound } from '../support/student-bounds.ts';
import { degenerateData, emStart, samePartition, studentLabels } from '../support/degenerate-data.ts';

const cpu = new CpuBackend();
let gpu: GpuBackend;
let tiled: GpuBackend;

beforeAll(async () => {
  gpu = await createGpuBackend({});
  tiled = await createGpuBackend({ kernel: 'tiled' });
});
afterAll(() => [gpu, tiled].forEach((b) => b.dispose()));

/** A student with spread variances (c in [0.25, 4]) and weights (from Philox), so that every term of section 14 is exercised. */
function spreadStudent(covariance: Covariance, weights: Weights, k: number, d: number, seed: number): StudentParams {
  const s = initialStudent(covariance, weights, k, d);
  const u = noiseMatrix(seed, 3, k, Math.max(1, s.gamma.cols) + 1, STREAM_DATA_GENERATOR);
  for (let q = 0; q < s.gamma.data.length; q++) s.gamma.data[q] = gammaOf(Math.exp(Math.max(-1.4, Math.min(1.4, u.data[q + Math.floor(q / Math.max(1, s.gamma.cols))]!))));
  if (weights === 'learned') for (let i = 0; i < k; i++) s.beta[i] = 0.5 * u.data[i * (Math.max(1, s.gamma.cols) + 1) + Math.max(1, s.gamma.cols)]!;
  return s;
}

/** Lanes and partials of the student's pass over N rows (its lane plan, host/train/student-step.ts). */
function laneDepth(k: number, d: number, n: number): { lanes: number; partials: number } {
  const shape = shapeFor(k, d, gpu.device.limits);
  const plan = partialPlan(chunkRows(n, shape.rowsPerChunk), shape, 'lanes');
  return { lanes: plan.partialCount, partials: plan.partialCount };
}

const STUDENTS: readonly [Covariance, Weights][] = [['spherical', 'learned'], ['diag', 'equal'], ['diag', 'learned'], ['identity', 'learned']];
// d not a multiple of 4, N not a multiple of the lanes, K = 1, and the three noise scales.
const CASE_IDS = ['K3-d5-N1000-t0.05', 'K8-d3-N63-t3', 'K2-d16-N65-t3', 'K1-d3-N63-t0.05', 'K33-d16-N1000-t0.5'];

describe('the general student on the GPU agrees with the float64 pass', () => {
  for (const id of CASE_IDS) {
    for (const [covariance, weights] of STUDENTS) {
      it(`${covariance}, ${weights}: ${id}`, async () => {
        const c = caseById(id);
        const { data, centres, z } = makeProblem(c);
        const student = spreadStudent(covariance, weights, c.k, c.d, c.seed);
        const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix' as const, z }, student };
        const got = await gpu.lossAndGradient(data, centres, options);
        const ref = await cpu.lossAndGradient(data, centres, options);
        const { lanes, partials } = laneDepth(c.k, c.d, c.n);
        // The derived float32 bound (test/support/student-bounds.ts): per-sample first-order errors plus the
        // lane and reduction sums; first order needs every logit error far below 1.
        const bound = studentBound(data, scaledCentres(centres, c.t, false), student, c.t, z, lanes, partials);
        expect(bound.maxLogitError).toBeLessThan(1e-2);
        expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
        expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.gradM).ratio).toBeLessThanOrEqual(1);
        expect(worstRatio(got.gradStudent!.gamma.data, ref.gradStudent!.gamma.data, bound.gradGamma).ratio).toBeLessThanOrEqual(1);
        if (weights === 'learned') expect(worstRatio(got.gradStudent!.beta, ref.gradStudent!.beta, bound.gradBeta).ratio).toBeLessThanOrEqual(1);
        else expect(Array.from(got.gradStudent!.beta)).toEqual(new Array(c.k).fill(0));
      });
    }
  }
});

describe('GD steps of the general student on the GPU', () => {
  it('the first step evaluates what lossAndGradient evaluates, and moves m, gamma and beta as the float64 step does', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres, z } = makeProblem(c);
    const student = spreadStudent('diag', 'learned', c.k, c.d, c.seed);
    const lr = 0.05;
    const base = { noiseScale: c.t, tied: false, noise: { kind: 'matrix' as const, z }, student };
    const evaluated = await gpu.lossAndGradient(data, centres, base);
    const stepped = await gpu.gdSteps(data, centres, { ...base, steps: 1, lr });
    const ref = await cpu.gdSteps(data, centres, { ...base, steps: 1, lr });
    // Same kernel, same inputs: the same bits.
    expect(stepped.history[0]!.loss).toBe(evaluated.loss);
    const refGrad = await cpu.lossAndGradient(data, centres, base);
    const { lanes, partials } = laneDepth(c.k, c.d, c.n);
    const bound = studentBound(data, scaledCentres(centres, c.t, false), student, c.t, z, lanes, partials);
    // gamma' = gamma - eta f P g (docs/math.md section 14, 'The step'; no clamp at this eta): gamma (f32, u), eta f P
    // times the gradient's bound, and eta f P |g| times P's and f's relative errors: v and a^2 exp(gamma) carry
    // (6 + 5|gamma|) u + 3 OP each (student-bounds.ts), P g = v^3 / (n dv) dL/dv three times v's, once dv's and 4 OP; f =
    // 1 / (K exp(beta - lse)) the exp (6 + 4|y|) u of y = beta - lse, lse's K exps, sum and log (K (6 + 4|y|) u +
    // (K + 6) OP absolute, exp turns it relative), the division 5u; then the products and the subtraction (4 OP).
    const { a, sigma } = forwardCoefficients(c.t);
    const logPi = logWeightsOf(student.beta);
    const cols = student.gamma.cols;
    const gammaBound = student.gamma.data.map((g, q) => {
      const i = cols === 1 ? q : Math.floor(q / c.d);
      const v = a * a * (VARIANCE_FLOOR + Math.exp(g)) + sigma * sigma;
      const scale = lr * heavyFactor(logPi[i]!, c.k) * gammaStepScale(v, a * a, Math.exp(g), cols === 1 ? c.d : 1);
      const eV = (6 + 5 * Math.abs(g)) * U + 3 * OP;
      const maxY = Math.max(...logPi.map(Math.abs));
      const eF = heavyFactor(logPi[i]!, c.k) < 1 ? (6 + 4 * maxY) * U + c.k * (6 + 4 * maxY) * U + (c.k + 6) * OP + 5 * U : 0;
      const eP = 4 * eV + 4 * OP + eF;
      const step = scale * Math.abs(refGrad.gradStudent!.gamma.data[q]!);
      return U * Math.abs(g) + scale * bound.gradGamma[q]! + eP * step + 4 * OP * (Math.abs(g) + step);
    });
    expect(worstRatio(stepped.student!.gamma.data, ref.student!.gamma.data, gammaBound).ratio).toBeLessThanOrEqual(1);
    const betaBound = student.beta.map((b, q) => U * Math.abs(b) + lr * bound.gradBeta[q]! + 2 * OP * (Math.abs(b) + lr * Math.abs(refGrad.gradStudent!.beta[q]!)));
    expect(worstRatio(stepped.student!.beta, ref.student!.beta, betaBound).ratio).toBeLessThanOrEqual(1);
  });

  it('a run split at its log points equals one call, and fresh noise gives finite parameters', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const student = initialStudent('spherical', 'learned', c.k, c.d);
    const base = { noiseScale: 0.3, tied: false, noise: { kind: 'seed' as const, seed: 5, mode: 'fresh' as const }, student, lr: 0.05 };
    const whole = await gpu.gdSteps(data, centres, { ...base, steps: 10, logEvery: 5 });
    const first = await gpu.gdSteps(data, centres, { ...base, steps: 5, logEvery: 5 });
    const second = await gpu.gdSteps(data, first.centres, { ...base, student: first.student!, steps: 5, logEvery: 5, startStep: 5 });
    expect(whole.history.map((h) => h.loss)).toEqual([...first.history, ...second.history].map((h) => h.loss));
    expect(Array.from(whole.student!.gamma.data)).toEqual(Array.from(second.student!.gamma.data));
    expect(Array.from(whole.centres.data)).toEqual(Array.from(second.centres.data));
  });
});

describe('the general student on the GPU at its floors', () => {
  it('a variance at the floor stays there for 100 steps in float32: gamma stops at GAMMA_MIN, nothing turns NaN', async () => {
    const { X, labels } = degenerateData(900);
    for (const covariance of ['spherical', 'diag'] as const) {
      // The CPU test's start (test/cpu/student-training.test.ts): in float32 exp of an unbounded gamma underflows at
      // once, and its inverse curvature times a zero gradient is NaN.
      const start = emStart(X, labels, covariance, 3);
      const out = await gpu.gdSteps(X, start.centres, {
        noiseScale: 0.2, tied: false, lr: 0.75, steps: 100, logEvery: 100, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, student: start.student,
      });
      expect([...out.centres.data, ...out.student!.gamma.data, ...out.student!.beta].every(Number.isFinite)).toBe(true);
      // GAMMA_MIN rounded to float32 may sit a half ulp below the float64 constant.
      expect(Math.min(...out.student!.gamma.data)).toBeGreaterThanOrEqual(Math.fround(GAMMA_MIN) - Math.abs(GAMMA_MIN) * 2 ** -24);
      expect(samePartition(studentLabels(X, out.centres, out.student!), labels)).toBe(true);
    }
  });
});

describe("the general student on the GPU at a fit's variance floor", () => {
  it('a floor of 0.01 holds in float32 for 100 steps, as on the CPU', async () => {
    const { X, labels } = degenerateData(900);
    const gammaMin = gammaMinFor(0.01);
    const start = emStart(X, labels, 'diag', 3, gammaMin);
    const out = await gpu.gdSteps(X, start.centres, {
      noiseScale: 0.2, tied: false, lr: 0.75, steps: 100, logEvery: 100, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, student: start.student,
    });
    expect(out.student!.gammaMin).toBe(gammaMin);
    // The bound is applied in float32: gammaMin rounded to float32 is within half an ulp (2^-24 relative) of it.
    expect(Math.min(...out.student!.gamma.data)).toBeGreaterThanOrEqual(Math.fround(gammaMin) - Math.abs(gammaMin) * 2 ** -24);
    expect(Math.abs(out.student!.gamma.data[2]! - gammaMin)).toBeLessThanOrEqual(Math.abs(gammaMin) * 2 ** -24);
    expect(samePartition(studentLabels(X, out.centres, out.student!), labels)).toBe(true);
  });
});

describe('refusals', () => {
  const c = caseById('K3-d5-N1000-t0.05');
  const { data, centres } = makeProblem(c);
  const student = initialStudent('diag', 'learned', c.k, c.d);
  const options = { noiseScale: 0.3, tied: false, noise: { kind: 'seed' as const, seed: 1, mode: 'fixed' as const }, student };
  it("a forced tiled kernel names the lane kernel ('auto' takes it)", async () => {
    await expect(tiled.lossAndGradient(data, centres, options)).rejects.toThrow(/lane kernel only.*'auto' or 'lanes'/);
    await expect(tiled.gdSteps(data, centres, { ...options, steps: 2, lr: 0.1 })).rejects.toThrow(InputError);
  });
  it('the tied K = 2 student is refused by name', async () => {
    await expect(gpu.gdSteps(data, matrix(1, c.d, centres.data.slice(0, c.d)), { ...options, student: initialStudent('diag', 'learned', 2, c.d), tied: true, steps: 2, lr: 0.1 })).rejects.toThrow(/tied K = 2 student/);
  });
  it("EM with a general student runs on the host in float64: the CPU reference's bits, from a matrix or a handle", async () => {
    const want = await cpu.emSteps(data, centres, 3, student);
    const handle = gpu.dataset(data);
    for (const input of [data, handle]) {
      const got = await gpu.emSteps(input, centres, 3, student);
      expect(Array.from(got.centres.data)).toEqual(Array.from(want.centres.data));
      expect(Array.from(got.previous.data)).toEqual(Array.from(want.previous.data));
      expect(Array.from(got.student!.gamma.data)).toEqual(Array.from(want.student!.gamma.data));
    }
    handle.dispose();
    await expect(gpu.emSteps(handle, centres, 1, student)).rejects.toThrow(/disposed/);
    // The estimator's default EM (diag, learned weights) on the GPU backend: the CPU's fit, bit for bit.
    const [onGpu, onCpu] = [new DdpmGmm({ nComponents: c.k, method: 'em', backend: gpu }), new DdpmGmm({ nComponents: c.k, method: 'em', backend: cpu })];
    await onGpu.fit(data);
    await onCpu.fit(data);
    expect(Array.from(onGpu.means!.data)).toEqual(Array.from(onCpu.means!.data));
    expect(Array.from(onGpu.variancesAndWeights!.weights)).toEqual(Array.from(onCpu.variancesAndWeights!.weights));
  });
});

describe('bindings by name, checked against the WGSL', () => {
  const dir = new URL('../../shaders/', import.meta.url);
  const sources = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.wgsl')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
  const limits = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxComputeWorkgroupsPerDimension: 65535 };
  const shape = shapeFor(3, 5, limits);
  it('the pass, the update and the prepare entry', () => {
    for (const explicitNoise of [false, true]) {
      const spec = studentLanes.specialise({ shape, explicitNoise });
      checkBindings(studentLanes, spec.flags, specialiseFiles(studentLanes.files, sources, spec));
    }
    for (const cols of [0, 1, 5]) for (const learnWeights of [false, true]) {
      for (const program of [studentUpdate, studentPrepare]) {
        const spec = program.specialise({ shape, cols, learnWeights });
        checkBindings(program, spec.flags, specialiseFiles(program.files, sources, spec));
      }
    }
  });
});
