// The estimator API (src/estimator.ts): fit / predict / predictProba / score / scoreSamples / bic / aic /
// sample for each method, restarts, the backend choice, and the up-front input checks, on the CPU reference
// (the GPU path is the same Backend calls: test/algorithms), plus one fit on the GPU engine through 'auto'.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm, METHODS } from '../../src/estimator.ts';
import { InputError } from '../../src/errors.ts';
import type { Backend } from '../../src/backend.ts';
import type { Matrix } from '../../src/types.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { centreError } from '../../src/centre-error.ts';
import { matrix } from '../../src/types.ts';

const backend = new CpuBackend();
const { data, truth, labels } = generateMixture({ k: 2, d: 5, n: 2000, separation: 6, seed: 41 });

describe('DdpmGmm', () => {
  for (const method of METHODS) {
    it(`${method}: fit learns the centres (error < 0.3) and reports history, converged, nIter`, async () => {
      const model = new DdpmGmm({ nComponents: 2, method, backend, seed: 1, lr: method === 'gradient-em' ? 2 : undefined, truth });
      const out = await model.fit(data);
      // sqrt(d/N) = 0.05: 0.3 is six times the statistical error and a tenth of |mu*| = 3.
      expect(centreError(out.means, truth).max).toBeLessThan(0.3);
      expect(out.nIter).toBeGreaterThan(0);
      expect(out.history.length).toBeGreaterThan(0);
      expect(model.means).toBe(out.means);
    });
  }

  it('predictProba rows sum to 1 and label > 97% of samples right; score is the mixture log-likelihood', async () => {
    const model = new DdpmGmm({ nComponents: 2, method: 'em', backend, seed: 1 });
    await model.fit(data);
    const p = model.predictProba(data);
    const match = centreError(model.means!, truth).match;
    let right = 0;
    for (let i = 0; i < data.rows; i++) {
      expect(p.data[2 * i]! + p.data[2 * i + 1]!).toBeCloseTo(1, 12);
      const pick = p.data[2 * i]! > p.data[2 * i + 1]! ? 0 : 1;
      if (match[pick] === labels[i]) right++;
    }
    // Bayes error at separation 6 is Phi(-3) = 0.13%; 97% leaves room for estimation error.
    expect(right / data.rows).toBeGreaterThan(0.97);
    // Well separated: each point is explained by one component of weight 1/2, so the average is about
    // -d/2 (1 + ln 2 pi) - ln 2 = -7.79, with a sampling sd of sqrt(d/2 / N) = 0.035.
    expect(model.score(data)).toBeGreaterThan(-7.95);
    expect(model.score(data)).toBeLessThan(-7.65);
  });

  it("sample(n, { method: 'direct' }) draws from the learned mixture: the sample mean is near the mixture mean", async () => {
    const model = new DdpmGmm({ nComponents: 2, method: 'em', backend, seed: 1 });
    await model.fit(data);
    const s = await model.sample(4000, { method: 'direct', seed: 3 });
    expect(s.data).toEqual(model.sampleDirect(4000, 3).data);
    expect(s.rows).toBe(4000);
    const m = model.means!;
    for (let c = 0; c < 5; c++) {
      let mean = 0;
      for (let i = 0; i < s.rows; i++) mean += s.data[i * 5 + c]! / s.rows;
      // Sd of a coordinate's sample mean: sqrt((1 + spread^2) / n) < 0.05 here; 0.2 is 4 sd.
      expect(Math.abs(mean - (m.data[c]! + m.data[5 + c]!) / 2)).toBeLessThan(0.2);
    }
  });

  it('rejects bad inputs up front with InputErrors', async () => {
    expect(() => new DdpmGmm({ nComponents: 0, backend })).toThrow(InputError);
    expect(() => new DdpmGmm({ nComponents: 3, method: 'power', backend })).toThrow(/nComponents = 2/);
    expect(() => new DdpmGmm({ nComponents: 3, schedule: 'two-stage', backend })).toThrow(/nComponents = 2/);
    expect(() => new DdpmGmm({ nComponents: 2, method: 'bogus' as 'em', backend })).toThrow(/method must be/);
    const model = new DdpmGmm({ nComponents: 2, backend });
    expect(() => model.predictProba(data)).toThrow(/fit\(X\) first/);
    const bad = matrix(3, 5, new Float64Array(15).fill(NaN));
    await expect(model.fit(bad)).rejects.toThrow(/non-finite/);
    await expect(new DdpmGmm({ nComponents: 2, backend, init: matrix(3, 5) }).fit(data)).rejects.toThrow(/rows/);
  });
});

