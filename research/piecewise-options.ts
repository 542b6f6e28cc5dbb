// The measurement behind the piecewise fit's defaults (docs/experiments.md, 'The piecewise score model'): on the
// anisotropic K = 3, d = 2 mixture of the piecewise experiment, the score error at several t and the energy
// distance of reverse-diffusion samples to held-out data, for cell counts J, Lloyd refinement per level
// (reassign), degree, and the level interpolation with the ladder's length. CPU float64.
//
//   node bin/run-ts.js research/piecewise-options.ts [N, default 16000]
import { PIECEWISE_MIXTURES } from '../src/experiments/piecewise.ts';
import { fitPiecewise, type PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { generateGaussianMixture, sampleGaussianMixture, type GaussianMixture } from '../src/full-covariance/mixture.ts';
import { DivergenceError } from '../src/errors.ts';
import type { Matrix } from '../src/matrix.ts';
import type { PiecewiseModel } from '../src/piecewise/model.ts';
import { energyDistance, scoreError } from '../src/metrics/cpu.ts';
import { sampleReference } from '../src/sampling/cpu-sampler.ts';

const MIX = PIECEWISE_MIXTURES.b;
const N = Number(process.argv[2] ?? 16000);
const n = 3000;
const data = generateGaussianMixture(MIX, N, 5).data;
const held = generateGaussianMixture(MIX, n, 77).data;
const TIMES = [0.01, 0.03, 0.1, 0.3, 1, 3];
const SAMPLER = { method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: 200, grid: 'geometric', seed: 3 } as const;

function show(name: string, model: PiecewiseModel | GaussianMixture | Matrix, seconds: number): void {
  const errs = TIMES.map((t) => scoreError(model, MIX, t, 3000, 1).value.toExponential(2));
  let D = 'diverged';
  try {
    D = energyDistance(sampleReference(model, n, SAMPLER), held).toFixed(4);
  } catch (e) {
    if (!(e instanceof DivergenceError)) throw e;
  }
  console.log(`${name.padEnd(30)} ${seconds.toFixed(2)} s  D ${D}  eps^2 at t = ${TIMES.join(', ')}: ${errs.join(' ')}`);
}

async function run(name: string, o: PiecewiseFitOptions): Promise<void> {
  const t0 = performance.now();
  const fit = await fitPiecewise(data, o);
  show(name, fit.model, (performance.now() - t0) / 1000);
}

console.log(`N = ${N}, n = ${n}; direct vs held-out D ${energyDistance(sampleGaussianMixture(MIX, n, 9), held).toFixed(4)}`);
show('truth (exact score)', MIX, 0);
for (const cells of [3, 6, 12]) {
  for (const reassign of [0, 1, 3]) for (const degree of [1, 2] as const) await run(`J=${cells} reassign=${reassign} degree=${degree}`, { cells, reassign, degree, seed: 1 });
}
for (const interpolation of ['nearest', 'linear'] as const) {
  for (const levels of [8, 16, 32]) await run(`J=6 ${interpolation} L=${levels}`, { cells: 6, interpolation, levels, seed: 1 });
}
