// The general student's fit on the screened schedule (docs/math.md section 14, 'The step' and 'Stopping';
// docs/experiments.md, 'Fitting variances and weights'): the change rule watches the spreads and weights, the
// averaging tail averages gamma and log pi, a checkpoint inside the tail resumes bit for bit, and the fit recovers
// unequal spreads and weights.
import { describe, expect, it } from 'vitest';
import { fitSchedule } from '../../src/algorithms/index.ts';
import { serializeCheckpoint, stateFromCheckpoint } from '../../src/algorithms/checkpoint.ts';
import { stageKind } from '../../src/algorithms/stage-kinds.ts';
import { studentChange } from '../../src/algorithms/stop-rules.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { spreadMixture } from '../../src/mixtures.ts';
import { copyStudent, initialStudent, variancesOf, weightsOf } from '../../src/training/student.ts';
import { matrix } from '../../src/types.ts';
import type { LoopState } from '../../src/algorithms/loop-types.ts';

describe('the change rule of a general student', () => {
  const centres = matrix(2, 2, Float64Array.from([0, 0, 5, 5]));
  const t = 0.2;
  const { a, sigma } = forwardCoefficients(t);
  it('measures a spread or weight change in data units over the noise scale sqrt(c v)', () => {
    const s = initialStudent('spherical', 'learned', 2, 2, 4);
    const moved = copyStudent(s);
    moved.gamma.data[1] = moved.gamma.data[1]! + 0.1;
    const c = variancesOf(moved, 2).data[2]!;
    const noise = Math.sqrt(c * (a * a * c + sigma * sigma));
    // sqrt(d c dgamma^2 / 4) over sqrt(c v): only component 1 moved.
    const expected = Math.sqrt((2 * c * 0.01) / 4) / noise;
    expect(Math.abs(studentChange(centres, centres, s, moved, t) - expected)).toBeLessThanOrEqual(1e-12 * expected);
    const heavier = copyStudent(s);
    heavier.beta[0] = 0.2;
    const dLogPi = Math.abs(Math.log(weightsOf(heavier.beta)[0]!) - Math.log(0.5));
    const c0 = variancesOf(s, 2).data[0]!;
    const byWeight = (Math.sqrt(c0) * dLogPi) / Math.sqrt(c0 * (a * a * c0 + sigma * sigma));
    expect(studentChange(centres, centres, s, heavier, t)).toBeGreaterThanOrEqual(byWeight * (1 - 1e-12));
    expect(studentChange(centres, centres, s, s, t)).toBe(0);
  });
  it('at c = 1 a centre move counts as the paper\'s change rule counts it', () => {
    const s = initialStudent('diag', 'equal', 2, 2, 1);
    const after = matrix(2, 2, Float64Array.from([0, 0.3, 5, 5]));
    // c = 1 + floor, v = a^2 c + sigma^2 = 1 up to the floor: the noise scale is 1.
    expect(Math.abs(studentChange(centres, after, s, s, t) - 0.3)).toBeLessThanOrEqual(1e-5);
  });
});

describe('the screened fit of a general student', () => {
  const mix = spreadMixture(3, 150);
  const opts = { k: mix.truth.rows, covariance: 'spherical' as const, weights: 'learned' as const, logEvery: 5 };
  it('a run checkpointed inside the averaging tail resumes to the same bits, gamma and beta included', async () => {
    const cpu = new CpuBackend();
    const full = await fitSchedule(cpu, mix.data, 'screened', opts);
    let inTail: LoopState | undefined;
    await fitSchedule(cpu, mix.data, 'screened', opts, undefined, {
      onCheckpoint: (state) => {
        if (!inTail && state.average && state.average.count === 2) inTail = state;
      },
      checkpointEvery: 1,
    });
    expect(inTail?.average?.student).toBeDefined();
    const fp = 'x';
    const resumed = await fitSchedule(cpu, mix.data, 'screened', opts, undefined, { resume: stateFromCheckpoint(JSON.parse(serializeCheckpoint(inTail!, fp, 0)), fp, 0) });
    expect(Array.from(resumed.centres.data)).toEqual(Array.from(full.centres.data));
    expect(Array.from(resumed.student!.gamma.data)).toEqual(Array.from(full.student!.gamma.data));
    expect(Array.from(resumed.student!.beta)).toEqual(Array.from(full.student!.beta));
  });
  it('the averaging tail returns the mean of the chunk-end gamma and log pi', () => {
    const stage = { kind: 'gd' as const, name: 'tail', noiseScale: 0.2, lr: 1, maxSteps: 15, stop: { kind: 'none' as const }, average: true };
    const run = stageKind(stage).start(stage, undefined as never);
    const iterates = [0.3, -0.2, 0.5].map((shift, n) => {
      const s = initialStudent('diag', 'learned', 2, 2, 1 + n);
      s.beta[0] = shift;
      s.beta[1] = 7 + n; // softmax's shift: log pi, not beta, is averaged
      return s;
    });
    for (const s of iterates) run.report(matrix(2, 2), s);
    const out = run.finish(matrix(2, 2), false, true).student!;
    for (let q = 0; q < 4; q++) {
      const mean = iterates.reduce((p, s) => p + s.gamma.data[q]!, 0) / 3;
      // Three additions and a product: a few eps relative.
      expect(Math.abs(out.gamma.data[q]! - mean)).toBeLessThanOrEqual(8 * Number.EPSILON * Math.abs(mean));
    }
    const meanLogPi = [0, 1].map((i) => iterates.reduce((p, s) => p + Math.log(weightsOf(s.beta)[i]!), 0) / 3);
    const got = weightsOf(out.beta);
    const want = weightsOf(Float64Array.from(meanLogPi));
    for (let i = 0; i < 2; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-14);
  });
});

describe('the estimator keeps what the general student learned', () => {
  it('spreads 0.5 and 1.5 and weights 0.7 and 0.3 come back within the fit\'s jitter', async () => {
    // Two blobs in d = 2, N = 2000 (counts exactly 1400 and 600).
    const X = matrix(2000, 2);
    const z = noiseMatrix(2, 0, 2000, 2, STREAM_DATA_GENERATOR);
    for (let n = 0; n < 2000; n++) {
      const i = n < 1400 ? 0 : 1;
      for (let j = 0; j < 2; j++) X.data[n * 2 + j] = (i === 0 ? -4 : 4) + (i === 0 ? 0.5 : 1.5) * z.data[n * 2 + j]!;
    }
    const m = new DdpmGmm({ nComponents: 2, covariance: 'spherical', weights: 'learned', backend: 'cpu' });
    await m.fit(X);
    expect(m.student).toBeDefined();
    const order = m.means!.data[0]! < m.means!.data[2]! ? [0, 1] : [1, 0];
    // In the data's units, through the default per-feature scaling (docs/math.md section 15).
    const { variances, weights: pi } = m.variancesAndWeights!;
    const c = variances.data;
    // The sample variance of n points in d = 2 has relative sd 1 / sqrt(n) (about 3% at n = 600); the fit's fresh-noise
    // jitter after averaging is of the same order: 15% is five times that, and c = 1 (the start before this fit) fails it.
    expect(Math.abs(c[order[0]! * 2]! / 0.25 - 1)).toBeLessThan(0.15);
    expect(Math.abs(c[order[1]! * 2]! / 2.25 - 1)).toBeLessThan(0.15);
    // The weights' sampling sd is about sqrt(0.21 / 2000) = 0.01; 0.05 is five times it, and 1/K = 0.5 fails it.
    expect(Math.abs(pi[order[0]!]! - 0.7)).toBeLessThan(0.05);
  });
});
