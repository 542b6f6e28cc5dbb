// The general student's fit on mixtures with unequal spreads and weights (src/mixtures.ts, spreadMixture) against
// scikit-learn's GaussianMixture of the same covariance type: centre, variance and weight errors and the adjusted
// Rand index, for the screened default and the alternatives measured beside it. Backs docs/experiments.md,
// 'Fitting variances and weights', and docs/decisions/2026-12-07-student-fit.md.
//   node bin/run-ts.js research/student-fit.ts [--seeds 101-108] [--covariance spherical|diag] [--variants a,b]
import { execFileSync } from 'node:child_process';
import { CpuBackend } from '../src/cpu/backend.ts';
import { centreError } from '../src/centre-error.ts';
import { fitEm } from '../src/algorithms/index.ts';
import { planSchedule, DEFAULTS } from '../src/algorithms/schedules.ts';
import { screenStarts } from '../src/algorithms/screen.ts';
import { runStages } from '../src/algorithms/loop.ts';
import { spreadMixture, type SpreadMixture } from '../src/mixtures.ts';
import { initialStudent, variancesOf, weightsOf, type Covariance, type StudentParams } from '../src/training/student.ts';
import { studentLogLikelihood } from '../src/training/student-mixture.ts';
import { matrix, type Matrix } from '../src/types.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const [lo, hi] = arg('seeds', '101-108').split('-').map(Number) as [number, number];
const covariance = arg('covariance', 'spherical') as Covariance;
const variants = arg('variants', 'default,seed-c1,beta4,beta16,seed-only,em,sklearn').split(',');

interface Fit { means: Matrix; variances: Matrix; weights: Float64Array; labels: Int32Array; steps: number }

function ari(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  const table = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    table.set(`${a[i]},${b[i]}`, (table.get(`${a[i]},${b[i]}`) ?? 0) + 1);
    ra.set(a[i]!, (ra.get(a[i]!) ?? 0) + 1);
    rb.set(b[i]!, (rb.get(b[i]!) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  const sum = (m: Map<unknown, number>) => [...m.values()].reduce((p, q) => p + c2(q), 0);
  const index = sum(table);
  const expected = (sum(ra) * sum(rb)) / c2(n);
  const max = (sum(ra) + sum(rb)) / 2;
  return (index - expected) / (max - expected);
}

function studentFit(X: Matrix, means: Matrix, s: StudentParams, steps: number): Fit {
  const K = means.rows;
  const proba = new Float64Array(X.rows * K);
  studentLogLikelihood(X, means, s, proba);
  const labels = new Int32Array(X.rows);
  for (let n = 0; n < X.rows; n++) {
    let best = 0;
    for (let i = 1; i < K; i++) if (proba[n * K + i]! > proba[n * K + best]!) best = i;
    labels[n] = best;
  }
  return { means, variances: variancesOf(s, X.cols), weights: weightsOf(s.beta), labels, steps };
}

async function ours(mix: SpreadMixture, variant: string): Promise<Fit> {
  const X = mix.data;
  const k = mix.truth.rows;
  const cpu = new CpuBackend();
  if (variant === 'em') {
    const r = await fitEm(cpu, 'em', X, screenStarts(X, k, { starts: DEFAULTS.screenStarts, rows: Math.min(X.rows, DEFAULTS.screenRowsPerCentre * k), iterations: DEFAULTS.screenIterations, seed: 0 }).centres, { covariance, weights: 'learned' });
    return studentFit(X, r.means, r.student!, r.nIter);
  }
  const plan = planSchedule('screened', X, { k, covariance, weights: 'learned' });
  let { init, stages, student } = plan;
  if (variant === 'seed-only') return studentFit(X, init, student!, 0);
  if (variant === 'seed-c1') {
    init = screenStarts(X, k, { starts: DEFAULTS.screenStarts, rows: Math.min(X.rows, DEFAULTS.screenRowsPerCentre * k), iterations: DEFAULTS.screenIterations, seed: 0 }).centres;
    student = initialStudent(covariance, 'learned', k, X.cols);
  }
  if (variant.startsWith('beta')) stages = stages.map((s) => (s.kind === 'gd' ? { ...s, betaLr: s.lr * Number(variant.slice(4)) } : s));
  const r = await runStages(cpu, plan.problem, stages, init, { logEvery: DEFAULTS.logEvery, noiseSeed: 0, student });
  return studentFit(X, r.centres, r.student!, r.nIter);
}

function sklearn(mix: SpreadMixture): Fit {
  const X = mix.data;
  const rows = Array.from({ length: X.rows }, (_, n) => Array.from(X.data.subarray(n * X.cols, (n + 1) * X.cols)));
  const out = JSON.parse(execFileSync('/usr/bin/python3', ['research/student-fit.py'], { input: JSON.stringify({ X: rows, k: mix.truth.rows, covariance }), maxBuffer: 1 << 28 }).toString());
  const k = mix.truth.rows;
  return { means: matrix(k, X.cols, Float64Array.from(out.means.flat())), variances: matrix(k, X.cols, Float64Array.from(out.variances.flat())), weights: Float64Array.from(out.weights), labels: Int32Array.from(out.labels), steps: 0 };
}

function score(mix: SpreadMixture, f: Fit) {
  const e = centreError(f.means, mix.truth);
  const d = mix.truth.cols;
  let varErr = 0;
  let wErr = 0;
  e.match.forEach((j, i) => {
    const c = mix.spreads[j]! ** 2;
    for (let q = 0; q < d; q++) varErr += Math.abs(f.variances.data[i * d + q]! - c) / c / (d * e.match.length);
    wErr = Math.max(wErr, Math.abs(f.weights[i]! - mix.weights[j]!));
  });
  return { centre: e.mean, variance: varErr, weight: wErr, ari: ari(f.labels, mix.labels), steps: f.steps };
}

const totals = new Map<string, { centre: number; variance: number; weight: number; ari: number; steps: number; n: number }>();
for (let seed = lo; seed <= hi; seed++) {
  const mix = spreadMixture(seed);
  const line: string[] = [`seed ${seed} K=${mix.truth.rows} d=${mix.truth.cols}`];
  for (const v of variants) {
    const s = score(mix, v === 'sklearn' ? sklearn(mix) : await ours(mix, v));
    const t = totals.get(v) ?? { centre: 0, variance: 0, weight: 0, ari: 0, steps: 0, n: 0 };
    totals.set(v, { centre: t.centre + s.centre, variance: t.variance + s.variance, weight: t.weight + s.weight, ari: t.ari + s.ari, steps: t.steps + s.steps, n: t.n + 1 });
    line.push(`${v}: ari ${s.ari.toFixed(3)} c ${s.centre.toFixed(3)} v ${s.variance.toFixed(3)} w ${s.weight.toFixed(3)} (${s.steps})`);
  }
  console.log(line.join(' | '));
}
console.log(`\n${covariance}, seeds ${lo}-${hi}: means over the seeds`);
console.log('| variant | ARI | centre error | variance error (relative) | weight error (max) | steps |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [v, t] of totals) console.log(`| ${v} | ${(t.ari / t.n).toFixed(3)} | ${(t.centre / t.n).toFixed(3)} | ${(t.variance / t.n).toFixed(3)} | ${(t.weight / t.n).toFixed(3)} | ${(t.steps / t.n).toFixed(0)} |`);
