// Where the piecewise model's gap to the student on the isotropic mixture comes from (docs/experiments.md, 'The
// piecewise score model': 'The ladder'), in the experiment's protocol: D of n = 4000 reverse-diffusion samples
// (T = 8, geometric, defaultSteps(n), seeds 40 + r) to 8 held-out sets (seeds 9000 + r), the data seed 31.
//
//   node bin/run-ts.js research/piecewise-ladder.ts bands  [N, default 4000] [fit seeds, default 1]
//     the piecewise score (the fit's defaults, J = 4K) in one band of t and the exact score elsewhere, with the
//     modes' weights of the first sample set (mixture (a)); and the truth with the training set's own weights
//   node bin/run-ts.js research/piecewise-ladder.ts exact  [mixture a|b|c, default a]
//     the exact score read only at the L levels of the ladder, between them linear in t, nearest in ln t, or
//     'scaled' (each level read at x a_l / a_t, times a_t / a_l: exact for unit-covariance components)
//   node bin/run-ts.js research/piecewise-ladder.ts fits   [mixture] [Ns, default 4000,16000] [configs] [fit seeds, default 1,2,3]
//     piecewise fits, configs such as 'L16R4:linear,scaled L32R2deg2:linear L32R2soft:linear L32R2J1soft:linear'
//     (L levels, R draws, J cells per component, default 4)
//   node bin/run-ts.js research/piecewise-ladder.ts seeds  [mixture] [Ns, default 4000,16000] [data seeds, default 31,32,33,34,35,36] [configs]
//     over several training sets: the student, the true components with the training set's own weights, and
//     piecewise fits (fit seed 1; 'default' is the fit's defaults at J = 4K, or configs as for 'fits'), each as D
//     and as a multiple of the student's
import { fitSchedule } from '../src/algorithms/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { PIECEWISE_MIXTURES, weightsFloor } from '../src/experiments/piecewise.ts';
import { matrix, type Matrix } from '../src/matrix.ts';
import { fitPiecewise, ladderTimes } from '../src/piecewise/fit.ts';
import { generateGaussianMixture, type GaussianMixture } from '../src/full-covariance/mixture.ts';
import { levelWeights, type LevelInterpolation, type PiecewiseLevel, type PiecewiseModel } from '../src/piecewise/model.ts';
import { defaultSteps } from '../src/sample-options.ts';
import { energyDistance, modeWeights } from '../src/metrics/cpu.ts';
import { sampleWithEvaluator } from '../src/sampling/cpu-sampler.ts';
import { scoreEvaluator, type ScoreEvaluator, type ScoreSource } from '../src/sampling/score-source.ts';

const MIXTURES: Record<string, GaussianMixture> = PIECEWISE_MIXTURES;
const [n, reps] = [4000, 8];
const sampler = (seed: number) => ({ method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: defaultSteps(n), grid: 'geometric', seed }) as const;

/** D averaged over the 8 held-out sets, and the modes' weights of the first sample set. */
function measure(mix: GaussianMixture, evaluator: () => ScoreEvaluator): { D: number; weights: string } {
  const d = mix.means.cols;
  let [D, weights] = [0, ''];
  for (let r = 0; r < reps; r++) {
    const y = sampleWithEvaluator(evaluator, d, n, sampler(40 + r));
    D += energyDistance(y, generateGaussianMixture(mix, n, 9000 + r).data) / reps;
    if (r === 0) weights = [...modeWeights(y, mix.means).weights].map((w) => w.toFixed(4)).join(' ');
  }
  return { D, weights };
}

/** `inside(t)` picks the source of each step's score. */
function switching(inside: (t: number) => boolean, a: ScoreSource, b: ScoreSource): () => ScoreEvaluator {
  return () => {
    const [ea, eb] = [scoreEvaluator(a), scoreEvaluator(b)];
    let e = ea;
    return { setTime: (t, at) => (e = inside(t) ? ea : eb).setTime(t, at), rowInto: (y, yo, out, oo) => e.rowInto(y, yo, out, oo) };
  };
}

