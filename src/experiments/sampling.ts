// The sampling experiments (docs/math.md section 11; docs/experiments.md, 'Sampling'): how the samplers' error
// depends on the horizon T and the step h, samples from learned centres against samples from the truth,
// Langevin dynamics against reverse diffusion as modes separate, and the centre error's sample complexity.
// Each returns table rows and curves like the suite's other experiments; --quick shrinks n, the grids and
// the seed counts so that all four together take well under a minute on a software adapter.
import { fitEm, fitSchedule, kmeansPlusPlus, warmStart, type ScheduleName } from '../algorithms/index.ts';
import { mixtureSamples } from '../estimator.ts';
import { generateMixture, trueCentres } from '../mixtures.ts';
import { centreError } from '../centre-error.ts';
import { defaultHorizon, defaultSteps, resolveSampleOptions } from '../sample-options.ts';
import type { Integrator, SamplerOptions } from '../sampling/options.ts';
import { matrix, type Matrix } from '../types.ts';
import { type Backend } from '../backend.ts';
import { capped, timed, type Curve, type Experiment, type Row } from './common.ts';
import { fitLine, interval, mean, measure, nullLevel, num, REFERENCE, NULL_OFFSET, sd, type Measured, type NullLevel } from './sampling-support.ts';

export { fitLine, type LineFit } from './sampling-support.ts';

// ---------------------------------------------------------------------------------------------
// sampler: D against T and h, per integrator

const INTEGRATORS: readonly { readonly label: string; readonly method: 'reverse' | 'ode'; readonly integrator: Integrator }[] = [
  { label: 'exponential', method: 'reverse', integrator: 'exponential' },
  { label: 'euler-maruyama', method: 'reverse', integrator: 'euler-maruyama' },
  { label: 'heun (ode)', method: 'ode', integrator: 'heun' },
];

/**
 * The window of a slope fit: E[D^2] at least ABOVE_FLOOR times the null's (so the excess, 3x the null at the
 * least, stands clear of a single run's spread, whose sd is about 0.6 of the null mean), and D at most
 * BELOW_SATURATION, where D is still small against the distribution's spread (E||X - X'|| is about 4 here)
 * and the error terms are in their asymptotic regime rather than saturating.
 */
const ABOVE_FLOOR = 4;
const BELOW_SATURATION = 0.5;

function inWindow(m: Measured, level: NullLevel): boolean {
  return m.meanD2 >= ABOVE_FLOOR * level.meanD2 && m.meanD <= BELOW_SATURATION;
}

const WINDOW = `E[D^2] >= ${ABOVE_FLOOR}x the null's and D <= ${BELOW_SATURATION}`;

