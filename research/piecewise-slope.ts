// The measurement behind the piecewise fit's slope options (docs/experiments.md, 'The piecewise score model'):
// the ridge toward 0 on every row (the default) against a slope left unpenalised or lightly penalised
// (`slopeRidge`), and against data-driven targets for the slope (`shrink: 'cell-gaussian'`, the cell's own
// Gaussian score -C_j^{-1}; `shrink: 'pooled'`, one slope per level), through research/piecewise-study.ts. After
// each line: the mean diagonal of the fitted slopes over the cells and coordinates, averaged over the levels
// with t <= 0.15 and with 0.15 < t <= 1 (for unit-covariance components the exact slope is -1 at every t), and
// the lambdas chosen per level.
//
//   node bin/run-ts.js research/piecewise-slope.ts [N, default 16000] [mixtures, default abc] [variants filter regex]
//
// `protocol` runs the piecewise experiment's protocol on mixture (a) instead (research/piecewise-shrink-protocol.ts: D of
// n = 4000 samples to 3 held-out sets, 3 sampler seeds, `defaultSteps(n)` steps, the student through the same sampler):
//
//   node bin/run-ts.js research/piecewise-slope.ts protocol [Ns, default 4000,16000] [variants filter regex] [fit seeds, default 1]
import { fitSchedule } from '../src/algorithms/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { trueCentres } from '../src/mixtures.ts';
import type { Matrix } from '../src/matrix.ts';
import { fitPiecewise, type PiecewiseFit, type PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { generateGaussianMixture, sphericalMixture } from '../src/full-covariance/mixture.ts';
import { featureCount, type PiecewiseModel } from '../src/piecewise/model.ts';
import { defaultSteps } from '../src/sample-options.ts';
import { energyDistance } from '../src/metrics/cpu.ts';
import { sampleReference } from '../src/sampling/cpu-sampler.ts';
import { runStudy } from './piecewise-study.ts';

function slopeDiagonal(fit: PiecewiseFit, lo: number, hi: number): number {
  const { d, degree } = fit.model;
  const p = featureCount(d, degree);
  let [s, n] = [0, 0];
  for (const level of fit.model.levels) {
    if (!(level.t > lo && level.t <= hi)) continue;
    for (let j = 0; j < level.cells.rows; j++) for (let c = 0; c < d; c++) [s, n] = [s + level.coef.data[(j * p + c) * d + c]!, n + 1];
  }
  return s / n;
}

function variants(K: number): [string, PiecewiseFitOptions][] {
  const J = 4 * K;
  const variants: [string, PiecewiseFitOptions][] = [];
  for (const degree of [1, 2] as const) {
    variants.push([`hard deg ${degree} default`, { cells: J, degree }]);
    variants.push([`hard deg ${degree} ridge 1e-8`, { cells: J, degree, ridge: 1e-8 }]);
    variants.push([`hard deg ${degree} slopeRidge 0`, { cells: J, degree, slopeRidge: 0 }]);
    variants.push([`hard deg ${degree} slopeRidge 0.01`, { cells: J, degree, slopeRidge: 0.01 }]);
    variants.push([`hard deg ${degree} cell-gaussian`, { cells: J, degree, shrink: 'cell-gaussian' }]);
    variants.push([`hard deg ${degree} pooled`, { cells: J, degree, shrink: 'pooled' }]);
  }
  // Fewer cells: on the balanced isotropic mixture the Voronoi cells of the K means are its exact boundaries.
  for (const degree of [1, 2] as const) for (const m of [1, 2]) variants.push([`hard deg ${degree} J=${m}K`, { cells: m * K, degree }]);
  variants.push([`soft deg 1 default`, { cells: J, assignment: 'soft' }]);
  variants.push([`soft deg 1 slopeRidge 0.01`, { cells: J, assignment: 'soft', slopeRidge: 0.01 }]);
  return variants;
}

const extra = (fit: PiecewiseFit): string =>
  `slope diag ${slopeDiagonal(fit, 0, 0.15).toFixed(3)} (t <= 0.15) ${slopeDiagonal(fit, 0.15, 1).toFixed(3)} (0.15-1); lambdas ${fit.reports.map((r) => r.lambda).join(' ')}`;

async function protocol(ns: readonly number[], filter: RegExp, seeds: readonly number[]): Promise<void> {
  const mix = sphericalMixture(trueCentres(3, 2, 6, 21));
  const [n, reps] = [4000, 3];
  const LADDER = { horizon: 8, tMin: 0.01, levels: 16, draws: 4, seed: 1 } as const;
  const sampler = (seed: number) => ({ method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: defaultSteps(n), grid: 'geometric', seed }) as const;
  const held = Array.from({ length: reps }, (_, r) => generateGaussianMixture(mix, n, 9000 + r).data);
  const D = (s: Matrix | PiecewiseModel): number => {
    let t = 0;
    for (let r = 0; r < reps; r++) t += energyDistance(sampleReference(s, n, sampler(40 + r)), held[r]!);
    return t / reps;
  };
  for (const N of ns) {
    const data = generateGaussianMixture(mix, N, 31).data;
    const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: 3, seed: 1 });
    const ds = D(st.means);
    console.log(`(a) N = ${N} student, same sampler: D ${ds.toFixed(4)}`);
    for (const [name, o] of variants(3)) {
      if (!filter.test(name)) continue;
      // The fit's own noise draws move D too: the mean over fit seeds, each seed's D listed.
      const each: number[] = [];
      let last: PiecewiseFit | undefined;
      for (const seed of seeds) {
        last = await fitPiecewise(data, { ...LADDER, ...o, seed });
        each.push(D(last.model));
      }
      const d = each.reduce((x, y) => x + y, 0) / each.length;
      console.log(`(a) N = ${N} ${name.padEnd(30)} D ${d.toFixed(4)} (${(d / ds).toFixed(2)}x; fit seeds ${seeds.join(',')}: ${each.map((x) => x.toFixed(4)).join(' ')})  ${extra(last!)}`);
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === 'protocol') await protocol((args[1] ?? '4000,16000').split(',').map(Number), new RegExp(args[2] ?? '.'), (args[3] ?? '1').split(',').map(Number));
else await runStudy({ variants, extra }, args);
