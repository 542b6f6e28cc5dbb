// The float64 CPU reference (docs/math.md sections 2-6 and 9) and the CpuBackend built on the same math.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import {
  ddpmGradMagnitude,
  ddpmLossGradMatrixForm,
  ddpmLossGradPerSample,
  ddpmLossGradTied,
  emStep,
  gradientEmStep,
  noisyPoints,
  responsibilities,
} from '../../src/training/cpu-reference.ts';
import { DivergenceError, InputError } from '../../src/errors.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const EPS = Number.EPSILON;

/** A balanced mixture sample: row n is centre (n mod K) plus a standard normal (docs/math.md section 1). */
function mixture(seed: number, N: number, centres: number[][]): Matrix {
  const d = centres[0]!.length;
  const noise = noiseMatrix(seed, 0, N, d, STREAM_DATA_GENERATOR);
  const x = matrix(N, d);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < d; k++) x.data[n * d + k] = centres[n % centres.length]![k]! + noise.data[n * d + k]!;
  }
  return x;
}

function fromRows(rows: number[][]): Matrix {
  return matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));
}

/** Deterministic centres in [-scale, scale] for K x d (a fixed recipe, no global RNG). */
function someCentres(K: number, d: number, scale: number, salt: number): Matrix {
  const m = matrix(K, d);
  for (let i = 0; i < K * d; i++) m.data[i] = scale * Math.sin(1.7 * i + 0.9 * salt + 0.3);
  return m;
}

function norm(v: ArrayLike<number>, from = 0, to = v.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

/**
 * A bound on the float64 rounding error of any entry of dL/dm (or of L), whatever the evaluation order:
 * per sample every quantity is bounded by S_n = ||mbar|| + ||x|| + ||z||/sigma (|r| <= S_n) and the gradient term by
 * G_n = S_n (1 + 2 max||m_j|| (||x|| + max||m_j||)); each is computed with relative error <= c (d + K) eps and the
 * N terms are summed with error <= N eps, so (N + 8 (d + K)) eps (2/N) sum_n G_n bounds the difference of two
 * evaluations (docs/math.md section 5).
 */
function roundingBound(x0: Matrix, m: Matrix, t: number, z: Matrix): { grad: number; loss: number } {
  const { sigma } = forwardCoefficients(t);
  const X = noisyPoints(x0, t, z);
  const { rows: N, cols: d } = x0;
  let mMax = 0;
  for (let j = 0; j < m.rows; j++) mMax = Math.max(mMax, norm(m.data, j * d, (j + 1) * d));
  let gSum = 0;
  let lSum = 0;
  for (let n = 0; n < N; n++) {
    const xn = norm(X.data, n * d, (n + 1) * d);
    const s = mMax + xn + norm(z.data, n * d, (n + 1) * d) / sigma;
    gSum += s * (1 + 2 * mMax * (xn + mMax));
    lSum += s * s;
  }
  const c = (N + 8 * (d + m.rows)) * EPS;
  return { grad: c * (2 / N) * gSum, loss: c * (lSum / N) };
}

type LossFn = (m: Matrix) => number;

/**
 * Central differences of L at m with the tolerance they deserve: truncation h^2 L'''/6 is estimated by
 * Richardson, |D(2h) - D(h)| = 3 (h^2 L'''/6) + O(h^4), and rounding by 2 delta / (2h) with delta the error of one L.
 */
function finiteDifferences(lossAt: LossFn, m: Matrix, h: number, lossRounding: number): { fd: Float64Array; tol: Float64Array } {
  const fd = new Float64Array(m.data.length);
  const tol = new Float64Array(m.data.length);
  const central = (i: number, step: number): number => {
    const plus = matrix(m.rows, m.cols, Float64Array.from(m.data));
    const minus = matrix(m.rows, m.cols, Float64Array.from(m.data));
    plus.data[i] += step;
    minus.data[i] -= step;
    return (lossAt(plus) - lossAt(minus)) / (2 * step);
  };
  for (let i = 0; i < m.data.length; i++) {
    const dh = central(i, h);
    const d2h = central(i, 2 * h);
    fd[i] = dh;
    // |D(2h) - D(h)| is 3x the truncation of D(h); the rounding of both D(h) and D(2h) enters through it as well.
    tol[i] = Math.abs(d2h - dh) + 2 * (lossRounding / h);
  }
  return { fd, tol };
}

describe('forwardCoefficients (docs/math.md section 2)', () => {
  it('gives a_t = exp(-t) and sigma_t = sqrt(1 - exp(-2t))', () => {
    const { a, sigma } = forwardCoefficients(0.5);
    // One exp, one expm1 and one sqrt, each correctly rounded to within 1 ulp: 4 eps relative is generous.
    expect(Math.abs(a - Math.exp(-0.5))).toBeLessThanOrEqual(4 * EPS * a);
    expect(Math.abs(sigma - Math.sqrt(1 - Math.exp(-1)))).toBeLessThanOrEqual(4 * EPS * sigma);
    expect(a * a + sigma * sigma).toBeCloseTo(1, 14);
  });
  it('keeps sigma accurate for tiny t, where 1 - exp(-2t) would cancel', () => {
    const t = 1e-8;
    // Series 1 - e^{-2t} = 2t - 2t^2 + 4t^3/3 - ...; the omitted term 2t^4/3 is 1e-24 relative: the series is exact here.
    const series = Math.sqrt(2 * t - 2 * t * t + (4 / 3) * t ** 3);
    const { sigma } = forwardCoefficients(t);
    expect(Math.abs(sigma - series) / series).toBeLessThan(1e-12);
    // The naive formula loses about 8 digits at t = 1e-8, so this test can tell the two apart.
    expect(Math.abs(Math.sqrt(1 - Math.exp(-2 * t)) - series) / series).toBeGreaterThan(1e-12);
  });
  it('rejects t <= 0, NaN and Infinity with an InputError that says what to pass', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => forwardCoefficients(bad)).toThrow(InputError);
    }
    expect(() => forwardCoefficients(-1)).toThrow(/--t .*positive/);
  });
});

