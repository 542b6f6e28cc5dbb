// Connection 1 for this project's L (docs/math.md sections 4 and 9): the expansion of the expected tied
// gradient near m = 0, checked against the exact expected gradient by Gauss-Hermite quadrature, and the
// cosine the loop reports against it (cosPowerCorrected) at the first stage-1 step of a two-stage run.
//
// The exact expected gradient (docs/math.md section 9): with x ~ q_t = 1/2 N(m*, I) + 1/2 N(-m*, I) and
// E[z / sigma_t | x_t] = -tanh(m* . x) m* + x, the expected loss is E||f||^2 + const, f = tanh(m.x) m - tanh(m*.x) m*,
// and dLbar/dm = 2 E[tanh(u) f + (1 - tanh(u)^2) (m.f) x], u = m.x. The integrand is even in x, so the mixture
// expectation is the one over N(m*, I). It lives in span(m, m*), so in any d it is a 2-D integral.
import { describe, expect, it } from 'vitest';
import { correctedPowerStep, fitSchedule, powerIterationStep } from '../../src/algorithms/index.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { matrix } from '../../src/types.ts';

/** Gauss-Hermite nodes and weights for E over N(0, 1): Newton on the orthonormal Hermite recurrence. */
function gaussHermite(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  let z = 0;
  for (let i = 0; i < (n + 1) >> 1; i++) {
    // Starting guesses of Numerical Recipes' gauher, for the weight exp(-x^2).
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * Math.pow(2 * n + 1, -0.16667);
    else if (i === 1) z -= (1.14 * Math.pow(n, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0]!;
    else if (i === 3) z = 1.91 * z - 0.91 * x[1]!;
    else z = 2 * z - x[i - 2]!;
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p1 = Math.pow(Math.PI, -0.25);
      let p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      dp = Math.sqrt(2 * n) * p2;
      const step = p1 / dp;
      z -= step;
      if (Math.abs(step) <= 1e-15) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = w[n - 1 - i] = 2 / (dp * dp);
  }
  // exp(-x^2) -> N(0, 1): x sqrt(2), w / sqrt(pi).
  return { x: x.map((v) => v * Math.SQRT2), w: w.map((v) => v / Math.sqrt(Math.PI)) };
}

// 160 nodes: at ||m*|| = 2 (tanh(m* . x) has poles at distance pi / 4 from the real line) fewer nodes leave a
// quadrature error that bends the fitted orders (64 nodes: 4.84 where 160 give 4.99).
const GH = gaussHermite(160);
type Vec = number[];
const dot = (a: Vec, b: Vec): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const axpy = (a: number, x: Vec, y: Vec): Vec => y.map((v, i) => v + a * x[i]!);
const dist = (a: Vec, b: Vec): number => Math.hypot(...a.map((v, i) => v - b[i]!));

/** -dLbar/dm in d = 1 or 2, integrating over x = m* + g, g ~ N(0, I_d), on the full GH grid. */
function exactStepLowD(m: Vec, ms: Vec): Vec {
  const d = m.length;
  const out = new Array<number>(d).fill(0);
  const grid = d === 1 ? GH.x.length : GH.x.length ** 2;
  for (let k = 0; k < grid; k++) {
    const idx = d === 1 ? [k] : [k % GH.x.length, Math.floor(k / GH.x.length)];
    const w = idx.reduce((p, i) => p * GH.w[i]!, 1);
    const x = ms.map((v, c) => v + GH.x[idx[c]!]!);
    const tu = Math.tanh(dot(m, x));
    const f = axpy(-Math.tanh(dot(ms, x)), ms, m.map((v) => tu * v));
    const mf = dot(m, f);
    for (let c = 0; c < d; c++) out[c] -= w * 2 * (tu * f[c]! + (1 - tu * tu) * mf * x[c]!);
  }
  return out;
}

/** The same in any d: rotate span(m*, m) onto two coordinates (the orthogonal rest integrates out). */
function exactStep(m: Vec, ms: Vec): Vec {
  if (m.length <= 2) return exactStepLowD(m, ms);
  const e1 = ms.map((v) => v / Math.sqrt(dot(ms, ms)));
  const perp = axpy(-dot(m, e1), e1, m);
  const e2 = perp.map((v) => v / Math.sqrt(dot(perp, perp)));
  const g = exactStepLowD([dot(m, e1), dot(m, e2)], [dot(ms, e1), 0]);
  return axpy(g[1]!, e2, e1.map((v) => g[0]! * v));
}

/** The reported direction, from the library: 4 m* m*^T m - 4 ||m||^2 m (truth given, a = 1 so m* = mu*). */
const corrected = (m: Vec, ms: Vec): Vec => Array.from(correctedPowerStep(matrix(0, m.length), Float64Array.from(m), 1, Float64Array.from(ms)));
/** Its linear part alone, 4 m* m*^T m (exact in m*). */
const linear = (m: Vec, ms: Vec): Vec => ms.map((v) => 4 * dot(m, ms) * v);
/** Two times the paper's 2 m* m*^T m - 3 ||m||^2 m: the same linear part, the paper's cubic constant. */
const paperDoubled = (m: Vec, ms: Vec): Vec => Array.from(powerIterationStep(matrix(0, m.length), Float64Array.from(m), 1, Float64Array.from(ms))).map((v) => 2 * v);
/**
 * The expansion to third order in m, exact in m* (docs/math.md section 9), c = m . m*, s^2 = ||m||^2:
 * 4 c m* - 4 s^2 m - 6 c^2 m - 6 s^2 c m* - (8/3) c^3 m*.
 */
function cubicInM(m: Vec, ms: Vec): Vec {
  const c = dot(m, ms);
  const s2 = dot(m, m);
  return axpy(-4 * s2 - 6 * c * c, m, ms.map((v) => (4 * c - 6 * s2 * c - (8 / 3) * c ** 3) * v));
}

/** The order p of residual(scale) ~ scale^p from two scales a factor 2 apart. */
function order(residual: (scale: number) => number, scale: number): number {
  return Math.log2(residual(scale) / residual(scale / 2));
}

// Generic directions, neither aligned nor orthogonal (d = 1, 2, 3).
const cases: [string, Vec, Vec][] = [
  ['d = 1', [0.7], [1.1]],
  ['d = 2', [0.6, 0.8], [1, 0.3]],
  ['d = 3', [0.5, -0.4, 0.7], [0.9, 0.2, -0.3]],
];

describe('connection 1: the expansion of -dL/dm near m = 0 against Gauss-Hermite quadrature', () => {
  it('the quadrature is exact for Gaussian moments and the E[z | x_t] reduction matches the joint (x0, z) integral', () => {
    expect(GH.w.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    expect(GH.w.reduce((s, v, i) => s + v * GH.x[i]! ** 4, 0)).toBeCloseTo(3, 12);
    // d = 1, t = 1: the mean DDPM gradient over x0 = mu* + g0 and z (a 2-D integral; the mixture's other
    // component gives the same by symmetry), from section 5's tied formula with r = s(x_t) + z / sigma_t.
    const { a, sigma } = forwardCoefficients(1);
    const [m, mu] = [0.4, 1.3];
    let g = 0;
    for (let i = 0; i < GH.x.length; i++) {
      for (let j = 0; j < GH.x.length; j++) {
        const xt = a * (mu + GH.x[i]!) + sigma * GH.x[j]!;
        const tu = Math.tanh(m * xt);
        const r = tu * m - xt + GH.x[j]! / sigma;
        g += GH.w[i]! * GH.w[j]! * 2 * (tu * r + (1 - tu * tu) * m * r * xt);
      }
    }
    expect(-g).toBeCloseTo(exactStep([m], [a * mu])[0]!, 12);
  });

  it.each(cases)('%s: with m and m* both small, 4 m* m*^T m - 4 ||m||^2 m is exact to fifth order', (_, m0, ms0) => {
    const at = (s: number, f: (m: Vec, ms: Vec) => Vec): number => {
      const [m, ms] = [m0.map((v) => s * v), ms0.map((v) => s * v)];
      return dist(exactStep(m, ms), f(m, ms));
    };
    // The exact step is of third order in the scale; the residual of the expansion falls like scale^5 (fitted
    // orders 4.96-4.98 from scales 0.1 / 0.05, 4.99-5.00 from 0.05 / 0.025), that of the paper's step, scaled
    // to the same linear part, like scale^3 (2.95-3.05): its cubic constant is wrong, not just its overall factor.
    expect(at(0.05, corrected)).toBeLessThan(1e-2 * Math.hypot(...exactStep(m0.map((v) => 0.05 * v), ms0.map((v) => 0.05 * v))));
    for (const s of [0.1, 0.05]) expect(Math.abs(order((x) => at(x, corrected), s) - 5)).toBeLessThan(0.1);
    expect(Math.abs(order((x) => at(x, paperDoubled), 0.1) - 3)).toBeLessThan(0.1);
  });

  it.each(cases)('%s: with m* fixed, 4 m* m*^T m is the exact linear part and the cubic terms have constant coefficients', (_, m0, ms0) => {
    for (const r of [0.5, 1, 2]) {
      const ms = ms0.map((v) => (r * v) / Math.sqrt(dot(ms0, ms0)));
      const at = (s: number, f: (m: Vec, ms: Vec) => Vec): number => dist(exactStep(m0.map((v) => s * v), ms), f(m0.map((v) => s * v), ms));
      // Linear part alone: residual of third order in m at every ||m*|| (no ||m*||^2 m or other linear term;
      // fitted 2.96-3.00).
      expect(Math.abs(order((x) => at(x, linear), 0.05) - 3)).toBeLessThan(0.1);
      // With the cubic terms -4 s^2 m - 6 c^2 m - 6 s^2 c m* - (8/3) c^3 m*: fifth order, for every ||m*||
      // (fitted 4.93-4.98 from 0.1 / 0.05, 4.98-4.99 from 0.05 / 0.025).
      for (const s of [0.1, 0.05]) expect(Math.abs(order((x) => at(x, cubicInM), s) - 5)).toBeLessThan(0.1);
      // The joint expansion drops the m*-dependent cubic terms: only third order in m at a fixed m* (2.98-2.99).
      expect(Math.abs(order((x) => at(x, corrected), 0.05) - 3)).toBeLessThan(0.1);
    }
  });
});

describe('connection 1 in a run (CPU reference)', () => {
  it('cosPowerCorrected > 0.99 at the first stage-1 step of a two-stage run, also without the truth', async () => {
    const cpu = new CpuBackend();
    const g = generateMixture({ k: 2, d: 8, n: 20000, separation: 6, seed: 21 });
    const opts = { k: 2, seed: 1, averageSteps: 0, maxSteps: 5 };
    const r = await fitSchedule(cpu, g.data, 'two-stage', opts, g.truth, { connections: true });
    const first = r.history.find((h) => h.stage === 'stage 1')!;
    // ||m|| = 0.18 at t1 = 0.52 (||m*|| = 1.78): the sampled step's noise is about 0.003 of its signal.
    expect(first.cosPowerCorrected!).toBeGreaterThan(0.99);
    for (const h of r.history) expect(Math.abs(h.cosPowerCorrected!)).toBeLessThanOrEqual(1 + 1e-12);
    // Without the truth m* m*^T is the data estimate a_t^2 (S - I): within the sampling error of S.
    const blind = await fitSchedule(cpu, g.data, 'two-stage', opts, undefined, { connections: true });
    expect(Math.abs(blind.history[0]!.cosPowerCorrected! - first.cosPowerCorrected!)).toBeLessThan(0.02);
  });
});
