// The estimator's per-feature scaling (src/scaling.ts, docs/math.md section 15): raw data in, the data's units
// out; invariant to units and shifts; constant features floored with a note, never NaN; the model file keeps it.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { mixtureLogLikelihood } from '../../src/algorithms/index.ts';
import { generatedSet, adjustedRandIndex } from '../../src/experiments/real-data-sets.ts';
import { gaussianMixture, mixtureLogDensities } from '../../src/full-covariance/mixture.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { fitScaling, toScaled } from '../../src/scaling.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const backend = new CpuBackend();
const mix = generateMixture({ k: 3, d: 4, n: 900, separation: 6, seed: 9 });
const affine = (m: Matrix, a: number, b: number): Matrix => matrix(m.rows, m.cols, m.data.map((v) => a * v + b));

/** The labels of the Bayes rule under a diagonal-covariance mixture's true parameters. */
function bayesLabels(set: ReturnType<typeof generatedSet>, spreads: number[], units: number[], weights: number[]): Int32Array {
  const { k } = set;
  const d = set.X.cols;
  const cov = new Float64Array(k * d * d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) cov[j * d * d + c * d + c] = (spreads[j]! * units[c]!) ** 2;
  const total = weights.reduce((s, w) => s + w, 0);
  const per = Array.from({ length: k }, (_, j) => {
    const one = gaussianMixture([1], matrix(1, d, set.truth!.data.slice(j * d, (j + 1) * d)), cov.slice(j * d * d, (j + 1) * d * d));
    return mixtureLogDensities(one, set.X);
  });
  return Int32Array.from({ length: set.X.rows }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (per[j]![i]! + Math.log(weights[j]! / total) > per[best]![i]! + Math.log(weights[best]! / total)) best = j;
    return best;
  });
}