describe('DDPM gradient against finite differences (docs/math.md section 5)', () => {
  const cases = [
    { K: 1, d: 1, t: 0.3 },
    { K: 1, d: 3, t: 1.0 },
    { K: 2, d: 1, t: 0.7 },
    { K: 2, d: 2, t: 0.5 },
    { K: 3, d: 5, t: 1.2 },
    { K: 4, d: 3, t: 2.0 },
  ];
  for (const { K, d, t } of cases) {
    it(`untied K=${K} d=${d} t=${t}`, () => {
      const N = 24;
      const truth = someCentres(K, d, 2, 1);
      const x0 = mixture(11 + K, N, Array.from({ length: K }, (_, j) => Array.from(truth.data.subarray(j * d, (j + 1) * d))));
      const z = noiseMatrix(5, 0, N, d);
      const m = someCentres(K, d, 1.2, 2);
      const { grad } = ddpmLossGradPerSample(x0, m, t, z);
      const delta = roundingBound(x0, m, t, z).loss;
      const { fd, tol } = finiteDifferences((mm) => ddpmLossGradPerSample(x0, mm, t, z).loss, m, 1e-4, delta);
      const gradScale = norm(grad.data) + 1;
      for (let i = 0; i < fd.length; i++) {
        // Tolerance: Richardson estimate of the O(h^2) truncation plus eps |L| / h rounding (see finiteDifferences).
        expect(Math.abs(grad.data[i]! - fd[i]!)).toBeLessThanOrEqual(tol[i]!);
        // The tolerance must be far below the gradient's size, or the comparison above could not fail.
        expect(tol[i]!).toBeLessThan(1e-5 * gradScale);
      }
    });
  }
  for (const { d, t } of [
    { d: 1, t: 0.4 },
    { d: 3, t: 1.0 },
    { d: 7, t: 2.5 },
  ]) {
    it(`tied d=${d} t=${t}`, () => {
      const N = 30;
      const mu = Array.from({ length: d }, (_, k) => 1.5 * Math.cos(k + 1));
      const x0 = mixture(3 + d, N, [mu, mu.map((v) => -v)]);
      const z = noiseMatrix(9, 2, N, d);
      const m = someCentres(1, d, 0.8, 4);
      const { grad } = ddpmLossGradTied(x0, m, t, z);
      const delta = roundingBound(x0, fromRows([Array.from(m.data), Array.from(m.data, (v) => -v)]), t, z).loss;
      const { fd, tol } = finiteDifferences((mm) => ddpmLossGradTied(x0, mm, t, z).loss, m, 1e-4, delta);
      const gradScale = norm(grad.data) + 1;
      for (let i = 0; i < fd.length; i++) {
        // Tolerance: Richardson estimate of the O(h^2) truncation plus eps |L| / h rounding (see finiteDifferences).
        expect(Math.abs(grad.data[i]! - fd[i]!)).toBeLessThanOrEqual(tol[i]!);
        expect(tol[i]!).toBeLessThan(1e-5 * gradScale);
      }
    });
  }
});

