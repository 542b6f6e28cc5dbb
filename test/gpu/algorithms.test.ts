// The algorithms on the GPU engine against the float64 CPU reference (docs/math.md sections 6 and 9): EM and
// gradient-EM steps, 50-step GD trajectories (explicit and fresh seeded noise), projection, chunked data,
// 2-D dispatch folding, determinism, far-away points, divergence and input validation. Tolerances are derived
// in test/support/bounds.ts and gd-propagation.ts (per-step bounds from the WGSL accuracy rules, propagated along the trajectory).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { ddpmLossGradPerSample, emStep, gradientEmStep, noisyPoints, responsibilities } from '../../src/training/cpu-reference.ts';
import { DivergenceError, InputError } from '../../src/errors.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix } from '../../src/math/philox.ts';
import { type GdProgress } from '../../src/training/capability.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { emBound, gradientBound, responsibilitiesBound, U } from '../support/bounds.ts';
import { caseById, makeProblem, scaledCentres } from '../support/cases.ts';
import { frobenius, worstRatio } from '../support/compare.ts';
import { propagateGd } from '../support/gd-propagation.ts';
import { noiseBound } from '../support/noise-bounds.ts';
import { summationDepth } from '../support/summation-depth.ts';
import { noiseProbe, responsibilitiesProbe } from './probes.ts';

let gpu: GpuBackend;
const cpu = new CpuBackend();
const report: string[] = [];

beforeAll(async () => {
  gpu = await createGpuBackend();
});

afterAll(() => {
  gpu?.dispose();
  for (const line of report) console.log(line);
});

/** Unscaled centres mu -> the rows the GPU stores (tied: m only), flattened. */
function flatScaled(centres: Matrix, t: number): Float64Array {
  const { a } = forwardCoefficients(t);
  return centres.data.map((v) => a * v);
}

describe('EM and gradient-EM steps (docs/math.md section 9)', () => {
  for (const id of ['K3-d5-N1000-t0.05', 'K8-d16-N1000-t0.05', 'K33-d3-N64-t0.05']) {
    it(`${id}: one EM step and one gradient-EM step match the reference within the derived bound`, async () => {
      const c = caseById(id);
      const { data, centres } = makeProblem(c);
      const depth = summationDepth(gpu, c.k, c.d, c.n, 'em');
      const got = await gpu.emStep(data, centres);
      const ref = emStep(data, centres);
      // |mu'_gpu - mu'| <= (dS + |mu'| dn) / n + 5u |mu'|: S and n from softmaxWithError at the clean data plus
      // 2u (L1 + P) of summation, then one division (2.5 ULP) -- test/support/bounds.ts emBound.
      const em = emBound(data, centres, depth, 'em');
      // The bound is evaluated along the float64 EM step itself (two float64 evaluation orders agree to ~1e-15).
      expect(worstRatio(em.next.data, ref.data, ref.data.map((v) => 1e-12 * (1 + Math.abs(v)))).ratio).toBeLessThanOrEqual(1);
      const r1 = worstRatio(got.data, ref.data, em.bound.data);
      expect(r1.ratio).toBeLessThanOrEqual(1);

      const lr = 0.5;
      const gotG = await gpu.gradientEmStep(data, centres, lr);
      const refG = gradientEmStep(data, centres, lr);
      // mu + lr (1/N)(S - n mu): the errors of S and n, and the roundings of the update (test/support/bounds.ts emBound).
      const gem = emBound(data, centres, depth, 'gradient', lr);
      const r2 = worstRatio(gotG.data, refG.data, gem.bound.data);
      expect(r2.ratio).toBeLessThanOrEqual(1);
      // Both steps move the centres by far more than the bounds, so the comparisons are not empty.
      expect(frobenius(ref.data.map((v, i) => v - centres.data[i]!))).toBeGreaterThan(1e3 * Math.max(...em.bound.data));
      expect(frobenius(refG.data.map((v, i) => v - centres.data[i]!))).toBeGreaterThan(1e3 * Math.max(...gem.bound.data));
      report.push(`EM ${id}: max |d|/bound = ${r1.ratio.toExponential(2)}; gradient EM: ${r2.ratio.toExponential(2)}`);
    });
  }
});

