// The piecewise experiment's protocol on its mixture (a) alone (docs/experiments.md, 'The piecewise score model'):
// D of n = 4000 reverse-diffusion samples to 3 held-out sets, the student sampled the same way as the reference,
// for the ridge toward 0 and toward the level above, a fixed ridge 1e-8 and R = 16. CPU float64.
//
//   node bin/run-ts.js research/piecewise-shrink-protocol.ts [Ns, default 1000,4000,16000,64000] [variants filter regex]
import { fitSchedule } from '../src/algorithms/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { trueCentres } from '../src/mixtures.ts';
import { fitPiecewise, type PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { generateGaussianMixture, sphericalMixture } from '../src/full-covariance/mixture.ts';
import { defaultSteps } from '../src/sample-options.ts';
import { energyDistance } from '../src/metrics/cpu.ts';
import { sampleReference } from '../src/sampling/cpu-sampler.ts';
import type { Matrix } from '../src/matrix.ts';
import type { PiecewiseModel } from '../src/piecewise/model.ts';

const mix = sphericalMixture(trueCentres(3, 2, 6, 21));
const n = 4000, reps = 3;
const ns = (process.argv[2] ?? '1000,4000,16000,64000').split(',').map(Number);
const filter = new RegExp(process.argv[3] ?? '.');
const LADDER = { horizon: 8, tMin: 0.01, levels: 16, draws: 4, seed: 1 } as const;
const sampler = (seed: number) => ({ method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: defaultSteps(n), grid: 'geometric', seed }) as const;
const held = Array.from({ length: reps }, (_, r) => generateGaussianMixture(mix, n, 9000 + r).data);
const D = (s: Matrix | PiecewiseModel) => { let t = 0; for (let r = 0; r < reps; r++) t += energyDistance(sampleReference(s, n, sampler(40 + r)), held[r]!); return t / reps; };
for (const N of ns) {
  const data = generateGaussianMixture(mix, N, 31).data;
  const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: 3, seed: 1 });
  const ds = D(st.means);
  const out = [`N=${N} student-same-sampler ${ds.toFixed(4)}`];
  const variants: [string, PiecewiseFitOptions][] = [];
  for (const shrink of ['zero', 'level-above'] as const) {
    variants.push([`hard1 ${shrink}`, { cells: 12, degree: 1, shrink }], [`hard2 ${shrink}`, { cells: 12, degree: 2, shrink }], [`soft1 ${shrink}`, { cells: 12, assignment: 'soft', shrink }]);
  }
  variants.push(['hard1 ridge1e-8', { cells: 12, degree: 1, ridge: 1e-8 }], ['hard2 ridge1e-8', { cells: 12, degree: 2, ridge: 1e-8 }], ['hard1 R16 ridge1e-8', { cells: 12, degree: 1, ridge: 1e-8, draws: 16 }]);
  for (const [name, o] of variants) {
    if (!filter.test(name)) continue;
    const d = D((await fitPiecewise(data, { ...LADDER, ...o })).model);
    out.push(`${name} ${d.toFixed(4)} (${(d / ds).toFixed(2)}x)`);
  }
  console.log(out.join(' | '));
}
