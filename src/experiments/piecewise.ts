// The piecewise experiment (docs/math.md section 13; docs/experiments.md, 'The piecewise score model'): the
// energy distance of samples to held-out data against N, and the score error against t, for the paper's
// student (the annealed schedule; also through the piecewise sampler), the piecewise model (hard cells at
// degree 1 and 2, soft gates at degree 1) and full-covariance EM, on a
// balanced isotropic mixture (where the student is the exact model class) and on mixtures with unequal
// weights and anisotropic, different covariances.
import { fitSchedule } from '../algorithms/index.ts';
import { DivergenceError } from '../errors.ts';
import { trueCentres } from '../mixtures.ts';
import { matrix, type Matrix } from '../matrix.ts';
import { fitEmFull } from '../full-covariance/em.ts';
import { fitPiecewise, LADDER_DEFAULTS } from '../piecewise/fit.ts';
import { gaussianMixture, generateGaussianMixture, sampleGaussianMixture, sphericalMixture, type GaussianMixture } from '../full-covariance/mixture.ts';
import type { CellAssignment, PiecewiseDegree, PiecewiseModel } from '../piecewise/model.ts';
import { defaultSteps, resolveSampleOptions } from '../sample-options.ts';
import { scoreError } from '../metrics/cpu.ts';
import { sampleReference } from '../sampling/cpu-sampler.ts';
import type { SamplerOptions } from '../sampling/options.ts';
import { capped, timed, type Curve, type Experiment, type Row } from './common.ts';
import { mean, num } from './sampling-support.ts';

interface Case {
  readonly name: string;
  readonly mixture: GaussianMixture;
}

/**
 * The experiment's mixtures (docs/experiments.md, 'The piecewise score model'), for its benches too: (a) balanced
 * isotropic; (b) unequal weights, anisotropic covariances, d = 2; (c) the same kind in d = 4.
 */
export const PIECEWISE_MIXTURES = {
  a: sphericalMixture(trueCentres(3, 2, 6, 21)),
  b: gaussianMixture([0.6, 0.3, 0.1], matrix(3, 2, Float64Array.from([0, 0, 5, 1, -2, 5])), [2, 0.8, 0.8, 0.6, 0.3, 0, 0, 1.5, 1, -0.5, -0.5, 0.4]),
  c: gaussianMixture([0.75, 0.25], matrix(2, 4, Float64Array.from([0, 0, 0, 0, 4, 0, 2, 0])), [
    ...[3, 0.8, 0, 0, 0.8, 1, 0, 0, 0, 0, 0.5, 0.2, 0, 0, 0.2, 0.3],
    ...[0.4, 0, 0, 0, 0, 2, -0.6, 0, 0, -0.6, 1, 0, 0, 0, 0, 0.6],
  ]),
} as const;

function cases(quick: boolean): Case[] {
  const iso: Case = { name: 'isotropic K=3 d=2', mixture: PIECEWISE_MIXTURES.a };
  const aniso2: Case = { name: 'anisotropic K=3 d=2', mixture: PIECEWISE_MIXTURES.b };
  const aniso4: Case = { name: 'anisotropic K=2 d=4', mixture: PIECEWISE_MIXTURES.c };
  return quick ? [iso, aniso2] : [iso, aniso2, aniso4];
}

const SCORE_TIMES = [0.01, 0.03, 0.1, 0.3, 1, 3];
/** The fit's default ladder: T = 8 (q_T is N(0, I) to e^{-8} for these means), 32 levels down to 0.01, R = 2. */
const LADDER = LADDER_DEFAULTS;

type Source = Matrix | PiecewiseModel | GaussianMixture;

/** The piecewise rows: hard cells at degree 1 and 2, and soft gates (the within-cell tau rule) at J = 4K. */
const PIECEWISE_VARIANTS: [string, { cellsPerK: number; degree: PiecewiseDegree; assignment: CellAssignment }][] = [
  ['piecewise degree 1, J = 4K', { cellsPerK: 4, degree: 1, assignment: 'hard' }],
  ['piecewise degree 2, J = 4K', { cellsPerK: 4, degree: 2, assignment: 'hard' }],
  ['piecewise soft, degree 1, J = 4K', { cellsPerK: 4, degree: 1, assignment: 'soft' }],
];