/** A score given at the levels only (`at(l)`), read between them linear, nearest or scaled (see the header). */
function between(levels: readonly PiecewiseLevel[], at: (l: number) => ScoreEvaluator, mode: LevelInterpolation | 'scaled', d: number): () => ScoreEvaluator {
  return () => {
    const evs = levels.map((_, l) => at(l));
    const [y, s] = [new Float64Array(d), new Float64Array(d)];
    let parts: [number, number, number][] = [];
    return {
      setTime(t, a) {
        const w = levelWeights(levels, t, mode === 'scaled' ? 'linear' : mode);
        parts = (w.w === 0 ? [[w.lo, 1]] : [[w.lo, 1 - w.w], [w.hi, w.w]]).map(([l, wt]) => [l!, wt!, mode === 'scaled' ? Math.exp(-levels[l!]!.t) / a : 1]);
        for (const [l] of parts) evs[l]!.setTime(levels[l]!.t, Math.exp(-levels[l]!.t));
      },
      rowInto(yy, yo, out, oo) {
        for (let c = 0; c < d; c++) out[oo + c] = 0;
        for (const [l, wt, f] of parts) {
          for (let c = 0; c < d; c++) y[c] = f * yy[yo + c]!;
          evs[l]!.rowInto(y, 0, s, 0);
          for (let c = 0; c < d; c++) out[oo + c] = out[oo + c]! + (wt * s[c]!) / f;
        }
      },
    };
  };
}

const asLevels = (times: Float64Array): PiecewiseLevel[] => [...times].map((t) => ({ t, cells: matrix(1, 1), coef: matrix(2, 1) }));

async function bands(N: number, seeds: readonly number[]): Promise<void> {
  const mix = MIXTURES.a!;
  const { data, labels } = generateGaussianMixture(mix, N, 31);
  const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: 3, seed: 1 });
  console.log(`(a) N = ${N}: truth ${JSON.stringify(measure(mix, () => scoreEvaluator(mix)))}; student ${JSON.stringify(measure(mix, () => scoreEvaluator(st.means)))}`);
  const oracle = weightsFloor(mix, labels);
  console.log(`  the true components with the training set's weights ${[...oracle.weights].map((x) => x.toFixed(4)).join(' ')}: ${JSON.stringify(measure(mix, () => scoreEvaluator(oracle)))}`);
  const BANDS: [string, number, number][] = [['everywhere', 0, Infinity], ['t < 0.05', 0, 0.05], ['0.05 <= t < 0.3', 0.05, 0.3], ['0.3 <= t < 1.5', 0.3, 1.5], ['t >= 1.5', 1.5, Infinity]];
  for (const seed of seeds) {
    const pw = (await fitPiecewise(data, { cells: 12, seed })).model;
    for (const [name, lo, hi] of BANDS) console.log(`  fit seed ${seed}, piecewise ${name.padEnd(16)} ${JSON.stringify(measure(mix, switching((t) => t >= lo && t < hi, pw, mix)))}`);
  }
}

function exact(name: string): void {
  const mix = MIXTURES[name]!;
  console.log(`(${name}) the exact score at every step: ${JSON.stringify(measure(mix, () => scoreEvaluator(mix)))}`);
  for (const L of [8, 16, 32, 64]) {
    const levels = asLevels(ladderTimes(8, 0.01, L));
    for (const mode of ['linear', 'nearest', 'scaled'] as const) console.log(`  L = ${L} ${mode.padEnd(8)} ${JSON.stringify(measure(mix, between(levels, () => scoreEvaluator(mix), mode, mix.means.cols)))}`);
  }
}

/** A fit by a config name: L<levels>R<draws>[J<cells per K>][deg2][soft], J = 4K unless given. */
async function fitConfig(data: Matrix, spec: string, K: number, seed: number): Promise<PiecewiseModel> {
  const m = /^L(\d+)R(\d+)(?:J(\d+))?(deg2)?(soft)?$/.exec(spec);
  if (m === null) throw new Error(`config '${spec}' is not L<levels>R<draws>[J<per K>][deg2][soft]`);
  const o = { horizon: 8, tMin: 0.01, levels: Number(m[1]), draws: Number(m[2]), seed, cells: Number(m[3] ?? 4) * K };
  return (await fitPiecewise(data, { ...o, degree: m[4] ? 2 : 1, assignment: m[5] ? 'soft' : 'hard' })).model;
}

