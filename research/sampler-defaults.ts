// The measurement behind DdpmGmm.sample's defaults (docs/experiments.md, 'Sampling'): for a seeded mixture,
// the energy distance D of reverse-diffusion samples (exponential integrator; --method ode: Heun on the
// probability-flow ODE; a geometric grid to tMin = 0) to
// direct samples of the same size n, against two independent direct sets of that size (the null level).
// E[D^2] of the V-statistic is D_pop^2 plus the null's E[D^2], so the ratio E[D^2] / E[D^2_null] - 1 is the
// sampler's bias in units of the sampling noise of n samples.
//
//   node bin/run-ts.js research/sampler-defaults.ts [--k 3] [--d 2] [--separation 6] [--centre-seed 21]
//        [--n 4000] [--reps 40] [--steps 25,50,100,default] [--horizon default] [--method reverse|ode]
//        [--backend cpu|gpu]
//
// 'default' steps are max(100, ceil(2 sqrt(n))) and the default horizon 8 + ln max(1, max_i |mu_i|).
import { parseArgs } from 'node:util';
import { openBackend } from '../src/backend-choice.ts';
import { mixtureSamples } from '../src/estimator.ts';
import { trueCentres } from '../src/mixtures.ts';
import { defaultHorizon, defaultSteps } from '../src/sample-options.ts';

const { values } = parseArgs({
  options: {
    k: { type: 'string', default: '3' },
    d: { type: 'string', default: '2' },
    separation: { type: 'string', default: '6' },
    'centre-seed': { type: 'string', default: '21' },
    n: { type: 'string', default: '4000' },
    reps: { type: 'string', default: '40' },
    steps: { type: 'string', default: 'default' },
    horizon: { type: 'string', default: 'default' },
    method: { type: 'string', default: 'reverse' },
    backend: { type: 'string', default: 'cpu' },
  },
});
const [k, d, sep, centreSeed, n, reps] = ['k', 'd', 'separation', 'centre-seed', 'n', 'reps'].map((f) => Number(values[f as keyof typeof values]));
if (values.backend === 'gpu') await import('../src/node.ts');
const backend = await openBackend(values.backend as 'cpu' | 'gpu');
const centres = trueCentres(k!, d!, sep!, centreSeed!);
const horizon = values.horizon === 'default' ? defaultHorizon(centres) : Number(values.horizon);

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const sd = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1));

// Direct reference set r has seed 1000 + r; its null partner 1500 + r; sampler run r seed 700 + r.
const refs = Array.from({ length: reps! }, (_, r) => mixtureSamples(centres, n!, 1000 + r));
const nullD: number[] = [];
for (let r = 0; r < reps!; r++) nullD.push(await backend.energyDistance(mixtureSamples(centres, n!, 1500 + r), refs[r]!));
const null2 = nullD.map((x) => x * x);
const bound = mean(nullD) + 4 * sd(nullD);
console.log(`${backend.name}: K=${k} d=${d} separation ${sep} (centre seed ${centreSeed}), n=${n}, ${reps} reps, ${values.method}, horizon ${horizon.toFixed(3)}`);
console.log(`direct vs direct: D mean ${mean(nullD).toFixed(4)} sd ${sd(nullD).toFixed(4)}; E[D^2] ${mean(null2).toExponential(3)}; bound mean + 4 sd = ${bound.toFixed(4)}`);
console.log('steps  D mean   E[D^2]/null  (+- se)  runs over the bound  seconds per run');
for (const raw of values.steps!.split(',')) {
  const steps = raw === 'default' ? defaultSteps(n!) : Number(raw);
  const ds: number[] = [];
  let seconds = 0;
  for (let r = 0; r < reps!; r++) {
    const t0 = performance.now();
    const ode = values.method === 'ode';
    const s = await backend.sample(centres, n!, { method: ode ? 'ode' : 'reverse', integrator: ode ? 'heun' : 'exponential', horizon, tMin: 0, steps, grid: 'geometric', seed: 700 + r });
    seconds += (performance.now() - t0) / 1000;
    ds.push(await backend.energyDistance(s, refs[r]!));
  }
  const d2 = ds.map((x) => x * x);
  // The ratio's standard error from the paired differences (the same reference set in both).
  const ratio = mean(d2) / mean(null2);
  const se = sd(d2.map((x, i) => x - null2[i]!)) / Math.sqrt(reps!) / mean(null2);
  const over = ds.filter((x) => x > bound).length;
  console.log(`${String(steps).padStart(5)}  ${mean(ds).toFixed(4)}   ${ratio.toFixed(3)}        (${se.toFixed(3)})   ${over}/${reps}                ${(seconds / reps!).toFixed(2)}`);
}
backend.dispose();
process.exit(0);