/** log q(x) = log (1/K) sum_i (2 pi)^(-d/2) exp(-|x - mu_i|^2 / 2), written out without the library's log-sum-exp. */
function directLogLikelihood(X: Matrix, means: Matrix): number[] {
  const { rows: n, cols: d } = X;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (let j = 0; j < means.rows; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (X.data[i * d + c]! - means.data[j * d + c]!) ** 2;
      q += Math.exp(-s / 2) / (2 * Math.PI) ** (d / 2) / means.rows;
    }
    out.push(Math.log(q));
  }
  return out;
}

describe('DdpmGmm: the scikit-learn surface', () => {
  const small = generateMixture({ k: 3, d: 4, n: 600, separation: 6, seed: 5 });

  it('predict is the argmax of predictProba; fitPredict is fit then predict; restarts escape a bad seeding', async () => {
    // k-means++ from seed 5 puts two centres in one cluster (the paper's EM stays there); seed 6, the next restart, does not.
    const model = new DdpmGmm({ nComponents: 3, method: 'em', backend, seed: 5, nInit: 3, covariance: 'identity', weights: 'equal' });
    const labels = await model.fitPredict(small.data);
    expect(model.restarts[0]!.logLikelihood).toBeLessThan(model.restarts[model.bestRestart]!.logLikelihood - 1);
    expect(labels).toBeInstanceOf(Int32Array);
    expect(labels.length).toBe(600);
    const p = model.predictProba(small.data);
    for (let i = 0; i < 600; i++) {
      const row = Array.from(p.data.subarray(3 * i, 3 * i + 3));
      expect(labels[i]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(model.predict(small.data)).toEqual(labels);
    // Separation 6 in d = 4: the labels are the generator's (i % K) up to a relabelling, bar a few.
    const match = centreError(model.means!, small.truth).match;
    let right = 0;
    for (let i = 0; i < 600; i++) if (match[labels[i]!] === small.labels[i]) right++;
    expect(right / 600).toBeGreaterThan(0.97);
  });

  it('scoreSamples is log q(x_n) written out, score its mean, and bic / aic follow their formulas with p = K d', async () => {
    // The paper's model by name: no scaling (test/api/scaling.test.ts has the scaled density).
    const model = new DdpmGmm({ nComponents: 3, method: 'em', backend, seed: 2, scale: 'none', covariance: 'identity', weights: 'equal' });
    await model.fit(small.data);
    const direct = directLogLikelihood(small.data, model.means!);
    const ll = model.scoreSamples(small.data);
    expect(ll).toBeInstanceOf(Float64Array);
    ll.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 10));
    const sum = direct.reduce((a, b) => a + b, 0);
    expect(model.score(small.data)).toBeCloseTo(sum / 600, 10);
    const p = 3 * 4;
    const n = 600;
    expect(model.bic(small.data)).toBeCloseTo(-2 * sum + p * Math.log(n), 8);
    expect(model.aic(small.data)).toBeCloseTo(-2 * sum + 2 * p, 8);
    expect(model.bic(small.data) - model.aic(small.data)).toBeCloseTo(p * (Math.log(n) - 2), 8);
  });

  it('nInit restarts a ddpm schedule from seed + r and noiseSeed + r and keeps the best log-likelihood', async () => {
    const model = new DdpmGmm({ nComponents: 3, backend, seed: 4, noiseSeed: 10, nInit: 3, maxSteps: 40, averageSteps: 0 });
    const out = await model.fit(small.data);
    expect(model.restarts.map((r) => [r.seed, r.noiseSeed])).toEqual([[4, 10], [5, 11], [6, 12]]);
    const kept = model.restarts[model.bestRestart]!;
    for (const r of model.restarts) expect(kept.logLikelihood).toBeGreaterThanOrEqual(r.logLikelihood);
    expect(model.score(small.data)).toBe(kept.logLikelihood);
    // The kept restart is the single run from its seeds, bit for bit.
    const alone = new DdpmGmm({ nComponents: 3, backend, seed: kept.seed, noiseSeed: kept.noiseSeed, maxSteps: 40, averageSteps: 0 });
    expect((await alone.fit(small.data)).means.data).toEqual(out.means.data);
    // Different seeds give different runs (so the restarts are real).
    expect(new Set(model.restarts.map((r) => r.logLikelihood)).size).toBeGreaterThan(1);
  });

  it('nInit applies to every method: em restarts from k-means++ seeds, power from seed + r', async () => {
    for (const method of ['em', 'gradient-em', 'power'] as const) {
      const k = method === 'power' ? 2 : 3;
      const X = method === 'power' ? data : small.data;
      const model = new DdpmGmm({ nComponents: k, method, backend, seed: 7, nInit: 2 });
      await model.fit(X);
      expect(model.restarts.map((r) => r.seed), method).toEqual([7, 8]);
      const best = Math.max(...model.restarts.map((r) => r.logLikelihood));
      expect(model.score(X), method).toBe(best);
    }
    await expect(new DdpmGmm({ nComponents: 3, method: 'em', backend, nInit: 2, init: small.truth }).fit(small.data)).rejects.toThrow(/nInit = 1/);
    await expect(new DdpmGmm({ nComponents: 3, backend, nInit: 2, loop: { onCheckpoint: () => {} } }).fit(small.data)).rejects.toThrow(/checkpoint covers one run/);
  });

  it('predict, score and friends name both dimensions when the data do not match the model', async () => {
    const model = new DdpmGmm({ nComponents: 3, method: 'em', backend, seed: 2 });
    await model.fit(small.data);
    const wide = matrix(5, 6);
    for (const call of [() => model.predict(wide), () => model.predictProba(wide), () => model.score(wide), () => model.scoreSamples(wide), () => model.bic(wide), () => model.aic(wide)]) {
      expect(call).toThrow(InputError);
      expect(call).toThrow(/d = 6 columns but the model was fitted in d = 4/);
    }
  });
});