const sampler: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const [k, d, sep] = [3, 2, 6];
  const centres = trueCentres(k, d, sep, 21);
  const n = capped(o, quick ? 3000 : 10000);
  const reps = quick ? 1 : 4;
  const nullReps = quick ? 10 : 20;
  // The fit windows span a factor of about 4 (quick) to 9 (full) in D: grids fine enough to put 3-8 points in them.
  const horizons = quick ? [1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 4] : [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.5, 5, 6];
  const smallH = quick ? 200 : 800;
  const stepCounts = quick ? [6, 8, 11, 16, 23, 32, 45, 64, 90, 128] : [4, 5, 6, 7, 8, 10, 11, 13, 16, 19, 23, 27, 32, 38, 45, 54, 64, 90, 128, 256];
  const bigT = 8;
  const rows: Row[] = [];
  const curves: Curve[] = [];
  const setting = `K=${k} d=${d} sep=${sep} n=${n}`;
  log(`sampler ${setting}: null level`);
  const level = await nullLevel(backend, centres, n, nullReps);
  rows.push({ experiment: 'sampler', setting, method: 'direct vs direct (null)', value: level.meanD, valueName: 'distance', steps: NaN, seconds: NaN, note: `sd ${num(level.sdD)} over ${nullReps} pairs` });

  // The defaults of DdpmGmm.sample (src/sample-options.ts), against the null level.
  const plan = resolveSampleOptions(centres, n, {}) as SamplerOptions;
  const def = await measure(backend, centres, n, nullReps, (r) => ({ ...plan, seed: 700 + r }), level);
  const defSteps = defaultSteps(n);
  // The ratio's standard error from the paired differences: run r and null pair r share reference set r.
  const ratioSe = sd(def.d2.map((x, r) => x - level.d2[r]!)) / Math.sqrt(nullReps) / level.meanD2;
  rows.push({
    experiment: 'sampler',
    setting,
    method: 'sample() defaults',
    value: def.meanD,
    valueName: 'distance',
    steps: defSteps,
    seconds: def.seconds,
    note: `exponential, geometric, T=${num(defaultHorizon(centres))}, S=${defSteps}; E[D^2] / null ${num(def.meanD2 / level.meanD2)} +- ${num(ratioSe, 2)}; bound mean + 4 sd = ${num(level.meanD + 4 * level.sdD)}`,
  });

  for (const ig of INTEGRATORS) {
    // Regime 1: D against T at a small step (a fine geometric grid): the start's e^{-T} term.
    log(`sampler ${ig.label}: against T`);
    const vsT: [number, number][] = [];
    const fitT: [number, number][] = [];
    for (const T of horizons) {
      const m = await measure(backend, centres, n, reps, (r) => ({ method: ig.method, integrator: ig.integrator, horizon: T, tMin: 0, steps: smallH, grid: 'geometric', seed: 10 * r + 1 }), level);
      vsT.push([T, m.meanD]);
      if (inWindow(m, level)) fitT.push([T, Math.log(m.excess)]);
    }
    curves.push({ experiment: 'sampler, T', label: ig.label, points: vsT, xLabel: `horizon T (S=${smallH}, geometric)`, yLabel: 'D to direct samples' });
    const ft = fitLine(fitT.map((p) => p[0]), fitT.map((p) => p[1]));
    rows.push({
      experiment: 'sampler',
      setting: `${setting} S=${smallH} geometric, T in [${horizons[0]}, ${horizons[horizons.length - 1]}]`,
      method: `${ig.label}: d ln D_excess / dT`,
      value: ft.slope,
      valueName: 'slope',
      steps: ft.points,
      seconds: NaN,
      note: `${interval(ft)} over the ${ft.points} points with ${WINDOW}; the e^{-T} term: -1`,
    });

    // Regime 2: D against h at a large T (a uniform grid, h = T / S): the discretisation term.
    log(`sampler ${ig.label}: against h`);
    const vsH: [number, number][] = [];
    const fitH: [number, number][] = [];
    for (const S of stepCounts) {
      const h = bigT / S;
      const m = await measure(backend, centres, n, reps, (r) => ({ method: ig.method, integrator: ig.integrator, horizon: bigT, tMin: 0, steps: S, grid: 'uniform', seed: 10 * r + 2 }), level);
      vsH.push([h, m.meanD]);
      if (inWindow(m, level)) fitH.push([Math.log(h), Math.log(m.excess)]);
    }
    curves.push({ experiment: 'sampler, h', label: ig.label, points: vsH, xLabel: `step h = T / S (T=${bigT}, uniform)`, yLabel: 'D to direct samples', xScale: 'log' });
    const fh = fitLine(fitH.map((p) => p[0]), fitH.map((p) => p[1]));
    rows.push({
      experiment: 'sampler',
      setting: `${setting} T=${bigT} uniform, h in [${num(bigT / stepCounts[stepCounts.length - 1]!)}, ${num(bigT / stepCounts[0]!)}]`,
      method: `${ig.label}: d ln D_excess / d ln h`,
      value: fh.slope,
      valueName: 'slope',
      steps: fh.points,
      seconds: NaN,
      note: `${interval(fh)} over the ${fh.points} points with ${WINDOW}; the bound's step term: 0.5 (sqrt(h))`,
    });
  }
  const nullCurve = (exp: string, xs: number[], xScale?: 'log'): Curve => ({
    experiment: exp,
    label: 'direct vs direct (null)',
    points: xs.map((x) => [x, level.meanD]),
    yLabel: 'D to direct samples',
    ...(xScale ? { xScale } : {}),
  });
  curves.push(nullCurve('sampler, T', horizons), nullCurve('sampler, h', stepCounts.map((S) => bigT / S), 'log'));
  log('sampler: done');
  return {
    rows,
    curves,
    settings: { k, d, separation: sep, centreSeed: 21, n, reps, nullReps, horizons, smallSteps: smallH, bigHorizon: bigT, stepCounts, fitWindow: WINDOW },
  };
};