async function fits(name: string, ns: readonly number[], configs: readonly string[], seeds: readonly number[]): Promise<void> {
  const mix = MIXTURES[name]!;
  const K = mix.means.rows;
  for (const N of ns) {
    const data = generateGaussianMixture(mix, N, 31).data;
    const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: K, seed: 1 });
    console.log(`(${name}) N = ${N}: student through the same sampler D ${measure(mix, () => scoreEvaluator(st.means)).D.toFixed(4)}`);
    for (const config of configs) {
      const [spec, modes] = config.split(':') as [string, string];
      const each = new Map<string, number[]>();
      let seconds = 0;
      for (const seed of seeds) {
        const t0 = performance.now();
        const model = await fitConfig(data, spec, K, seed);
        seconds += (performance.now() - t0) / 1000 / seeds.length;
        for (const mode of modes.split(',') as (LevelInterpolation | 'scaled')[]) {
          const ev = between(model.levels, (l) => scoreEvaluator({ ...model, levels: [model.levels[l]!] }), mode, model.d);
          each.set(mode, [...(each.get(mode) ?? []), measure(mix, ev).D]);
        }
      }
      for (const [mode, ds] of each) {
        const D = ds.reduce((x, y) => x + y, 0) / ds.length;
        console.log(`  ${spec} ${mode.padEnd(8)} D ${D.toFixed(4)} (fit seeds ${seeds.join(',')}: ${ds.map((x) => x.toFixed(4)).join(' ')}), fit ${seconds.toFixed(1)} s`);
      }
    }
  }
}

async function seeds(name: string, ns: readonly number[], dataSeeds: readonly number[], configs: readonly string[]): Promise<void> {
  const mix = MIXTURES[name]!;
  const K = mix.means.rows;
  for (const N of ns) {
    const ratios = new Map<string, number[]>();
    const add = (k: string, v: number) => ratios.set(k, [...(ratios.get(k) ?? []), v]);
    for (const s of dataSeeds) {
      const { data, labels } = generateGaussianMixture(mix, N, s);
      const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: K, seed: 1 });
      const oracle = weightsFloor(mix, labels);
      const w = oracle.weights;
      const models = new Map<string, PiecewiseModel>();
      for (const spec of configs) models.set(spec, spec === 'default' ? (await fitPiecewise(data, { cells: 4 * K, seed: 1 })).model : await fitConfig(data, spec, K, 1));
      const [Ds, Do] = [measure(mix, () => scoreEvaluator(st.means)).D, measure(mix, () => scoreEvaluator(oracle)).D];
      add('oracle', Do / Ds);
      const chi2 = [...w].reduce((x, wi, i) => x + (N * (wi - mix.weights[i]!) ** 2) / mix.weights[i]!, 0);
      let line = `(${name}) N = ${N} data seed ${s}: weights ${[...w].map((x) => x.toFixed(4)).join(' ')} (chi^2 ${chi2.toFixed(2)}, ${K - 1} df); D student ${Ds.toFixed(4)}, oracle ${Do.toFixed(4)} (${(Do / Ds).toFixed(2)}x)`;
      for (const spec of configs) {
        const Dp = measure(mix, () => scoreEvaluator(models.get(spec)!)).D;
        add(spec, Dp / Ds);
        add(`${spec} / oracle`, Dp / Do);
        line += `; ${spec} ${Dp.toFixed(4)} (${(Dp / Ds).toFixed(2)}x, ${(Dp / Do).toFixed(2)}x the oracle)`;
      }
      console.log(line);
    }
    const avg = (x: number[]) => (x.reduce((a, b) => a + b, 0) / x.length).toFixed(2);
    console.log(`(${name}) N = ${N}, mean over ${dataSeeds.length} training sets, as multiples of the student's D: ${[...ratios].map(([k, v]) => `${k} ${avg(v)}x`).join(', ')}`);
  }
}

const [what, ...args] = process.argv.slice(2);
const list = (s: string | undefined, fallback: string) => (s ?? fallback).split(',').map(Number);
if (what === 'bands') await bands(Number(args[0] ?? 4000), list(args[1], '1'));
else if (what === 'exact') exact(args[0] ?? 'a');
else if (what === 'fits') await fits(args[0] ?? 'a', list(args[1], '4000,16000'), (args[2] ?? 'L16R4:linear L32R2:linear').split(' '), list(args[3], '1,2,3'));
else if (what === 'seeds') await seeds(args[0] ?? 'a', list(args[1], '4000,16000'), list(args[2], '31,32,33,34,35,36'), (args[3] ?? 'default').split(' '));
else throw new Error('usage: research/piecewise-ladder.ts bands|exact|fits|seeds ... (see the header)');