describe('the forms of the gradient agree', () => {
  it('tied gradient equals dL/dm1 - dL/dm2 of the untied formula at m2 = -m1, with the same loss', () => {
    for (const d of [1, 4, 9]) {
      const N = 40;
      const t = 0.8;
      const mu = Array.from({ length: d }, (_, k) => 2 * Math.sin(k + 0.5));
      const x0 = mixture(21, N, [mu, mu.map((v) => -v)]);
      const z = noiseMatrix(1, 7, N, d);
      const m = someCentres(1, d, 1, 3);
      const pair = fromRows([Array.from(m.data), Array.from(m.data, (v) => -v)]);
      const tied = ddpmLossGradTied(x0, m, t, z);
      const untied = ddpmLossGradPerSample(x0, pair, t, z);
      const bound = roundingBound(x0, pair, t, z);
      // Softmax of (u - |m|^2/2, -u - |m|^2/2) versus tanh(u): only rounding differs, bounded by roundingBound.
      expect(Math.abs(tied.loss - untied.loss)).toBeLessThanOrEqual(bound.loss);
      for (let k = 0; k < d; k++) {
        // The difference of two bounded entries: twice the per-entry bound.
        expect(Math.abs(tied.grad.data[k]! - (untied.grad.data[k]! - untied.grad.data[d + k]!))).toBeLessThanOrEqual(
          2 * bound.grad,
        );
      }
    }
  });
  it('matrix form equals the per-sample form', () => {
    for (const [K, d] of [
      [1, 1],
      [3, 5],
      [5, 2],
    ] as const) {
      const N = 50;
      const t = 0.6;
      const x0 = mixture(4, N, Array.from({ length: K }, (_, j) => Array.from({ length: d }, (_, k) => 2 * Math.cos(j * d + k))));
      const z = noiseMatrix(2, 1, N, d);
      const m = someCentres(K, d, 1.5, 5);
      const a = ddpmLossGradPerSample(x0, m, t, z);
      const b = ddpmLossGradMatrixForm(x0, m, t, z);
      const A = ddpmGradMagnitude(x0, m, t, z);
      // Both compute the same r and p; they differ in how w r + w p (x - m) is split and summed over N: gamma_{N+8} A.
      for (let i = 0; i < K * d; i++) expect(Math.abs(a.grad.data[i]! - b.grad.data[i]!)).toBeLessThanOrEqual((N + 8) * EPS * A.data[i]!);
      // Same residuals, summed in a different grouping: N d eps L.
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(N * d * EPS * a.loss);
      // The magnitude bounds the gradient itself: |dL/dm| <= A entrywise (triangle inequality).
      for (let i = 0; i < K * d; i++) expect(Math.abs(a.grad.data[i]!)).toBeLessThanOrEqual(A.data[i]! * (1 + 1e-12));
    }
  });
});

describe('far-away points (logits near -1e4)', () => {
  it('give a finite loss and gradient, and responsibilities that sum to 1', () => {
    const t = 0.1;
    const { a } = forwardCoefficients(t);
    // ||x - m_i|| ~ 141 gives -||x - m_i||^2/2 ~ -1e4: exp underflows to 0 unless the max is subtracted first.
    const x0 = fromRows([
      [0, 141 / a],
      [141 / a, 0],
      [-100 / a, -100 / a],
    ]);
    const z = noiseMatrix(3, 0, 3, 2);
    const m = fromRows([
      [0, 0],
      [3, 0],
      [0, -2],
    ]);
    const X = noisyPoints(x0, t, z);
    const W = responsibilities(X, m);
    for (let n = 0; n < 3; n++) {
      const s = W.data[3 * n]! + W.data[3 * n + 1]! + W.data[3 * n + 2]!;
      // Three terms divided by their own sum: within 4 eps of 1.
      expect(Math.abs(s - 1)).toBeLessThanOrEqual(4 * EPS);
    }
    for (const r of [ddpmLossGradPerSample(x0, m, t, z), ddpmLossGradMatrixForm(x0, m, t, z)]) {
      expect(Number.isFinite(r.loss)).toBe(true);
      for (const g of r.grad.data) expect(Number.isFinite(g)).toBe(true);
    }
    const tied = ddpmLossGradTied(x0, fromRows([[0.5, 0.5]]), t, z);
    expect(Number.isFinite(tied.loss)).toBe(true);
    for (const g of tied.grad.data) expect(Number.isFinite(g)).toBe(true);
  });
});

