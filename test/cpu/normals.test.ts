// The distribution of the noise (docs/math.md section 7): 10^7 normals of the CPU reference, which the GPU
// reproduces word for word (test/gpu/philox.test.ts), against N(0, 1). Every tolerance is 5 standard errors
// (normal approximation, which n = 10^7 makes accurate), so a correct generator fails any one assertion with
// probability below 6e-7; the seed is fixed, so the outcome is reproducible.
import { beforeAll, describe, expect, it } from 'vitest';
import { noiseRowInto, seedKey, STREAM_TRAINING_NOISE } from '../../src/math/philox.ts';

const ROWS = 156_250;
const COLS = 64;
const N = ROWS * COLS; // 10^7

/** Phi(x) = erfc(-x / sqrt 2) / 2, erfc by Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
        t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

let z: Float64Array;

beforeAll(() => {
  // The training noise's own layout: row n, coordinates in blocks of 4 (noiseMatrix without the Matrix wrapper).
  z = new Float64Array(N);
  const [k0, k1] = seedKey(20261201);
  const words = new Uint32Array(4);
  const row = new Float64Array(COLS);
  for (let n = 0; n < ROWS; n++) {
    noiseRowInto(k0, k1, 3, n, COLS, STREAM_TRAINING_NOISE, words, row);
    z.set(row, n * COLS);
  }
});

describe('10^7 normals of the noise', () => {
  it('have moments 1 to 4 of N(0, 1): 0, 1, 0, 3', () => {
    let [s1, s2, s3, s4] = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      const v = z[i]!;
      const v2 = v * v;
      s1 += v;
      s2 += v2;
      s3 += v2 * v;
      s4 += v2 * v2;
    }
    // Raw moments m_k = (1/n) sum z^k, with standard errors sqrt(Var(z^k) / n) under N(0, 1):
    // Var z = 1; Var z^2 = E z^4 - 1 = 2; Var z^3 = E z^6 = 15; Var z^4 = E z^8 - (E z^4)^2 = 105 - 9 = 96.
    const se = (variance: number): number => Math.sqrt(variance / N);
    expect(Math.abs(s1 / N - 0)).toBeLessThan(5 * se(1));
    expect(Math.abs(s2 / N - 1)).toBeLessThan(5 * se(2));
    expect(Math.abs(s3 / N - 0)).toBeLessThan(5 * se(15));
    expect(Math.abs(s4 / N - 3)).toBeLessThan(5 * se(96));
  });

  it('have a Kolmogorov-Smirnov distance to Phi below its critical value at level 1e-3', () => {
    const sorted = Float64Array.from(z).sort();
    let d = 0;
    for (let i = 0; i < N; i++) {
      const f = normalCdf(sorted[i]!);
      d = Math.max(d, (i + 1) / N - f, f - i / N);
    }
    // Asymptotic Kolmogorov distribution: P(sqrt(n) D > c) ~ 2 exp(-2 c^2), so c = sqrt(ln(2 / 1e-3) / 2) = 1.949;
    // the CDF fit's 1.2e-7 and the 23-bit uniforms' discreteness (~1e-7 in Phi) are far below 1.949 / sqrt(n) = 6.2e-4.
    const critical = Math.sqrt(Math.log(2 / 1e-3) / 2) / Math.sqrt(N);
    expect(d).toBeLessThan(critical);
    // The test has teeth: the same draws scaled by 1.01 (a 2% variance error) are further than that.
    let scaled = 0;
    for (let i = 0; i < N; i += 97) scaled = Math.max(scaled, Math.abs(normalCdf(1.01 * sorted[i]!) - (i + 0.5) / N));
    expect(scaled).toBeGreaterThan(critical);
  });

  it('fall beyond 3 and 4 sigma as often as N(0, 1): 2.70e-3 and 6.33e-5', () => {
    let beyond3 = 0;
    let beyond4 = 0;
    for (let i = 0; i < N; i++) {
      const a = Math.abs(z[i]!);
      if (a > 3) beyond3++;
      if (a > 4) beyond4++;
    }
    // P(|z| > 3) = erfc(3 / sqrt 2) = 2.6998e-3 and P(|z| > 4) = 6.3342e-5; the counts are binomial(n, p) with
    // standard deviation sqrt(n p (1 - p)) (164 and 25 here), so 5 of them.
    for (const [count, p] of [[beyond3, 2.699796e-3], [beyond4, 6.334248e-5]] as const) {
      expect(Math.abs(count - N * p)).toBeLessThan(5 * Math.sqrt(N * p * (1 - p)));
    }
  });
});