describe('several EM steps in one call (Backend.emSteps)', () => {
  const bits = (m: Matrix) => Array.from(m.data);

  it('gives the bits of as many emStep calls, and the centres before the last step, on both backends', async () => {
    const c = caseById('K8-d16-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    // 67 steps pass MAX_STEPS_PER_SUBMIT (64) in host/engine.ts, so two submissions come before the read-back.
    for (const backend of [gpu, cpu]) {
      const handle = backend.dataset(data);
      try {
        for (const steps of [1, 3, 67]) {
          const oneCall = await backend.emSteps(handle, centres, steps);
          let [previous, current] = [centres, centres];
          for (let s = 0; s < steps; s++) [previous, current] = [current, await backend.emStep(handle, current)];
          expect(bits(oneCall.centres)).toEqual(bits(current));
          expect(bits(oneCall.previous)).toEqual(bits(previous));
        }
      } finally {
        handle.dispose();
      }
    }
  });

  it('refuses a step count that is not a positive integer', async () => {
    const { data, centres } = makeProblem(caseById('K8-d16-N1000-t0.05'));
    for (const backend of [gpu, cpu]) {
      await expect(backend.emSteps(data, centres, 0)).rejects.toThrow(/EM steps must be a positive integer, got 0/);
      await expect(backend.emSteps(data, centres, 2.5)).rejects.toThrow(InputError);
    }
  });
});

describe('50-step GD trajectories (docs/math.md section 6, Algorithm 1)', () => {
  const c = caseById('K3-d5-N1000-t0.05');
  const { data, centres, z } = makeProblem(c);
  const steps = 50;
  const lr = 0.05;
  const logEvery = 10;

  /** Runs the GPU and CPU trajectories and checks every logged GPU iterate against the propagated bound. */
  async function checkTrajectory(
    label: string,
    noise: { kind: 'matrix'; z: Matrix } | { kind: 'seed'; seed: number; mode: 'fresh' },
    zAt: (step: number) => Matrix,
    zErrorAt: (step: number) => Float64Array | undefined,
    teeth: number,
  ): Promise<void> {
    const { a } = forwardCoefficients(c.t);
    const depth = summationDepth(gpu, c.k, c.d, c.n);
    const logged: GdProgress[] = [];
    const options = { noiseScale: c.t, tied: false, noise, steps, lr, logEvery };
    const got = await gpu.gdSteps(data, centres, { ...options, onProgress: (p) => logged.push(p) });
    const ref = await cpu.gdSteps(data, centres, options);
    const toMatrix = (m: Float64Array): Matrix => matrix(c.k, c.d, m);
    // b_{s+1} = |J_s| b_s + lr gradBound_s + 3u lr |g_s| + 2u |m_{s+1}| along the float64 trajectory, J_s = I - lr H_s
    // measured by central differences (test/support/gd-propagation.ts propagateGd); gradBound_s = gradientBound (c u A per entry),
    // with the GPU's noise allowed to differ from the CPU's by the WGSL transcendental bound for fresh noise.
    const prop = propagateGd({
      m0: flatScaled(centres, c.t),
      rows: c.k,
      steps,
      lr,
      gradient: (m, s) => ddpmLossGradPerSample(data, toMatrix(m), c.t, zAt(s)).grad.data,
      gradientBound: (m, s) => gradientBound(data, toMatrix(m), c.t, zAt(s), depth, false, zErrorAt(s)).grad,
    });
    // The propagation's own float64 trajectory is the CPU backend's (two float64 evaluation orders: ~1e-13).
    const final = prop.iterates[steps]!.map((v) => v / a);
    expect(worstRatio(final, ref.centres.data, ref.centres.data.map((v) => 1e-9 * (1 + Math.abs(v)))).ratio).toBeLessThanOrEqual(1);
    expect(logged.map((p) => p.done)).toEqual([10, 20, 30, 40, 50]);
    let worst = 0;
    for (const p of logged) {
      // Unscaled: |mu_gpu - mu_ref| <= b_s / a_t (+ 1e-9 relative for the float64 reference paths, see above).
      const bound = prop.bounds[p.done]!.map((b, i) => b / a + 1e-9 * (1 + Math.abs(prop.iterates[p.done]![i]! / a)));
      const reference = prop.iterates[p.done]!.map((v) => v / a);
      const r = worstRatio(p.centres.data, reference, bound);
      expect(r.ratio, `${label}: step ${p.done}, entry ${r.index}`).toBeLessThanOrEqual(1);
      worst = Math.max(worst, r.ratio);
    }
    const moved = frobenius(ref.centres.data.map((v, i) => v - centres.data[i]!));
    const finalBound = frobenius(prop.bounds[steps]!) / a;
    const observed = frobenius(got.centres.data.map((v, i) => v - ref.centres.data[i]!));
    // The trajectory moves farther than the bound (by `teeth`): the comparison has teeth.
    expect(moved).toBeGreaterThan(teeth * finalBound);
    report.push(`GD ${label}: moved ${moved.toExponential(2)}, final ||mu_gpu - mu_cpu|| = ${observed.toExponential(2)}, ` +
      `propagated bound ${finalBound.toExponential(2)}, worst entry ratio ${worst.toExponential(2)}`);
  }

  it('explicit noise (the same Z every step): every logged iterate within the propagated bound', async () => {
    await checkTrajectory('explicit Z', { kind: 'matrix', z }, () => z, () => undefined, 100);
  });

  const seed = 77;
  const cpuNoise = new Map<number, Matrix>();
  const zAt = (s: number): Matrix => {
    if (!cpuNoise.has(s)) cpuNoise.set(s, noiseMatrix(seed, s, c.n, c.d));
    return cpuNoise.get(s)!;
  };

  it('fresh seeded noise: the GPU noise allowed to differ by its derived bound (normalBound), propagated', async () => {
    const errs = new Map<number, Float64Array>();
    // Per entry |z_gpu - z_cpu| <= normalBound (gpu-philox.test.ts), fed into the per-sample analysis as an input
    // error: the float32 rounding of log, sqrt and the engine's own cosSin (a few ulp of |r| per entry).
    const zErrorAt = (s: number): Float64Array => {
      if (!errs.has(s)) errs.set(s, noiseBound(seed, s, c.n, c.d));
      return errs.get(s)!;
    };
    await checkTrajectory('fresh noise, derived bound on z', { kind: 'seed', seed, mode: 'fresh' }, zAt, zErrorAt, 2);
  });

  it("fresh seeded noise: with this device's noise difference measured (noiseProbe each step), propagated", async () => {
    // The fused pass draws the same z as the probe (the same WGSL function), so |z_gpu - z_cpu| is known exactly
    // per entry and step: the propagated bound then isolates the engine's own rounding.
    const errs: Float64Array[] = [];
    for (let s = 0; s < steps; s++) {
      const zg = await noiseProbe(gpu, data, seed, s);
      const zc = zAt(s);
      errs.push(zg.data.map((v, i) => Math.abs(v - zc.data[i]!)));
    }
    await checkTrajectory('fresh noise, measured z difference', { kind: 'seed', seed, mode: 'fresh' }, zAt, (s) => errs[s], 20);
  });

  it('projection keeps every centre within a_t R (reported unscaled: within R) and follows the projected reference', async () => {
    const tc = caseById('K2tied-d5-N64-t0.5');
    const p = makeProblem(tc);
    const { a } = forwardCoefficients(tc.t);
    const R = 0.5;
    const start = matrix(1, tc.d, Float64Array.from([0.3, 0.1, -0.2, 0.1, 0]));
    const options = { noiseScale: tc.t, tied: true, noise: { kind: 'matrix', z: p.z } as const, steps: 30, lr: 0.1, logEvery: 1 };
    const free = await gpu.gdSteps(p.data, start, options);
    // Without projection the centre grows past R (the truth has norm ~3), so the projected run has something to clip.
    expect(frobenius(free.centres.data)).toBeGreaterThan(2 * R);
    const norms: number[] = [];
    const logged: GdProgress[] = [];
    const projected = await gpu.gdSteps(p.data, start, {
      ...options,
      projectRadius: R,
      onProgress: (q) => {
        norms.push(frobenius(q.centres.data));
        logged.push(q);
      },
    });
    // GPU: norm (d terms, 2d u, halved by sqrt) + sqrt 9u + radius/norm 5u (radius rounded u) + product 2u:
    // (d + 17) u on a_t R; read back as f32 and divided by a_t in float64: + u.
    const limit = R * (1 + (tc.d + 18) * U);
    expect(norms).toHaveLength(30);
    for (const n of norms) expect(n).toBeLessThanOrEqual(limit);
    // Against the float64 projected trajectory: the propagated bound with the projection's Jacobian (test/support/gd-propagation.ts).
    const depth = summationDepth(gpu, 2, tc.d, tc.n);
    const prop = propagateGd({
      m0: flatScaled(start, tc.t),
      rows: 1,
      steps: 30,
      lr: 0.1,
      projectRadius: a * R,
      gradient: (m) => cpuTiedGradient(p.data, m, tc.t, p.z),
      gradientBound: (m) => gradientBound(p.data, scaledCentres(matrix(1, tc.d, m.map((v) => v / a)), tc.t, true), tc.t, p.z, depth, true).grad,
    });
    const ref = await cpu.gdSteps(p.data, start, { ...options, projectRadius: R });
    // The float64 run ends on the sphere (its last step was projected), so the GPU's last iterate is on it too:
    // ||mu|| >= R (1 - (d + 18) u), the same rounding as the upper limit.
    expect(Math.abs(frobenius(ref.centres.data) - R)).toBeLessThanOrEqual(1e-12);
    expect(frobenius(projected.centres.data)).toBeGreaterThanOrEqual(R * (1 - (tc.d + 18) * U));
    for (const q of logged) {
      const reference = prop.iterates[q.done]!.map((v) => v / a);
      const bound = prop.bounds[q.done]!.map((b, i) => b / a + 1e-9 * (1 + Math.abs(reference[i]!)));
      expect(worstRatio(q.centres.data, reference, bound).ratio).toBeLessThanOrEqual(1);
    }
    expect(worstRatio(prop.iterates[30]!.map((v) => v / a), ref.centres.data, ref.centres.data.map(() => 1e-9)).ratio).toBeLessThanOrEqual(1);
  });
});

/** The float64 tied gradient dL/dm (1 x d) at scaled m (docs/math.md section 5, tied). */
function cpuTiedGradient(x0: Matrix, m: Float64Array, t: number, z: Matrix): Float64Array {
  const d = x0.cols;
  const both = matrix(2, d);
  for (let i = 0; i < d; i++) {
    both.data[i] = m[i]!;
    both.data[d + i] = -m[i]!;
  }
  const g = ddpmLossGradPerSample(x0, both, t, z).grad.data;
  return Float64Array.from({ length: d }, (_, i) => g[i]! - g[d + i]!);
}

describe('data split over several storage bindings (maxChunkRows)', () => {
  let chunked: GpuBackend;
  beforeAll(async () => {
    chunked = await createGpuBackend({ maxChunkRows: 100 });
  });
  afterAll(() => chunked?.dispose());

  it('N = 1000 in 10 chunks gives the unchunked gradient and the CPU gradient within the derived bounds', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres, z } = makeProblem(c);
    const m = scaledCentres(centres, c.t, false);
    const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } } as const;
    const depthChunked = summationDepth(chunked, c.k, c.d, c.n);
    expect(depthChunked.partials).toBeGreaterThanOrEqual(10); // one partial per chunk at least: the split happened
    const bChunked = gradientBound(data, m, c.t, z, depthChunked, false);
    const bFull = gradientBound(data, m, c.t, z, summationDepth(gpu, c.k, c.d, c.n), false);
    const a = await chunked.lossAndGradient(data, centres, options);
    const b = await gpu.lossAndGradient(data, centres, options);
    const ref = await cpu.lossAndGradient(data, centres, options);
    // Each is within its own bound of the float64 value; so they are within the sum of the bounds of each other.
    expect(worstRatio(a.gradScaled.data, ref.gradScaled.data, bChunked.grad).ratio).toBeLessThanOrEqual(1);
    expect(worstRatio(a.gradScaled.data, b.gradScaled.data, bChunked.grad.map((v, i) => v + bFull.grad[i]!)).ratio).toBeLessThanOrEqual(1);
    expect(Math.abs(a.loss - ref.loss)).toBeLessThanOrEqual(bChunked.loss);
  });

  it('seeded noise continues across chunks (the counter uses the global row: chunkBase + row)', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const seed = 5;
    const z = await noiseProbe(gpu, data, seed, 2); // single-binding probe: the reference noise
    const got = await chunked.lossAndGradient(data, centres, { noiseScale: c.t, tied: false, noise: { kind: 'seed', seed, mode: 'fixed', step: 2 } });
    const ref = await cpu.lossAndGradient(data, centres, { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } });
    const bound = gradientBound(data, scaledCentres(centres, c.t, false), c.t, z, summationDepth(chunked, c.k, c.d, c.n), false);
    expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad).ratio).toBeLessThanOrEqual(1);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
  });

  it('the EM step over chunks matches the reference within the derived bound', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const got = await chunked.emStep(data, centres);
    const em = emBound(data, centres, summationDepth(chunked, c.k, c.d, c.n, 'em'), 'em');
    expect(worstRatio(got.data, emStep(data, centres).data, em.bound.data).ratio).toBeLessThanOrEqual(1);
  });
});