describe('EM and gradient EM (docs/math.md section 9)', () => {
  const x0 = mixture(8, 37, [[1, -2, 0.5]]);
  const mean = [0, 1, 2].map((k) => {
    let s = 0;
    for (let n = 0; n < 37; n++) s += x0.data[n * 3 + k]!;
    return s / 37;
  });
  const maxAbs = Math.max(...Array.from(x0.data, Math.abs));
  it('EM with K = 1 gives the sample mean', () => {
    const mu = emStep(x0, fromRows([[5, 5, 5]]));
    // w = 1 exactly for K = 1, so only the summation order can differ: N eps max|x|.
    for (let k = 0; k < 3; k++) expect(Math.abs(mu.data[k]! - mean[k]!)).toBeLessThanOrEqual(37 * EPS * maxAbs);
  });
  it('gradient EM with eta = 1 and K = 1 gives the sample mean', () => {
    const start = [5, -3, 0.25];
    const mu = gradientEmStep(x0, fromRows([start]), 1);
    for (let k = 0; k < 3; k++) {
      // mu + (sum x - N mu)/N: summation N eps max|x| plus the cancellation of N mu, about 4 eps (|mu| + max|x|).
      expect(Math.abs(mu.data[k]! - mean[k]!)).toBeLessThanOrEqual((37 + 4) * EPS * (maxAbs + Math.abs(start[k]!)));
    }
  });
  it('EM and gradient EM on a hand-checkable two-point case', () => {
    const data = fromRows([[-2], [2]]);
    const mu = fromRows([[-1], [1]]);
    // w_1(-2) = sigmoid(4) and w_1(2) = sigmoid(-4), so mu_1 <- -2 sigmoid(4) + 2 sigmoid(-4) = -2 tanh(2).
    const em = emStep(data, mu);
    // A handful of correctly rounded operations on values of size 2: 16 eps absolute.
    expect(Math.abs(em.data[0]! + 2 * Math.tanh(2))).toBeLessThanOrEqual(16 * EPS);
    expect(Math.abs(em.data[1]! - 2 * Math.tanh(2))).toBeLessThanOrEqual(16 * EPS);
    // Gradient EM, eta = 0.5: mu_1 <- -1 + 0.5 * (1/2) (sigmoid(4)(-1) + sigmoid(-4)(3)) = -1 + (3 - 4 sigmoid(4)) / 4.
    const s4 = 1 / (1 + Math.exp(-4));
    const gem = gradientEmStep(data, mu, 0.5);
    expect(Math.abs(gem.data[0]! - (-1 + (3 - 4 * s4) / 4))).toBeLessThanOrEqual(16 * EPS);
    expect(Math.abs(gem.data[1]! - (1 - (3 - 4 * s4) / 4))).toBeLessThanOrEqual(16 * EPS);
  });
  it('a component with total weight 0 keeps its centre', () => {
    const data = fromRows([[-1], [1], [0.5]]);
    // -||x - 1000||^2/2 ~ -5e5 underflows to weight exactly 0 after the max is subtracted.
    const em = emStep(data, fromRows([[0.2], [1000]]));
    expect(em.data[1]).toBe(1000);
    // The other component takes all the weight: the sample mean 1/6 within 4 eps.
    expect(Math.abs(em.data[0]! - 0.5 / 3)).toBeLessThanOrEqual(4 * EPS);
  });
});