// ---------------------------------------------------------------------------------------------
// learned-vs-true: samples from DDPM-GD's centres, EM's and the truth against fresh data

const learnedVsTrue: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const cases = quick
    ? [{ k: 2, d: 8, ns: [400, 4000] }]
    : [
        { k: 2, d: 8, ns: [400, 4000, 40000] },
        { k: 4, d: 8, ns: [800, 8000, 40000] },
      ];
  const sep = 4;
  const n = capped(o, quick ? 2000 : 10000);
  const reps = quick ? 2 : 5;
  const rows: Row[] = [];
  const curves: Curve[] = [];
  for (const { k, d, ns } of cases) {
    const byCentres = new Map<string, [number, number][]>();
    for (const nTrain of ns.map((x) => capped(o, x))) {
      const { data, truth } = generateMixture({ k, d, n: nTrain, separation: sep, seed: 31 });
      const setting = `K=${k} d=${d} sep=${sep} N=${nTrain} n=${n}`;
      log(`learned-vs-true ${setting}: fitting`);
      const schedule: ScheduleName = k === 2 ? 'two-stage' : 'annealed';
      const [ddpm, secDdpm] = await timed(() => fitSchedule(backend, data, schedule, { k, seed: 1 }, truth));
      const [em, se] = await timed(() => fitEm(backend, 'em', data, kmeansPlusPlus(data, k, 1), {}, truth));
      // Fresh data: direct draws from the truth on seeds no reference set uses.
      const fresh = Array.from({ length: reps }, (_, r) => mixtureSamples(truth, n, 5000 + r));
      const distanceOf = async (centres: Matrix, direct: boolean): Promise<number> => {
        const ds: number[] = [];
        for (let r = 0; r < reps; r++) {
          const s = direct ? mixtureSamples(centres, n, 6000 + r) : await backend.sample(centres, n, { ...(resolveSampleOptions(centres, n, {}) as SamplerOptions), seed: 40 + r });
          ds.push(await backend.energyDistance(s, fresh[r]!));
        }
        return mean(ds);
      };
      log(`learned-vs-true ${setting}: sampling`);
      const dTrueDirect = await distanceOf(truth, true);
      const dTrue = await distanceOf(truth, false);
      const dDdpm = await distanceOf(ddpm.means, false);
      const dEm = await distanceOf(em.means, false);
      const errDdpm = centreError(ddpm.means, truth).max;
      const errEm = centreError(em.means, truth).max;
      // The score error eps_sc^2 at t = 0.1, where the sampler's last steps read the score (docs/math.md section 11).
      const scoreErr = async (centres: Matrix) => (await backend.scoreError(centres, truth, 0.1, quick ? 4096 : 65536, 77)).value;
      const [epsDdpm, epsEm] = [await scoreErr(ddpm.means), await scoreErr(em.means)];
      rows.push({ experiment: 'learned-vs-true', setting, method: `reverse, ddpm ${schedule} centres`, value: dDdpm, valueName: 'distance', steps: ddpm.nIter, seconds: secDdpm, em: dEm, note: `centre error ${num(errDdpm)} (EM ${num(errEm)}), score error at t = 0.1 ${num(epsDdpm)} (EM ${num(epsEm)})` });
      rows.push({ experiment: 'learned-vs-true', setting, method: 'reverse, em centres', value: dEm, valueName: 'distance', steps: em.nIter, seconds: se, note: `centre error ${num(errEm)}, score error at t = 0.1 ${num(epsEm)}` });
      rows.push({ experiment: 'learned-vs-true', setting, method: 'reverse, true centres', value: dTrue, valueName: 'distance', steps: NaN, seconds: NaN });
      rows.push({ experiment: 'learned-vs-true', setting, method: 'direct, true centres (null)', value: dTrueDirect, valueName: 'distance', steps: NaN, seconds: NaN, note: `mean over ${reps} fresh sets of n` });
      for (const [label, v] of [[`ddpm ${schedule}`, dDdpm], ['em', dEm], ['truth', dTrue], ['truth, direct', dTrueDirect]] as const) {
        byCentres.set(label, [...(byCentres.get(label) ?? []), [nTrain, v]]);
      }
      log(`learned-vs-true ${setting}: done`);
    }
    for (const [label, points] of byCentres) {
      curves.push({ experiment: 'learned-vs-true', label: `${label} K=${k}`, points, xLabel: 'training N', yLabel: 'D to fresh data', xScale: 'log' });
    }
  }
  return { rows, curves, settings: { cases, separation: sep, dataSeed: 31, n, reps, sampler: 'sample() defaults (reverse, exponential, geometric)' } };
};