interface Method {
  readonly label: string;
  fit(data: Matrix, K: number): Promise<{ score: Source; steps: number }>;
  sample(score: Source, n: number, seed: number): Promise<Matrix>;
}

const ORACLE = "truth's components, the training set's weights (reverse diffusion)";

/** The weights' floor: the mixture's own components with the weights of a training set (the fraction of its labels). */
export function weightsFloor(mixture: GaussianMixture, labels: Int32Array): GaussianMixture {
  const w = new Float64Array(mixture.weights.length);
  for (const l of labels) w[l] = w[l]! + 1 / labels.length;
  return gaussianMixture(w, mixture.means, mixture.covariances);
}

const piecewiseSampler = (n: number, seed: number): SamplerOptions => ({ method: 'reverse', integrator: 'exponential', horizon: LADDER.horizon, tMin: 0, steps: defaultSteps(n), grid: 'geometric', seed });

export const piecewiseExperiment: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const ns = [...new Set((quick ? [2000, 8000] : [1000, 4000, 16000, 64000]).map((x) => capped(o, x)))];
  const n = capped(o, quick ? 1500 : 4000);
  // D of one held-out set of n = 4000 ranges over 0.02-0.08 for the truth itself: 8 sets put the mean's error near 0.005.
  const reps = quick ? 1 : 8;
  const scoreSamples = quick ? 1000 : 10000;
  let student: { score: Source; steps: number } | undefined;
  const methods: Method[] = [
    {
      label: "student (paper's, annealed)",
      fit: async (data, K) => {
        const r = await fitSchedule(backend, data, 'annealed', { k: K, seed: 1 });
        return (student = { score: r.means, steps: r.nIter });
      },
      sample: (score, m, seed) => backend.sample(score as Matrix, m, { ...(resolveSampleOptions(score as Matrix, m, {}) as SamplerOptions), seed }),
    },
    {
      // The same fit through the piecewise rows' sampler and seeds: their D differ by the score alone.
      label: 'student, sampled as the piecewise rows',
      fit: async () => student!,
      sample: async (score, m, seed) => sampleReference(score, m, piecewiseSampler(m, seed)),
    },
    ...PIECEWISE_VARIANTS.map(
      ([label, o]): Method => ({
        label,
        fit: async (data, K) => ({ score: (await fitPiecewise(data, { ...LADDER, cells: o.cellsPerK * K, degree: o.degree, assignment: o.assignment, seed: 1 })).model, steps: LADDER.levels }),
        sample: async (score, m, seed) => sampleReference(score, m, piecewiseSampler(m, seed)),
      }),
    ),
    {
      label: 'em full covariance, best of 5 (direct draws)',
      fit: async (data, K) => {
        const r = fitEmFull(data, K, { seed: 1, nInit: 5 });
        return { score: r.mixture, steps: r.nIter };
      },
      sample: async (score, m, seed) => sampleGaussianMixture(score as GaussianMixture, m, seed),
    },
  ];
  const rows: Row[] = [];
  const curves: Curve[] = [];
  for (const c of cases(quick)) {
    const K = c.mixture.means.rows;
    // Held-out data: fresh draws from the truth on seeds that no training set uses.
    const heldOut = Array.from({ length: reps }, (_, r) => generateGaussianMixture(c.mixture, n, 9000 + r).data);
    const nulls: number[] = [];
    for (let r = 0; r < reps; r++) nulls.push(await backend.energyDistance(sampleGaussianMixture(c.mixture, n, 9500 + r), heldOut[r]!));
    const truthD: number[] = [];
    for (let r = 0; r < reps; r++) truthD.push(await backend.energyDistance(sampleReference(c.mixture, n, piecewiseSampler(n, 40 + r)), heldOut[r]!));
    const byMethod = new Map<string, [number, number][]>();
    const studentD = new Map<number, number>();
    const sameSamplerD = new Map<number, number>();
    let last: { label: string; score: Source }[] = [];
    for (const N of ns) {
      const { data, labels } = generateGaussianMixture(c.mixture, N, 31);
      const setting = `${c.name} N=${N} n=${n}`;
      last = [];
      // What learning the weights costs at this N: the true components with the training set's own weights.
      const oracle = weightsFloor(c.mixture, labels);
      const oracleD: number[] = [];
      for (let r = 0; r < reps; r++) oracleD.push(await backend.energyDistance(sampleReference(oracle, n, piecewiseSampler(n, 40 + r)), heldOut[r]!));
      rows.push({ experiment: 'piecewise', setting, method: ORACLE, value: mean(oracleD), valueName: 'distance', steps: defaultSteps(n), seconds: NaN, note: `weights ${[...oracle.weights].map((w) => w.toFixed(4)).join(' / ')}` });
      byMethod.set(ORACLE, [...(byMethod.get(ORACLE) ?? []), [N, mean(oracleD)]]);
      for (const m of methods) {
        log(`piecewise ${setting}: ${m.label}`);
        const [fit, seconds] = await timed(() => m.fit(data, K));
        last.push({ label: m.label, score: fit.score });
        let D = NaN;
        let note = '';
        try {
          const ds: number[] = [];
          for (let r = 0; r < reps; r++) ds.push(await backend.energyDistance(await m.sample(fit.score, n, 40 + r), heldOut[r]!));
          D = mean(ds);
        } catch (e) {
          if (!(e instanceof DivergenceError)) throw e;
          note = `sampling diverged at step ${e.step}`;
        }
        // Against the student's own row, and paired against it through this row's sampler, seeds and held-out sets.
        if (m.label.startsWith('student (')) studentD.set(N, D);
        else {
          const paired = sameSamplerD.get(N);
          if (m.label.startsWith('student, sampled')) sameSamplerD.set(N, D);
          note ||= `D / student's ${num(D / studentD.get(N)!)}${paired === undefined ? '' : `; / same-sampler row ${num(D / paired)}`}`;
        }
        rows.push({ experiment: 'piecewise', setting, method: m.label, value: D, valueName: 'distance', steps: fit.steps, seconds, note });
        byMethod.set(m.label, [...(byMethod.get(m.label) ?? []), [N, D]]);
      }
    }
    const reference = `${c.name} n=${n}`;
    rows.push({ experiment: 'piecewise', setting: reference, method: 'truth, reverse diffusion (exact score)', value: mean(truthD), valueName: 'distance', steps: defaultSteps(n), seconds: NaN });
    rows.push({ experiment: 'piecewise', setting: reference, method: 'truth, direct draws (null)', value: mean(nulls), valueName: 'distance', steps: NaN, seconds: NaN, note: `mean over ${reps} held-out sets of n` });
    for (const [label, points] of byMethod) curves.push({ experiment: `piecewise, D: ${c.name}`, label, points, xLabel: 'training N', yLabel: 'D to held-out data', xScale: 'log' });
    curves.push({ experiment: `piecewise, D: ${c.name}`, label: 'truth, direct (null)', points: ns.map((N) => [N, mean(nulls)]), xLabel: 'training N', yLabel: 'D to held-out data', xScale: 'log' });
    // The score error against t at the largest N.
    for (const { label, score } of last.filter((x) => !x.label.startsWith('student, sampled'))) {
      const errs = SCORE_TIMES.map((t) => scoreError(score, c.mixture, t, scoreSamples, 1).value);
      curves.push({ experiment: `piecewise, score error: ${c.name} N=${ns[ns.length - 1]}`, label, points: SCORE_TIMES.map((t, i) => [t, errs[i]!]), xLabel: 't', yLabel: 'score error eps^2(t)', xScale: 'log' });
      rows.push({
        experiment: 'piecewise',
        setting: `${c.name} N=${ns[ns.length - 1]}, ${scoreSamples} draws`,
        method: `${label}: score error`,
        value: errs[SCORE_TIMES.indexOf(0.1)]!,
        valueName: 'error',
        steps: NaN,
        seconds: NaN,
        note: `eps^2 at t = ${SCORE_TIMES.join(', ')}: ${errs.map((e) => num(e)).join(', ')}`,
      });
    }
  }
  log('piecewise: done');
  return { rows, curves, settings: { ns, n, reps, scoreSamples, scoreTimes: SCORE_TIMES, ladder: LADDER, cells: '4 K', dataSeed: 31, heldOutSeeds: '9000 + r', sampler: 'reverse, exponential, geometric to 0, T = 8 (piecewise, truth); sample() defaults (student); direct draws (EM)' } };
};

export const PIECEWISE_EXPERIMENTS: Record<string, Experiment> = { piecewise: piecewiseExperiment };