describe('CpuBackend', () => {
  const backend = new CpuBackend();
  const d = 5;
  const N = 64;
  const truthA = [2, -1, 0.5, 1, -1.5];
  const x0 = mixture(31, N, [truthA, truthA.map((v) => -v), [0, 2, -2, 0, 1]]);
  const mu0 = someCentres(3, d, 1, 7);
  const t = 0.7;
  const { a } = forwardCoefficients(t);
  const scaled = (mu: Matrix): Matrix => matrix(mu.rows, mu.cols, Float64Array.from(mu.data, (v) => a * v));

  it('has the names the interface promises', () => {
    expect(backend.name).toBe('cpu');
    expect(backend.adapter).toBe('CPU float64 reference');
  });

  it('lossAndGradient equals the reference with explicit and seeded noise, untied and tied', async () => {
    const z = noiseMatrix(12, 4, N, d);
    for (const tied of [false, true]) {
      const mu = tied ? someCentres(1, d, 1, 8) : mu0;
      const m = scaled(mu);
      const ref = tied ? ddpmLossGradTied(x0, m, t, z) : ddpmLossGradPerSample(x0, m, t, z);
      const pair = tied ? fromRows([Array.from(m.data), Array.from(m.data, (v) => -v)]) : m;
      const bound = roundingBound(x0, pair, t, z);
      for (const noise of [
        { kind: 'matrix', z } as const,
        { kind: 'seed', seed: 12, mode: 'fixed', step: 4 } as const,
        { kind: 'seed', seed: 12, mode: 'fresh', step: 4 } as const,
      ]) {
        const got = await backend.lossAndGradient(x0, mu, { noiseScale: t, tied, noise });
        // Same math in a different operation order (z / sigma versus z * (1/sigma), fused accumulation): roundingBound.
        expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
        for (let i = 0; i < ref.grad.data.length; i++) {
          expect(Math.abs(got.gradScaled.data[i]! - ref.grad.data[i]!)).toBeLessThanOrEqual(bound.grad);
          // dL/dmu = a_t dL/dm is one multiplication (docs/math.md section 5).
          expect(got.gradCentres.data[i]).toBe(a * got.gradScaled.data[i]!);
        }
      }
    }
  });

  it('rejects a noise matrix of the wrong shape, naming both shapes', async () => {
    const z = noiseMatrix(1, 0, N - 1, d);
    await expect(
      backend.lossAndGradient(x0, mu0, { noiseScale: t, tied: false, noise: { kind: 'matrix', z } }),
    ).rejects.toThrow(new RegExp(`${N} x ${d}.*${N - 1} x ${d}`));
    await expect(
      backend.lossAndGradient(x0, mu0, { noiseScale: 0, tied: false, noise: { kind: 'matrix', z } }),
    ).rejects.toThrow(InputError);
  });

  it('one GD step equals m - lr * dL/dm by hand (docs/math.md section 6)', async () => {
    const lr = 0.3;
    const res = await backend.gdSteps(x0, mu0, {
      noiseScale: t,
      tied: false,
      noise: { kind: 'seed', seed: 5, mode: 'fresh' },
      steps: 1,
      lr,
    });
    const m = scaled(mu0);
    const z = noiseMatrix(5, 0, N, d);
    const ref = ddpmLossGradPerSample(x0, m, t, z);
    const bound = roundingBound(x0, m, t, z);
    expect(res.nIter).toBe(1);
    expect(res.history).toHaveLength(1);
    expect(res.history[0]!.step).toBe(0);
    expect(Math.abs(res.history[0]!.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
    for (let i = 0; i < m.data.length; i++) {
      const expected = (m.data[i]! - lr * ref.grad.data[i]!) / a;
      // The gradient differs by at most bound.grad; the update and the division by a_t add 4 eps of the result.
      const tol = (lr * bound.grad) / a + 4 * EPS * (Math.abs(mu0.data[i]!) + Math.abs((lr * ref.grad.data[i]!) / a));
      expect(Math.abs(res.centres.data[i]! - expected)).toBeLessThanOrEqual(tol);
    }
    // The step must move the centres by much more than the tolerance, or the check above would be empty.
    expect(norm(ref.grad.data) * lr).toBeGreaterThan(1e-6);
  });

  it('fresh noise uses step startStep + i, fixed noise reuses one step', async () => {
    const lr = 0.2;
    const replay = (noiseSteps: number[]): Matrix => {
      let m = scaled(mu0);
      for (const s of noiseSteps) {
        const g = ddpmLossGradPerSample(x0, m, t, noiseMatrix(9, s, N, d)).grad;
        m = matrix(m.rows, m.cols, Float64Array.from(m.data, (v, i) => v - lr * g.data[i]!));
      }
      return matrix(m.rows, m.cols, Float64Array.from(m.data, (v) => v / a));
    };
    const run = (mode: 'fresh' | 'fixed'): Promise<Matrix> =>
      backend
        .gdSteps(x0, mu0, { noiseScale: t, tied: false, noise: { kind: 'seed', seed: 9, mode, step: 2 }, steps: 2, lr, startStep: 3 })
        .then((r) => r.centres);
    const fresh = await run('fresh');
    const fixed = await run('fixed');
    const freshRef = replay([3, 4]);
    const fixedRef = replay([2, 2]);
    const tolerance = 1e-9; // rounding bounds above are ~1e-12 per step; two steps of lr 0.2 stay far below 1e-9
    let differ = 0;
    for (let i = 0; i < fresh.data.length; i++) {
      expect(Math.abs(fresh.data[i]! - freshRef.data[i]!)).toBeLessThan(tolerance);
      expect(Math.abs(fixed.data[i]! - fixedRef.data[i]!)).toBeLessThan(tolerance);
      differ = Math.max(differ, Math.abs(fresh.data[i]! - fixed.data[i]!));
    }
    // Different noise draws move the centres by O(lr / sqrt(N)) ~ 1e-2, far above the tolerance.
    expect(differ).toBeGreaterThan(1e3 * tolerance);
  });

  it('logs every logEvery steps and at the end, with progress reports', async () => {
    const seen: number[] = [];
    const res = await backend.gdSteps(x0, mu0, {
      noiseScale: t,
      tied: false,
      noise: { kind: 'seed', seed: 1, mode: 'fixed' },
      steps: 7,
      lr: 0.05,
      logEvery: 3,
      onProgress: (p) => seen.push(p.done),
    });
    expect(res.history.map((h) => h.step)).toEqual([2, 5, 6]);
    expect(seen).toEqual([3, 6, 7]);
    expect(res.nIter).toBe(7);
    for (const h of res.history) expect(h.gradNorm).toBeGreaterThan(0);
  });

  it('throws a DivergenceError naming the step for a huge step size', async () => {
    const run = backend.gdSteps(x0, mu0, {
      noiseScale: t,
      tied: false,
      noise: { kind: 'seed', seed: 1, mode: 'fresh' },
      steps: 200,
      lr: 1e6,
    });
    await expect(run).rejects.toThrow(DivergenceError);
    await expect(run).rejects.toThrow(/training diverged at step \d+ .*--lr, for example to 100000/);
    const error: unknown = await run.catch((e: unknown) => e);
    // The step in the message is the one the error carries, and it lies inside the run.
    expect(error).toBeInstanceOf(DivergenceError);
    const step = (error as DivergenceError).step;
    expect((error as DivergenceError).message).toContain(`at step ${step} `);
    expect(step).toBeGreaterThanOrEqual(0);
    expect(step).toBeLessThan(200);
  });

  it('projection keeps every centre within a_t R (reported unscaled: within R)', async () => {
    const R = 0.5;
    const options = {
      noiseScale: t,
      tied: true,
      noise: { kind: 'seed', seed: 4, mode: 'fresh' } as const,
      steps: 30,
      lr: 0.1,
    };
    const start = fromRows([[0.3, 0.1, -0.2, 0.1, 0]]);
    const free = await backend.gdSteps(x0, start, options);
    // Without projection the centre grows past R (||mu*|| ~ 2.9), so the projected run has something to clip.
    expect(norm(free.centres.data)).toBeGreaterThan(2 * R);
    const projected = await backend.gdSteps(x0, start, {
      ...options,
      projectRadius: R,
      onProgress: (p) => expect(norm(p.centres.data)).toBeLessThanOrEqual(R * (1 + 8 * EPS)),
    });
    // Scaling by R / ||m|| and dividing by a_t round a few times: 8 eps relative.
    expect(norm(projected.centres.data)).toBeLessThanOrEqual(R * (1 + 8 * EPS));
    expect(norm(projected.centres.data)).toBeGreaterThan(R * (1 - 1e-9));
  });

  it('emStep and gradientEmStep delegate to the reference', async () => {
    expect(Array.from((await backend.emStep(x0, mu0)).data)).toEqual(Array.from(emStep(x0, mu0).data));
    expect(Array.from((await backend.gradientEmStep(x0, mu0, 0.4)).data)).toEqual(
      Array.from(gradientEmStep(x0, mu0, 0.4).data),
    );
  });
});