// ---------------------------------------------------------------------------------------------
// langevin-vs-diffusion: mode weights as the modes separate

const langevinVsDiffusion: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const seps = quick ? [2, 4, 6, 8] : [1, 2, 3, 4, 5, 6, 8, 10];
  const d = 2;
  const n = capped(o, quick ? 2000 : 10000);
  const stepSize = 0.01;
  const steps = quick ? 1000 : 2000;
  const nullReps = quick ? 4 : 10;
  const rows: Row[] = [];
  const weightCurves = new Map<string, [number, number][]>();
  const distanceCurves = new Map<string, [number, number][]>();
  for (const sep of seps) {
    // One centre at the origin and one at distance sep: N(0, I) starts sit in the first basin, so Langevin
    // from there keeps weight near 1 on it once the barrier is high, while the reverse SDE restores 1/2.
    const centres = matrix(2, d, Float64Array.from([0, 0, sep, 0]));
    const setting = `K=2 d=${d} sep=${sep} n=${n}`;
    log(`langevin-vs-diffusion ${setting}: running`);
    const reference = mixtureSamples(centres, n, REFERENCE);
    const data = mixtureSamples(centres, n, 7000);
    const level = await nullLevel(backend, centres, n, nullReps);
    const runs: [string, () => Promise<Matrix>][] = [
      ['direct (null)', async () => mixtureSamples(centres, n, REFERENCE + NULL_OFFSET)],
      ['reverse diffusion', () => backend.sample(centres, n, { ...(resolveSampleOptions(centres, n, {}) as SamplerOptions), seed: 3 })],
      ['langevin from N(0, I)', () => backend.sample(centres, n, { method: 'langevin', stepSize, steps, seed: 3 })],
      ['langevin from the data', () => backend.sample(centres, n, { method: 'langevin', stepSize, steps, seed: 3, start: data })],
    ];
    for (const [method, run] of runs) {
      const [s, seconds] = await timed(run);
      const w = await backend.modeWeights(s, centres);
      const D = await backend.energyDistance(s, reference);
      rows.push({
        experiment: 'langevin-vs-diffusion',
        setting,
        method,
        value: w.maxDeviation,
        valueName: 'weight error',
        steps: method.startsWith('langevin') ? steps : method === 'direct (null)' ? NaN : defaultSteps(n),
        seconds,
        note: `weights ${w.weights.map((x) => num(x)).join(' / ')}; D ${num(D)} (direct vs direct: ${num(level.meanD)} +- ${num(level.sdD)})`,
      });
      weightCurves.set(method, [...(weightCurves.get(method) ?? []), [sep, w.maxDeviation]]);
      distanceCurves.set(method, [...(distanceCurves.get(method) ?? []), [sep, D]]);
    }
  }
  const curves: Curve[] = [
    ...[...weightCurves].map(([label, points]): Curve => ({ experiment: 'langevin-vs-diffusion, weights', label, points, xLabel: 'separation', yLabel: 'largest |weight - 1/2|', yScale: 'linear' })),
    ...[...distanceCurves].map(([label, points]): Curve => ({ experiment: 'langevin-vs-diffusion, D', label, points, xLabel: 'separation', yLabel: 'D to direct samples' })),
  ];
  log('langevin-vs-diffusion: done');
  return { rows, curves, settings: { seps, centres: '0 and sep e_1', d, n, langevin: { stepSize, steps }, diffusion: 'sample() defaults', nullReps, weightSd: Math.sqrt(0.25 / n) } };
};

// ---------------------------------------------------------------------------------------------
// sample-complexity: centre error against N and d

type Fitter = (backend: Backend, data: Matrix, truth: Matrix, seed: number, sep: number) => Promise<Matrix>;

