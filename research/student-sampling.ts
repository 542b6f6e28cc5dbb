// The general student's sampler error on its own fitted model (docs/experiments.md, 'Sampling the general
// student'): three blobs in d = 2 with spreads 0.5, 1 and 2 and weights 0.6, 0.3 and 0.1 (centres
// trueCentres(3, 2, separation, 21)), fitted by DdpmGmm with the given covariance and weights (and, beside it, the
// paper's model, identity / equal, on the same data); then the energy distance D of sample() (reverse diffusion,
// the defaults) to the model's own direct draws of the same size n, against pairs of direct sets (the null), as
// research/sampler-defaults.ts measures the paper's model on its own centres. D is in the data's units.
//
//   node bin/run-ts.js research/student-sampling.ts [--n 4000] [--reps 40] [--data 6000] [--separation 8]
//        [--covariance spherical|diag] [--method reverse|ode] [--steps default|S] [--backend cpu|gpu]
import { parseArgs } from 'node:util';
import { openBackend } from '../src/backend-choice.ts';
import { DdpmGmm } from '../src/estimator.ts';
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../src/math/philox.ts';
import { trueCentres } from '../src/mixtures.ts';
import { resolveSampleOptions } from '../src/sample-options.ts';
import { samplerSteps } from '../src/sampling/grid.ts';
import { studentScoreOf } from '../src/sampling/student-score.ts';
import { toScaled } from '../src/scaling.ts';
import { variancesOf, weightsOf } from '../src/training/student.ts';
import { matrix } from '../src/types.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4000' },
    reps: { type: 'string', default: '40' },
    data: { type: 'string', default: '6000' },
    separation: { type: 'string', default: '8' },
    covariance: { type: 'string', default: 'spherical' },
    method: { type: 'string', default: 'reverse' },
    backend: { type: 'string', default: 'cpu' },
    steps: { type: 'string', default: 'default' },
  },
});
const [n, reps, N, sep] = ['n', 'reps', 'data', 'separation'].map((f) => Number(values[f as keyof typeof values])) as [number, number, number, number];
if (values.backend === 'gpu') await import('../src/node.ts');
const backend = await openBackend(values.backend as 'cpu' | 'gpu');

const SPREADS = [0.5, 1, 2];
const WEIGHTS = [0.6, 0.3, 0.1];
const centres = trueCentres(3, 2, sep, 21);
const z = noiseMatrix(5, 0, N, 2, STREAM_DATA_GENERATOR);
const X = matrix(N, 2);
for (let r = 0, label = 0, cum = WEIGHTS[0]!; r < N; r++) {
  while (label < 2 && (r + 0.5) / N > cum) cum += WEIGHTS[++label]!;
  for (let c = 0; c < 2; c++) X.data[r * 2 + c] = centres.data[label * 2 + c]! + SPREADS[label]! * z.data[r * 2 + c]!;
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const sd = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1));

console.log(`${backend.name}: 3 blobs, d = 2, separation ${sep}, spreads ${SPREADS.join('/')}, weights ${WEIGHTS.join('/')}, N = ${N}; n = ${n}, ${reps} reps, ${values.method}`);
for (const [label, options] of [
  [`general student (${values.covariance}, learned)`, { covariance: values.covariance as 'spherical' | 'diag', weights: 'learned' as const }],
  ["the paper's model (identity, equal)", {}],
] as const) {
  const model = new DdpmGmm({ nComponents: 3, backend, seed: 1, ...options });
  const t0 = performance.now();
  await model.fit(X);
  const fitSeconds = (performance.now() - t0) / 1000;
  const s = model.student;
  const unit = model.scaling ? model.scaling.scale[0]! : 1;
  const spreads = s ? Array.from({ length: 3 }, (_, i) => Math.sqrt(variancesOf(s, 2).data[2 * i]!) * unit) : [];
  console.log(`\n${label}: fit ${fitSeconds.toFixed(1)} s; means ${Array.from(model.means!.data, (v) => v.toFixed(2)).join(' ')}`);
  if (s) console.log(`  smallest variance in the fit's coordinates ${Math.min(...variancesOf(s, 2).data).toFixed(3)}`);
  if (s) {
    // The K = 1 recursion of one component of variance c (docs/math.md section 14): its relative variance excess b.
    const scaledMeans = model.scaling ? toScaled(model.means!, model.scaling) : model.means!;
    const plan = resolveSampleOptions(studentScoreOf(scaledMeans, s), n, { method: values.method as 'reverse' | 'ode', ...(values.steps === 'default' ? {} : { steps: Number(values.steps) }) });
    if (plan.method === 'reverse') {
      const excess = Array.from({ length: 3 }, (_, i) => {
        const c = variancesOf(s, 2).data[2 * i]!;
        let v = 1;
        for (const st of samplerSteps(plan)) {
          const A = 1 + st.cy - st.cs / (st.a * st.a * c + 1 - st.a * st.a);
          v = A * A * v + st.cxi * st.cxi;
        }
        return `c = ${c.toFixed(3)}: S b = ${(plan.steps * (v / c - 1)).toFixed(2)}`;
      });
      console.log(`  K = 1 recursion at S = ${plan.steps}, T = ${plan.horizon.toFixed(2)}: ${excess.join('; ')}`);
    }
  }
  if (s) console.log(`  weights ${Array.from(weightsOf(s.beta), (w) => w.toFixed(3)).join(' ')}; spreads (first feature, data units) ${spreads.map((v) => v.toFixed(3)).join(' ')}`);
  // Direct reference set r has seed 1000 + r; its null partner 1500 + r; sampler run r seed 700 + r.
  const nullD: number[] = [];
  const ds: number[] = [];
  let seconds = 0;
  // The components' shares (by predict) of the sampled and the direct sets, over all reps.
  const sampled = [0, 0, 0];
  const direct = [0, 0, 0];
  for (let r = 0; r < reps; r++) {
    const ref = model.sampleDirect(n, 1000 + r);
    nullD.push(await backend.energyDistance(model.sampleDirect(n, 1500 + r), ref));
    const t1 = performance.now();
    const y = await model.sample(n, { method: values.method as 'reverse' | 'ode', seed: 700 + r, ...(values.steps === 'default' ? {} : { steps: Number(values.steps) }) });
    seconds += (performance.now() - t1) / 1000;
    ds.push(await backend.energyDistance(y, ref));
    model.predict(y).forEach((k) => (sampled[k] += 1 / (n * reps)));
    model.predict(ref).forEach((k) => (direct[k] += 1 / (n * reps)));
  }
  const null2 = nullD.map((x) => x * x);
  const bound = mean(nullD) + 4 * sd(nullD);
  const ratio = ds.map((x) => (x * x) / mean(null2));
  console.log(`  direct vs direct: D mean ${mean(nullD).toFixed(4)} sd ${sd(nullD).toFixed(4)}; bound mean + 4 sd = ${bound.toFixed(4)}`);
  console.log(`  sample(): D mean ${mean(ds).toFixed(4)}; E[D^2]/null ${mean(ratio).toFixed(2)} (+- ${(sd(ratio) / Math.sqrt(reps)).toFixed(2)}); over the bound ${ds.filter((x) => x > bound).length}/${reps}; ${(seconds / reps).toFixed(2)} s per run`);
  console.log(`  shares by predict: sample() ${sampled.map((w) => w.toFixed(4)).join(' ')}; direct ${direct.map((w) => w.toFixed(4)).join(' ')}`);
}
backend.dispose();