describe('2-D dispatch folding', () => {
  it('foldWorkgroups keeps small counts 1-D and folds larger ones into a grid that covers them', () => {
    expect(foldWorkgroups(1, 65535)).toEqual([1, 1]);
    expect(foldWorkgroups(65535, 65535)).toEqual([65535, 1]);
    expect(foldWorkgroups(65536, 65535)).toEqual([32768, 2]);
    expect(foldWorkgroups(10, 4)).toEqual([4, 3]);
    for (const [count, max] of [[5, 4], [16, 4], [17, 5], [1_000_003, 65535], [65535 * 65535, 65535]] as const) {
      const [x, y] = foldWorkgroups(count, max);
      expect(x).toBeLessThanOrEqual(max);
      expect(y).toBeLessThanOrEqual(max);
      expect(x * y).toBeGreaterThanOrEqual(count);
      // No wasted row: one row fewer would not cover the count.
      expect(x * (y - 1)).toBeLessThan(count);
    }
  });

  it('foldWorkgroups rejects counts beyond max x max and non-positive or fractional counts', () => {
    expect(() => foldWorkgroups(17, 4)).toThrow(RangeError);
    expect(() => foldWorkgroups(0, 4)).toThrow(RangeError);
    expect(() => foldWorkgroups(2.5, 4)).toThrow(RangeError);
  });

  it('responsibilitiesProbe folded (maxPerDimension 4) equals the unfolded result exactly, and the CPU within the bound', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const full = makeProblem(c);
    const n = 300; // 10 tiles of 32: folded to a 4 x 3 grid with 2 idle workgroups
    const data = matrix(n, c.d, full.data.data.slice(0, n * c.d));
    const z = matrix(n, c.d, full.z.data.slice(0, n * c.d));
    const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } } as const;
    const tiles = Math.ceil(n / summationDepth(gpu, c.k, c.d, n).tile);
    expect(tiles).toBeGreaterThan(4);
    const folded = await responsibilitiesProbe(gpu, data, full.centres, options, 4);
    const unfolded = await responsibilitiesProbe(gpu, data, full.centres, options);
    expect(Array.from(folded.data)).toEqual(Array.from(unfolded.data));
    const m = scaledCentres(full.centres, c.t, false);
    const ref = responsibilities(noisyPoints(data, c.t, z), m);
    // |w_gpu - w| <= w ((1 - w_j) dl_j + sum_{i != j} w_i dl_i) + softmax rounding (test/support/bounds.ts softmaxWithError).
    const { w, bound } = responsibilitiesBound(data, m, c.t, z);
    // The bound's own float64 softmax is the reference's up to float64 rounding (1e-12 is 4e3 eps).
    expect(worstRatio(w.data, ref.data, ref.data.map(() => 1e-12)).ratio).toBeLessThanOrEqual(1);
    expect(worstRatio(folded.data, ref.data, bound.data).ratio).toBeLessThanOrEqual(1);
  });
});