describe('scaling', () => {
  it("'none' with the paper's student is the paper's model on the data as given: no scaling, version 1", async () => {
    const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 40, scale: 'none', covariance: 'identity', weights: 'equal' });
    await model.fit(mix.data);
    expect(model.scaling).toBeUndefined();
    expect(model.toJSON().version).toBe(1);
    const ll = mixtureLogLikelihood(mix.data, model.means!);
    expect(model.score(mix.data)).toBeCloseTo(ll.reduce((a, b) => a + b, 0) / mix.data.rows, 12);
  });

  it("'within' reports centres, samples and densities in the data's units, whatever the units and shift", async () => {
    const fits: { labels: Int32Array; means: Matrix; model: DdpmGmm; X: Matrix; a: number }[] = [];
    for (const [a, b] of [[1, 0], [1e6, 0], [1, 1e5]] as const) {
      const X = affine(mix.data, a, b);
      // annealed: the screened default keeps the best of its starts by log-likelihood, a choice that rounding of
      // the affine map can flip between near-equal starts; the units are what this checks.
      const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 40, schedule: 'annealed' });
      const labels = await model.fitPredict(X);
      expect(model.scale).toBe('within');
      // Back in the first fit's units: (mu - b) / a.
      fits.push({ labels, means: affine(model.means!, 1 / a, -b / a), model, X, a });
    }
    for (const f of fits.slice(1)) {
      expect(adjustedRandIndex(f.labels, fits[0]!.labels)).toBe(1);
      // The fits see the same z up to the rounding of the affine map (1e5 shift: 1e-11 in z), or one stopping-rule
      // chunk apart, whose movement is below the tolerance floor lr sqrt(d / N) = 0.07; 0.1 covers both.
      f.means.data.forEach((v, i) => expect(Math.abs(v - fits[0]!.means.data[i]!)).toBeLessThan(0.1));
      // log q_x = log q_z - sum log scale: a scale of a per feature shifts the density by d log a.
      expect(f.model.score(f.X) + 4 * Math.log(f.a)).toBeCloseTo(fits[0]!.model.score(fits[0]!.X), 1);
    }
    // Direct samples come out in the data's units: their mean is near the data's (sd / sqrt(n) = 0.2 of a unit at n = 600, sd ~ 5).
    const big = fits[1]!;
    const s = big.model.sampleDirect(600, 2);
    for (let c = 0; c < 4; c++) {
      let ms = 0;
      let mx = 0;
      for (let i = 0; i < 600; i++) ms += s.data[i * 4 + c]! / 600;
      for (let i = 0; i < big.X.rows; i++) mx += big.X.data[i * 4 + c]! / big.X.rows;
      expect(Math.abs(ms - mx) / 1e6).toBeLessThan(1);
    }
    // bic counts the d per-feature scales beside the K d means, the default student's K d variances and K - 1 weights.
    const m = fits[0]!.model;
    expect(m.bic(mix.data) - m.aic(mix.data)).toBeCloseTo((3 * 4 + 3 * 4 + 2 + 4) * (Math.log(900) - 2), 8);
  });

  it('raw features in units from 0.1 to 1000, one shifted by 10^5: no divergence, and near the Bayes rule', async () => {
    const set = generatedSet('units', 1500, 22);
    const model = new DdpmGmm({ nComponents: 3, backend, seed: 0 });
    const labels = await model.fitPredict(set.X);
    expect(model.means!.data.every(Number.isFinite)).toBe(true);
    const bayes = adjustedRandIndex(bayesLabels(set, [0.7, 1, 1.4], [0.1, 1, 10, 100, 1000, 0.5], [1, 2, 3]), set.labels);
    // The identity model cannot learn the unequal spreads and weights the Bayes rule knows: 0.1 below it.
    expect(adjustedRandIndex(labels, set.labels)).toBeGreaterThan(bayes - 0.1);
  });

  it('a constant and a near-constant feature: a note, finite centres and scores, never NaN', async () => {
    const d = 6;
    const X = matrix(mix.data.rows, d);
    for (let i = 0; i < mix.data.rows; i++) {
      for (let c = 0; c < 4; c++) X.data[i * d + c] = mix.data.data[i * 4 + c]!;
      X.data[i * d + 4] = 7;
      X.data[i * d + 5] = 1e5 + (i === 0 ? 1e-9 : 0);
    }
    for (const scale of ['within', 'standard'] as const) {
      const logs: string[] = [];
      const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 40, scale, log: (m) => logs.push(m) });
      await model.fit(X);
      expect(model.notes.join(' ')).toMatch(/2 constant features \(columns 5, 6, 1-based\)/);
      expect(logs).toEqual(model.notes);
      expect(model.means!.data.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(model.score(X))).toBe(true);
      expect(model.scaling!.scale.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    }
    const all = fitScaling(matrix(3, 1, Float64Array.from([2, 2, 2])), 'within', 2, 0);
    expect(Array.from(toScaled(matrix(3, 1, Float64Array.from([2, 2, 2])), all.scaling).data)).toEqual([0, 0, 0]);
  });

  it('the model file keeps the scaling (version 3); a loaded model predicts, scores and samples the same bits; version 1 still loads', async () => {
    const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, maxSteps: 40 });
    const X = affine(mix.data, 1e3, 5e4);
    await model.fit(X);
    const text = JSON.stringify(model);
    const loaded = DdpmGmm.fromJSON(text);
    expect(loaded.scale).toBe('within');
    expect(loaded.predictProba(X).data).toEqual(model.predictProba(X).data);
    expect(loaded.score(X)).toBe(model.score(X));
    expect(loaded.sampleDirect(20, 1).data).toEqual(model.sampleDirect(20, 1).data);
    expect(await loaded.sample(20, { seed: 1 })).toEqual(await model.sample(20, { seed: 1 }));
    const bad = JSON.parse(text);
    bad.scaling.scale[0] = 0;
    expect(() => DdpmGmm.fromJSON(bad)).toThrow(/scaling\.scale must be 4 finite numbers > 0/);
    const old = { format: 'ddpm-gmm-model', version: 1, createdBy: 'ddpm-gmm 0.1.0', nComponents: 1, dimension: 2, means: [[1, 2]], method: 'em', schedule: null, converged: true, nIter: 3, backendUsed: null };
    const v1 = DdpmGmm.fromJSON(old);
    expect([v1.scale, v1.scaling, v1.score([[1, 2]])]).toEqual(['none', undefined, -Math.log(2 * Math.PI)]);
  });
});
