// The reproduction suite (docs/math.md sections 8-10; docs/experiments.md, 'The reproduction suite'): each
// experiment generates seeded mixtures, runs DDPM-GD schedules and the EM baselines on one Backend, and
// returns table rows and error curves. --quick shrinks N, d, K and the seed count so that the whole suite
// fits in minutes on a software adapter.
import { warmStart } from '../algorithms/seeding.ts';
import {
  centred,
  fitEm,
  fitSchedule,
  gradientEmCosine,
  kmeansPlusPlus,
  averageLogLikelihood,
  powerIterationCosines,
  randomDirection,
  sampleMean,
  type HistoryRow,
  type LoopResult,
} from '../algorithms/index.ts';
import { DivergenceError } from '../errors.ts';
import { generateMixture } from '../mixtures.ts';
import { centreError } from '../centre-error.ts';
import { matrix, type Matrix } from '../types.ts';
import { type Backend } from '../backend.ts';
import { capped, timed, type Curve, type Experiment, type ExperimentResult, type Row, type SuiteOptions } from './common.ts';
import { PIECEWISE_EXPERIMENTS } from './piecewise.ts';
import { SAMPLING_EXPERIMENTS } from './sampling.ts';
import { realData } from './real-data.ts';

export type { Curve, Experiment, ExperimentResult, Row, SuiteOptions } from './common.ts';

function curveOf(experiment: string, label: string, history: HistoryRow[]): Curve {
  return { experiment, label, points: history.filter((h) => h.error !== undefined).map((h) => [h.step + 1, h.error!]) };
}


/** EM from k-means++ seeding: the baseline every row is compared with. */
async function emBaseline(backend: Backend, data: Matrix, k: number, truth: Matrix, seed: number): Promise<[LoopResult, number]> {
  return timed(() => fitEm(backend, 'em', data, kmeansPlusPlus(data, k, seed), {}, truth));
}

const twoStage: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const ds = quick ? [16, 64] : [16, 64, 256, 1024];
  const rows: Row[] = [];
  const curves: Curve[] = [];
  for (const d of ds) {
    // Statistical error about sqrt(d / N): N = 400 d gives 0.05 (full); quick accepts ~0.1-0.15.
    const n = capped(o, quick ? 4000 : Math.max(20000, 400 * d));
    log(`two-stage d=${d} N=${n}: running`);
    const { data, truth } = generateMixture({ k: 2, d, n, separation: 6, seed: 11 });
    const [r, s] = await timed(() => fitSchedule(backend, data, 'two-stage', { k: 2, seed: 1 }, truth));
    const [em, se] = await emBaseline(backend, data, 2, truth, 1);
    const s1 = r.history.filter((h) => h.stage === 'stage 1');
    const angle = s1[s1.length - 1]?.angle ?? NaN;
    const emErr = centreError(em.means, truth).max;
    rows.push({ experiment: 'two-stage', setting: `d=${d} N=${n}`, method: 'ddpm two-stage', value: centreError(r.means, truth).max, valueName: 'error', steps: r.nIter, seconds: s, em: emErr, note: `stage-1 cos ${angle.toFixed(3)} after ${r.stages[0]?.steps} steps` });
    rows.push({ experiment: 'two-stage', setting: `d=${d} N=${n}`, method: 'em (k-means++)', value: emErr, valueName: 'error', steps: em.nIter, seconds: se });
    curves.push(curveOf('two-stage', `ddpm d=${d}`, r.history), curveOf('two-stage', `em d=${d}`, em.history));
    log(`two-stage d=${d}: done`);
  }
  return { rows, curves, settings: { ds, separation: 6, normMuStar: 3, n: quick ? 4000 : '400 d (at least 20000)' } };
};

const smallSeparation: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const norms = quick ? [0.5, 1] : [0.3, 0.5, 1];
  const d = quick ? 16 : 64;
  const n = capped(o, quick ? 8000 : 200000);
  const rows: Row[] = [];
  const curves: Curve[] = [];
  for (const norm of norms) {
    const { data, truth } = generateMixture({ k: 2, d, n, separation: 2 * norm, seed: 12 });
    const setting = `d=${d} |mu*|=${norm} N=${n}`;
    log(`small-separation ${setting}: running`);
    const [p, sp] = await timed(() => fitSchedule(backend, data, 'projected', { k: 2, seed: 1 }, truth));
    // Unprojected: the same stage 1 with the radius so large that the projection never acts.
    const [u, su] = await timed(() => fitSchedule(backend, data, 'projected', { k: 2, seed: 1, radius: 1e6 }, truth));
    const [em, se] = await emBaseline(backend, data, 2, truth, 1);
    const emErr = centreError(em.means, truth).max;
    rows.push({ experiment: 'small-separation', setting, method: 'ddpm projected', value: centreError(p.means, truth).max, valueName: 'error', steps: p.nIter, seconds: sp, em: emErr, note: `R = ${Number(p.plan.settings['R']).toFixed(3)}` });
    rows.push({ experiment: 'small-separation', setting, method: 'ddpm unprojected', value: centreError(u.means, truth).max, valueName: 'error', steps: u.nIter, seconds: su, em: emErr });
    rows.push({ experiment: 'small-separation', setting, method: 'em (k-means++)', value: emErr, valueName: 'error', steps: em.nIter, seconds: se });
    curves.push(curveOf('small-separation', `projected ${norm}`, p.history), curveOf('small-separation', `unprojected ${norm}`, u.history), curveOf('small-separation', `em ${norm}`, em.history));
    log(`small-separation |mu*|=${norm}: done`);
  }
  return { rows, curves, settings: { d, n, norms } };
};