const FITTERS: readonly [string, Fitter][] = [
  ['ddpm two-stage', async (b, x, truth, seed) => (await fitSchedule(b, x, 'two-stage', { k: 2, seed }, truth)).means],
  ['ddpm projected', async (b, x, truth, seed) => (await fitSchedule(b, x, 'projected', { k: 2, seed }, truth)).means],
  ['ddpm warm', async (b, x, truth, seed, sep) => (await fitSchedule(b, x, 'warm', { k: 2, init: warmStart(truth, sep / 3, seed) }, truth)).means],
  ['em (k-means++)', async (b, x, truth, seed) => (await fitEm(b, 'em', x, kmeansPlusPlus(x, 2, seed), {}, truth)).means],
];

const sampleComplexity: Experiment = async (backend, o, log) => {
  const quick = o.quick;
  const sep = 4;
  const d = quick ? 8 : 32;
  const ns = [...new Set((quick ? [500, 2000, 8000] : [1000, 2000, 4000, 8000, 16000, 32000, 64000]).map((x) => capped(o, x)))];
  const ds = quick ? [4, 16] : [4, 8, 16, 32, 64, 128];
  const perD = quick ? 250 : 500;
  const seeds = quick ? 2 : 5;
  const rows: Row[] = [];
  const curves: Curve[] = [];
  // One sweep: the error of each method at each x (N or d) and data seed; the slope of ln error against ln x.
  const sweep = async (what: 'N' | 'd', xs: number[], spec: (x: number) => { n: number; d: number }): Promise<void> => {
    const errors = new Map<string, { x: number[]; y: number[]; seconds: number }>(FITTERS.map(([name]) => [name, { x: [], y: [], seconds: 0 }]));
    for (const x of xs) {
      const { n, d: dim } = spec(x);
      log(`sample-complexity ${what}=${x} (N=${n}, d=${dim}): ${seeds} seeds`);
      for (let s = 0; s < seeds; s++) {
        const { data, truth } = generateMixture({ k: 2, d: dim, n, separation: sep, seed: 200 + s });
        for (const [name, fit] of FITTERS) {
          const [means, sec] = await timed(() => fit(backend, data, truth, s + 1, sep));
          const e = errors.get(name)!;
          e.x.push(Math.log(x));
          e.y.push(Math.log(centreError(means, truth).max));
          e.seconds += sec;
        }
      }
    }
    const cap = o.maxN !== undefined && what === 'd' && perD * xs[xs.length - 1]! > o.maxN ? ` (at most ${o.maxN})` : '';
    const fixed = what === 'N' ? `d=${d}` : `N=${perD} d${cap}`;
    for (const [name, e] of errors) {
      const f = fitLine(e.x, e.y);
      const at = (x: number): number => Math.exp(mean(e.y.filter((_, i) => e.x[i] === Math.log(x))));
      rows.push({
        experiment: 'sample-complexity',
        setting: `K=2 sep=${sep} ${fixed}, ${what} in [${xs[0]}, ${xs[xs.length - 1]}], ${seeds} seeds`,
        method: `${name}: d ln error / d ln ${what}`,
        value: f.slope,
        valueName: 'slope',
        steps: f.points,
        seconds: e.seconds / f.points,
        note: `${interval(f)}; mean error ${num(at(xs[0]!))} at ${what}=${xs[0]}, ${num(at(xs[xs.length - 1]!))} at ${what}=${xs[xs.length - 1]}; sqrt(d/N): ${what === 'N' ? '-0.5' : '0'}`,
      });
      curves.push({
        experiment: `sample-complexity, ${what}`,
        label: name,
        points: xs.map((x) => [x, at(x)]),
        xLabel: what === 'N' ? `N (d=${d})` : `d (N=${perD} d)`,
        yLabel: 'largest matched error (mean of logs)',
        xScale: 'log',
      });
    }
  };
  await sweep('N', ns, (x) => ({ n: x, d }));
  await sweep('d', ds, (x) => ({ n: capped(o, perD * x), d: x }));
  log('sample-complexity: done');
  return { rows, curves, settings: { k: 2, separation: sep, d, ns, ds, nPerD: perD, seeds, dataSeeds: '200 + s', warmDisplacement: 'sep / 3', interval: 'OLS slope over every (x, seed) point, 95% t interval' } };
};

export const SAMPLING_EXPERIMENTS: Record<string, Experiment> = {
  sampler,
  'learned-vs-true': learnedVsTrue,
  'langevin-vs-diffusion': langevinVsDiffusion,
  'sample-complexity': sampleComplexity,
};