describe('determinism and extreme inputs', () => {
  it('the same seed twice gives bit-identical loss, gradient and trajectory', async () => {
    const c = caseById('K8-d16-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const options = { noiseScale: c.t, tied: false, noise: { kind: 'seed', seed: 3, mode: 'fresh' } } as const;
    const first = await gpu.lossAndGradient(data, centres, options);
    const second = await gpu.lossAndGradient(data, centres, options);
    expect(second.loss).toBe(first.loss);
    expect(Array.from(second.gradScaled.data)).toEqual(Array.from(first.gradScaled.data));
    const run = (): Promise<Float64Array> => gpu.gdSteps(data, centres, { ...options, steps: 5, lr: 0.05 }).then((r) => r.centres.data);
    expect(Array.from(await run())).toEqual(Array.from(await run()));
  });

  it('data edited in place after a call are uploaded again (the cache checks the contents, not only the object)', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const z = noiseMatrix(17, 0, c.n, c.d);
    const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } } as const;
    const before = await gpu.lossAndGradient(data, centres, options);
    data.data[7] += 100;
    const after = await gpu.lossAndGradient(data, centres, options);
    const reference = ddpmLossGradPerSample(data, scaledCentres(centres, c.t, false), c.t, z);
    const bound = gradientBound(data, scaledCentres(centres, c.t, false), c.t, z, summationDepth(gpu, c.k, c.d, c.n), false);
    // One coordinate moved by 100 changes the loss by far more than its float32 error bound: stale data would fail.
    expect(Math.abs(after.loss - before.loss)).toBeGreaterThan(100 * bound.loss);
    expect(Math.abs(after.loss - reference.loss)).toBeLessThanOrEqual(bound.loss);
  });

  it('far-away points (distance ~140, logits -||x - m||^2 / 2 near -1e4) give a finite loss and gradient within the bound', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const p = makeProblem(c);
    const { a } = forwardCoefficients(c.t);
    const shift = 140 / a / Math.sqrt(c.d); // x_t = a x0 + sigma z moves by 140 / sqrt(d) per coordinate
    const data = matrix(c.n, c.d, p.data.data.map((v) => v + shift));
    const m = scaledCentres(p.centres, c.t, false);
    const xt = noisyPoints(data, c.t, p.z);
    let nearest = Infinity;
    for (let n = 0; n < c.n; n++) {
      for (let j = 0; j < c.k; j++) {
        let s = 0;
        for (let i = 0; i < c.d; i++) s += (xt.data[n * c.d + i]! - m.data[j * c.d + i]!) ** 2;
        nearest = Math.min(nearest, s / 2);
      }
    }
    expect(nearest).toBeGreaterThan(5e3); // the setup is what the test claims
    const options = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z: p.z } } as const;
    const got = await gpu.lossAndGradient(data, p.centres, options);
    const ref = await cpu.lossAndGradient(data, p.centres, options);
    expect(Number.isFinite(got.loss)).toBe(true);
    expect(got.gradScaled.data.every(Number.isFinite)).toBe(true);
    // The same derivation as the table (test/support/bounds.ts gradientBound): the larger logits enter through dl.
    const bound = gradientBound(data, m, c.t, p.z, summationDepth(gpu, c.k, c.d, c.n), false);
    expect(bound.maxRelative).toBeLessThanOrEqual(1e-2);
    expect(bound.maxLogitError).toBeLessThanOrEqual(1e-2);
    const r = worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad);
    expect(r.ratio).toBeLessThanOrEqual(1);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
    report.push(`far-away: loss ${ref.loss.toExponential(3)}, max |dg|/bound ${r.ratio.toExponential(2)}, max c ${(bound.sumFactor + bound.maxSampleFactor).toFixed(0)}, max logit error ${bound.maxLogitError.toExponential(2)}`);
  });

  it('a huge step size throws a DivergenceError naming a step inside the run', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const run = gpu.gdSteps(data, centres, {
      noiseScale: c.t,
      tied: false,
      noise: { kind: 'seed', seed: 1, mode: 'fresh' },
      steps: 200,
      lr: 1e6,
    });
    const error: unknown = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    const step = (error as DivergenceError).step;
    expect((error as DivergenceError).message).toMatch(new RegExp(`diverged at step ${step} .*smaller step size, for example --lr 100000`));
    expect(step).toBeGreaterThanOrEqual(0);
    expect(step).toBeLessThan(200);
    // The CPU backend diverges too on the same problem (the case really diverges, in float64 as well).
    await expect(cpu.gdSteps(data, centres, { noiseScale: c.t, tied: false, noise: { kind: 'seed', seed: 1, mode: 'fresh' }, steps: 200, lr: 1e6 })).rejects.toThrow(DivergenceError);
  });
});