const warm: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const ks = quick ? [4, 16] : [4, 16, 64];
  const cs = quick ? [4] : [2, 4];
  const d = quick ? 32 : 64;
  const rows: Row[] = [];
  const curves: Curve[] = [];
  for (const k of ks) {
    for (const c of cs) {
      const sep = c * Math.sqrt(Math.log(k));
      const n = capped(o, (quick ? 500 : 2000) * k);
      const { data, truth } = generateMixture({ k, d, n, separation: sep, seed: 13 });
      const init = warmStart(truth, sep / 3, 5);
      const setting = `K=${k} C=${c} sep=${sep.toFixed(2)} d=${d} N=${n}`;
      log(`warm-start ${setting}: running`);
      const [r, s] = await timed(() => fitSchedule(backend, data, 'warm', { k, init }, truth));
      const [em, se] = await timed(() => fitEm(backend, 'em', data, init, {}, truth));
      const emErr = centreError(em.means, truth).max;
      rows.push({ experiment: 'warm-start', setting, method: 'ddpm warm', value: centreError(r.means, truth).max, valueName: 'error', steps: r.nIter, seconds: s, em: emErr });
      rows.push({ experiment: 'warm-start', setting, method: 'em (same init)', value: emErr, valueName: 'error', steps: em.nIter, seconds: se });
      curves.push(curveOf('warm-start', `ddpm K=${k} C=${c}`, r.history), curveOf('warm-start', `em K=${k} C=${c}`, em.history));
      log(`warm-start K=${k} C=${c}: done`);
    }
  }
  return { rows, curves, settings: { ks, cs, d, n: `${quick ? 500 : 2000} K`, displacement: 'sep / 3' } };
};

/** Connection 1's two rows: the paper's step (Lemma 8) and the one for docs/math.md section 4's L (section 9). */
const POWER_PAPER = 'cos(DDPM, power iteration)';
const POWER_CORRECTED = 'cos(DDPM, corrected power step)';

const connections: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const rows: Row[] = [];
  const d = quick ? 16 : 64;
  const n = capped(o, quick ? 20000 : 100000);
  // Connection 1: tied K = 2 at a start with a small norm, half along mu* (Lemma 8 holds for any m).
  const two = generateMixture({ k: 2, d, n, separation: 6, seed: 14 });
  const xc = centred(two.data, sampleMean(two.data));
  const muStar = matrix(1, d, two.truth.data.slice(0, d).map((v, c) => (v - two.truth.data[d + c]!) / 2));
  const rnd = randomDirection(d, 1, 3);
  const mu = matrix(1, d, muStar.data.map((v, c) => 0.3 * v + rnd.data[c]!));
  // Two rows per t from one DDPM gradient: the paper's step 2 m* m*^T m - 3 ||m||^2 m, and the expansion for
  // docs/math.md section 4's L, 4 m* m*^T m - 4 ||m||^2 m (section 9).
  for (const t of quick ? [0.5, 1, 2, 3] : [0.25, 0.5, 1, 2, 3, 4]) {
    const [cos, s] = await timed(() => powerIterationCosines(backend, xc, mu, muStar, t, 0, 4));
    const setting = `t=${t} d=${d} N=${n}`;
    rows.push({ experiment: 'connections', setting, method: POWER_PAPER, value: cos.paper, valueName: 'cosine', steps: 4, seconds: s });
    rows.push({ experiment: 'connections', setting, method: POWER_CORRECTED, value: cos.corrected, valueName: 'cosine', steps: 4, seconds: s, note: 'same gradient as the row above' });
  }
  // Connection 2: K = 4 near the truth (each centre displaced by 0.5).
  const four = generateMixture({ k: 4, d, n, separation: 8, seed: 15 });
  const near = warmStart(four.truth, 0.5, 6);
  for (const t of quick ? [0.1, 0.5, 1, 2] : [0.05, 0.1, 0.25, 0.5, 1, 2]) {
    const [cos, s] = await timed(() => gradientEmCosine(backend, four.data, near, t, 0));
    rows.push({ experiment: 'connections', setting: `t=${t} d=${d} N=${n} K=4`, method: 'cos(DDPM, gradient EM)', value: cos, valueName: 'cosine', steps: 1, seconds: s });
  }
  log('connections: done');
  const cosineCurve = (method: string, label: string): Curve => ({
    experiment: 'connections',
    label,
    points: rows.filter((r) => r.method === method).map((r) => [Number(/^t=([^ ]+)/.exec(r.setting)![1]), r.value]),
    xLabel: 't',
    yLabel: 'cosine with the DDPM step',
    yScale: 'linear',
  });
  const curves = [
    cosineCurve(POWER_PAPER, 'power iteration, paper (K = 2)'),
    cosineCurve(POWER_CORRECTED, 'power iteration, corrected (K = 2)'),
    cosineCurve('cos(DDPM, gradient EM)', 'gradient EM (K = 4)'),
  ];
  return { rows, curves, settings: { d, n, connection1: 'mu = 0.3 mu* + unit random; paper: 2 m* m*^T m - 3 |m|^2 m; corrected: 4 m* m*^T m - 4 |m|^2 m', connection2: 'K=4, sep 8, each centre displaced by 0.5' } };
};