describe('DdpmGmm: backends', () => {
  const small = generateMixture({ k: 3, d: 4, n: 600, separation: 6, seed: 5 });

  it("backend 'cpu' opens the CPU reference, says so in backendUsed, and dispose() releases it", async () => {
    const model = new DdpmGmm({ nComponents: 3, method: 'em', backend: 'cpu' });
    await model.fit(small.data);
    expect(model.backendUsed).toEqual({ kind: 'cpu', adapter: 'CPU float64 reference', software: false });
    model.dispose();
    model.dispose();
    // A disposed estimator still predicts (on the host) and opens a new backend for the next fit.
    expect(model.predict(small.data).length).toBe(600);
    await model.fit(small.data);
    model.dispose();
  });

  it('a Backend passed in is used as is and never disposed by the estimator', async () => {
    let disposed = 0;
    const cpu = new CpuBackend();
    const passed: Backend = Object.assign(Object.create(cpu) as Backend, { dispose: () => void disposed++ });
    const model = new DdpmGmm({ nComponents: 3, method: 'em', backend: passed });
    await model.fit(small.data);
    model.dispose();
    expect(disposed).toBe(0);
    expect(model.backendUsed?.kind).toBe('cpu');
    expect(() => new DdpmGmm({ nComponents: 3, backend: 'tpu' as 'cpu' })).toThrow(/backend must be one of auto, gpu, cpu/);
  });

  it("backend 'auto' (the default) falls back to the CPU reference when no GPU engine is registered, and says why", async () => {
    const messages: string[] = [];
    const model = new DdpmGmm({ nComponents: 3, method: 'em', log: (m) => messages.push(m) });
    await model.fit(small.data);
    expect(model.backendUsed?.kind).toBe('cpu');
    expect(messages.join('\n')).toMatch(/no GPU engine is loaded/);
    model.dispose();
    await expect(new DdpmGmm({ nComponents: 3, method: 'em', backend: 'gpu' }).fit(small.data)).rejects.toThrow(/backend 'gpu' was asked for/);
  });

  // Last in the file: importing the Node entry registers the GPU engine for the rest of this file.
  it("backend 'auto' opens the GPU engine once ddpm-gmm/node is imported (a software adapter here when there is no GPU)", async () => {
    await import('../../src/node.ts');
    const model = new DdpmGmm({ nComponents: 3, seed: 1, maxSteps: 40 });
    try {
      await model.fit(small.data);
      expect(model.backendUsed?.kind).toBe('gpu');
      expect(typeof model.backendUsed?.software).toBe('boolean');
      // The float32 engine learns the same centres as the float64 reference, within the sampling error.
      const ref = new DdpmGmm({ nComponents: 3, seed: 1, maxSteps: 40, backend });
      await ref.fit(small.data);
      expect(centreError(model.means!, ref.means!).max).toBeLessThan(0.05);
      expect(centreError(model.means!, small.truth).max).toBeLessThan(0.6);
    } finally {
      model.dispose();
    }
  });
});