describe('bad inputs throw an InputError that names the problem', () => {
  const c = caseById('K3-d5-N1000-t0.05');
  const { data, centres, z } = makeProblem(c);
  const ok = { noiseScale: c.t, tied: false, noise: { kind: 'matrix', z } } as const;

  it('centres of a different dimension', async () => {
    const wrong = matrix(3, 4);
    await expect(gpu.lossAndGradient(data, wrong, ok)).rejects.toThrow(InputError);
    await expect(gpu.lossAndGradient(data, wrong, ok)).rejects.toThrow(/centres have 4 columns but the data has 5/);
    await expect(gpu.emStep(data, wrong)).rejects.toThrow(/centres have 4 columns but the data has 5/);
  });

  it('noise of the wrong shape', async () => {
    const bad = { ...ok, noise: { kind: 'matrix', z: matrix(999, 5) } } as const;
    await expect(gpu.lossAndGradient(data, centres, bad)).rejects.toThrow(InputError);
    await expect(gpu.lossAndGradient(data, centres, bad)).rejects.toThrow(/noise matrix is 999 x 5 but the data are 1000 x 5/);
  });

  it('t <= 0', async () => {
    for (const t of [0, -0.5]) {
      await expect(gpu.lossAndGradient(data, centres, { ...ok, noiseScale: t })).rejects.toThrow(InputError);
      await expect(gpu.lossAndGradient(data, centres, { ...ok, noiseScale: t })).rejects.toThrow(/noise scale t must be a finite number > 0/);
    }
  });

  it('lr <= 0', async () => {
    for (const lr of [0, -1]) {
      await expect(gpu.gdSteps(data, centres, { ...ok, steps: 2, lr })).rejects.toThrow(InputError);
      await expect(gpu.gdSteps(data, centres, { ...ok, steps: 2, lr })).rejects.toThrow(/step size must be a finite number > 0/);
      await expect(gpu.gradientEmStep(data, centres, lr)).rejects.toThrow(/step size must be a finite number > 0/);
    }
  });

  it('steps not a positive integer', async () => {
    for (const steps of [0, -3, 2.5]) {
      await expect(gpu.gdSteps(data, centres, { ...ok, steps, lr: 0.1 })).rejects.toThrow(InputError);
      await expect(gpu.gdSteps(data, centres, { ...ok, steps, lr: 0.1 })).rejects.toThrow(/steps must be a positive integer/);
    }
  });

  it('N < K', async () => {
    const few = matrix(2, 5, data.data.slice(0, 10));
    await expect(gpu.lossAndGradient(few, centres, { ...ok, noise: { kind: 'matrix', z: matrix(2, 5) } })).rejects.toThrow(InputError);
    await expect(gpu.lossAndGradient(few, centres, { ...ok, noise: { kind: 'matrix', z: matrix(2, 5) } })).rejects.toThrow(/N = 2 samples is fewer than K = 3/);
  });

  it('tied with 2 rows', async () => {
    const two = matrix(2, 5, centres.data.slice(0, 10));
    await expect(gpu.lossAndGradient(data, two, { ...ok, tied: true })).rejects.toThrow(InputError);
    await expect(gpu.lossAndGradient(data, two, { ...ok, tied: true })).rejects.toThrow(/tied mode takes one centre \(1 x 5, the second is its negative\), got 2 x 5/);
  });

  it('the backend still answers correctly after rejected inputs', async () => {
    const got = await gpu.lossAndGradient(data, centres, ok);
    const ref = await cpu.lossAndGradient(data, centres, ok);
    const bound = gradientBound(data, scaledCentres(centres, c.t, false), c.t, z, summationDepth(gpu, c.k, c.d, c.n), false);
    expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad).ratio).toBeLessThanOrEqual(1);
  });
});