const annealed: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const ks = quick ? [4, 8] : [4, 8, 16];
  const seeds = quick ? 3 : 20;
  const restarts = quick ? 3 : 10;
  const d = quick ? 16 : 32;
  const rows: Row[] = [];
  for (const k of ks) {
    const sep = 4 * Math.sqrt(Math.log(k));
    const n = capped(o, (quick ? 300 : 1000) * k);
    let okA = 0;
    let okE = 0;
    let okE10 = 0;
    let sA = 0;
    let sE = 0;
    let stepsA = 0;
    let stepsE = 0;
    for (let seed = 0; seed < seeds; seed++) {
      log(`annealed K=${k} N=${n}: seed ${seed + 1} of ${seeds}`);
      const { data, truth } = generateMixture({ k, d, n, separation: sep, seed: 100 + seed });
      const ok = (m: Matrix): boolean => m.data.every(Number.isFinite) && centreError(m, truth).max <= sep / 4;
      // A diverged run counts as a failure of the schedule, not of the suite.
      const [a, ta] = await timed(() =>
        fitSchedule(backend, data, 'annealed', { k, seed }, truth).catch((e: unknown) => {
          if (e instanceof DivergenceError) return { means: matrix(k, d, new Float64Array(k * d).fill(NaN)), nIter: e.step };
          throw e;
        }),
      );
      const [e, te] = await timed(() => fitEm(backend, 'em', data, kmeansPlusPlus(data, k, seed), {}, truth));
      let best = e;
      let bestLl = averageLogLikelihood(data, e.means);
      for (let r = 1; r < restarts; r++) {
        const er = await fitEm(backend, 'em', data, kmeansPlusPlus(data, k, seed + 1000 * r), {}, truth);
        const ll = averageLogLikelihood(data, er.means);
        if (ll > bestLl) {
          best = er;
          bestLl = ll;
        }
      }
      okA += ok(a.means) ? 1 : 0;
      okE += ok(e.means) ? 1 : 0;
      okE10 += ok(best.means) ? 1 : 0;
      sA += ta;
      sE += te;
      stepsA += a.nIter;
      stepsE += e.nIter;
    }
    const setting = `K=${k} d=${d} N=${n} sep=${sep.toFixed(2)} ${seeds} seeds`;
    rows.push({ experiment: 'annealed', setting, method: 'ddpm annealed (k-means++)', value: okA / seeds, valueName: 'success', steps: stepsA / seeds, seconds: sA / seeds, em: okE / seeds });
    rows.push({ experiment: 'annealed', setting, method: 'em k-means++ x1', value: okE / seeds, valueName: 'success', steps: stepsE / seeds, seconds: sE / seeds });
    rows.push({ experiment: 'annealed', setting, method: `em k-means++ x${restarts} best ll`, value: okE10 / seeds, valueName: 'success', steps: NaN, seconds: NaN });
    log(`annealed K=${k}: done`);
  }
  return { rows, curves: [], settings: { ks, d, seeds, restarts, separation: '4 sqrt(ln K)', success: 'every centre within sep / 4' } };
};

export const EXPERIMENTS: Record<string, Experiment> = {
  'two-stage': twoStage,
  'small-separation': smallSeparation,
  'warm-start': warm,
  connections,
  annealed,
  // The sampling experiments (docs/experiments.md, 'Sampling') live in sampling.ts.
  ...SAMPLING_EXPERIMENTS,
  // The piecewise score model against the student and full-covariance EM (docs/experiments.md) lives in piecewise.ts.
  ...PIECEWISE_EXPERIMENTS,
  // Raw real and generated data against scikit-learn (docs/experiments.md, 'Real data') lives in real-data.ts.
  'real-data': realData,
};
