// The shared runner of the piecewise model's option studies (research/piecewise-soft.ts, research/piecewise-shrink.ts;
// docs/experiments.md, 'The piecewise score model'): on the piecewise experiment's mixtures, each variant's fit, its
// score error at several t and the energy distance of its reverse-diffusion samples to held-out data, with the exact
// score and (on the isotropic mixture) the paper's student as references. CPU float64, one run.
//
// Arguments of a study: [N, default 16000] [mixtures, default abc] [variants filter regex]
import { fitSchedule } from '../src/algorithms/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { DivergenceError } from '../src/errors.ts';
import { PIECEWISE_MIXTURES } from '../src/experiments/piecewise.ts';
import type { Matrix } from '../src/matrix.ts';
import { fitPiecewise, type PiecewiseFit, type PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { generateGaussianMixture, sampleGaussianMixture, type GaussianMixture } from '../src/full-covariance/mixture.ts';
import type { PiecewiseModel } from '../src/piecewise/model.ts';
import { energyDistance, scoreError } from '../src/metrics/cpu.ts';
import { sampleReference } from '../src/sampling/cpu-sampler.ts';

const MIXTURES: Record<string, GaussianMixture> = PIECEWISE_MIXTURES;
const n = 3000;
const TIMES = [0.01, 0.03, 0.1, 0.3, 1, 3];
const LADDER = { horizon: 8, tMin: 0.01, levels: 16, draws: 4, seed: 1 } as const;
const SAMPLER = { method: 'reverse', integrator: 'exponential', horizon: 8, tMin: 0, steps: 200, grid: 'geometric', seed: 3 } as const;

/** One study: its variants for K components, and what to print after a variant's line. */
export interface Study {
  readonly variants: (K: number) => [string, PiecewiseFitOptions][];
  readonly extra: (fit: PiecewiseFit) => string;
}

export async function runStudy(study: Study, args: readonly string[]): Promise<void> {
  const N = Number(args[0] ?? 16000);
  const which = args[1] ?? 'abc';
  const filter = new RegExp(args[2] ?? '.');
  for (const key of which) {
    const mix = MIXTURES[key]!;
    const K = mix.means.rows;
    const data = generateGaussianMixture(mix, N, 31).data;
    const held = generateGaussianMixture(mix, n, 9000).data;
    const show = (name: string, model: PiecewiseModel | GaussianMixture | Matrix, seconds: number, extra = ''): void => {
      const errs = TIMES.map((t) => scoreError(model, mix, t, 3000, 1).value.toExponential(2));
      let D = 'diverged';
      try {
        D = energyDistance(sampleReference(model, n, SAMPLER), held).toFixed(4);
      } catch (e) {
        if (!(e instanceof DivergenceError)) throw e;
      }
      console.log(`(${key}) ${name.padEnd(34)} ${seconds.toFixed(1).padStart(5)} s  D ${D}  eps^2 at t = ${TIMES.join(', ')}: ${errs.join(' ')} ${extra}`);
    };
    console.log(`(${key}) N = ${N}, n = ${n}; direct vs held-out D ${energyDistance(sampleGaussianMixture(mix, n, 9), held).toFixed(4)}`);
    if (filter.test('truth')) show('truth (exact score)', mix, 0);
    if (key === 'a' && filter.test('student')) {
      const t0 = performance.now();
      const st = await fitSchedule(new CpuBackend(), data, 'annealed', { k: K, seed: 1 });
      show('student (annealed)', st.means, (performance.now() - t0) / 1000);
    }
    for (const [name, o] of study.variants(K)) {
      if (!filter.test(name)) continue;
      const t0 = performance.now();
      const fit = await fitPiecewise(data, { ...LADDER, ...o });
      show(name, fit.model, (performance.now() - t0) / 1000, study.extra(fit));
    }
  }
}
