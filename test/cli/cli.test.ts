// The ddpm-gmm command line end to end (spawned from the sources through bin/dev.js, mostly with --backend
// cpu): the happy path prints JSON of the documented shape, fit writes model files that predict reads,
// and every bad input fails with one actionable line.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRowIndices, warmStart } from '../../src/algorithms/seeding.ts';
import { describeError } from '../../src/cli/run.ts';
import { DeviceError, DivergenceError, InputError } from '../../src/errors.ts';
import { serializeNpy } from '../../src/io/npy.ts';
import { noiseMatrix } from '../../src/math/philox.ts';
import { centreError } from '../../src/centre-error.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { readMatrixFile, writeMatrixFile } from '../../src/io/files.ts';

const BIN = resolve(__dirname, '..', '..', 'bin', 'dev.js'); // the sources through tsx; test/package runs the compiled bin
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, DDPM_GMM_DEBUG: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function rows(m: unknown): number[][] {
  expect(Array.isArray(m)).toBe(true);
  return m as number[][];
}

let dir = '';
const K = 3;
const D = 4;
const N = 600;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-cli-'));
  const gen = await cli(
    ['generate', '--k', `${K}`, '--d', `${D}`, '--n', `${N}`, '--separation', '6', '--seed', '5', '--out', 'x.npy', '--truth', 'mu.npy', '--json'],
    dir,
  );
  expect(gen.stderr).toBe('');
  expect(gen.code).toBe(0);
  expect(JSON.parse(gen.stdout)).toEqual({ n: N, d: D, k: K, separation: 6, seed: 5, out: 'x.npy', truth: 'mu.npy' });

  // Bad input files, each wrong in exactly one way.
  const x = readMatrixFile(join(dir, 'x.npy'), 'x');
  const f64 = (v: number[]): Uint8Array => new Uint8Array(Float64Array.from(v).buffer);
  const npy = (dict: string, data: Uint8Array): Uint8Array => {
    const header = dict + ' '.repeat((64 - ((11 + dict.length) % 64)) % 64) + '\n';
    const out = new Uint8Array(10 + header.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, header.length, true);
    for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
    out.set(data, 10 + header.length);
    return out;
  };
  writeFileSync(join(dir, 'i8.npy'), npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", f64([1, 2, 3, 4, 5, 6])));
  writeFileSync(join(dir, 'oned.npy'), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", f64([1, 2, 3, 4, 5, 6])));
  writeFileSync(join(dir, 'junk.bin'), Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256));
  writeFileSync(join(dir, 'nan.csv'), 'a,b,c,d\n1,2,3,4\n5,6,7,8\n9,nan,1,2\n3,4,5,6\n');
  const inf = x.data.slice();
  inf[5 * D + 2] = Infinity;
  writeFileSync(join(dir, 'inf.npy'), serializeNpy(matrix(N, D, inf)));
  writeMatrixFile(join(dir, 'means3.npy'), matrix(K, 3, new Float64Array(K * 3)));
  writeMatrixFile(join(dir, 'noise-short.npy'), noiseMatrix(1, 0, N - 1, D));
  writeMatrixFile(join(dir, 'noise.npy'), noiseMatrix(4, 0, N, D));
  const mu = readMatrixFile(join(dir, 'mu.npy'), 'mu');
  const pair = new Float64Array(2 * D);
  for (let c = 0; c < D; c++) [pair[c], pair[D + c]] = [mu.data[c]!, -mu.data[c]!];
  writeMatrixFile(join(dir, 'pair.csv'), matrix(2, D, pair));
  writeMatrixFile(join(dir, 'mu2.npy'), matrix(2, D, mu.data.slice(0, 2 * D)));
  // Model files: one valid (the true centres), and bad ones each wrong in one way.
  const model = {
    format: 'ddpm-gmm-model', version: 1, createdBy: 'ddpm-gmm 0.1.0', nComponents: K, dimension: D,
    means: Array.from({ length: K }, (_, i) => Array.from(mu.data.slice(i * D, (i + 1) * D))),
    method: 'em', schedule: null, converged: true, nIter: 1, backendUsed: null,
  };
  writeFileSync(join(dir, 'model-mu.json'), JSON.stringify(model));
  writeFileSync(join(dir, 'model-v4.json'), JSON.stringify({ ...model, version: 4 }));
  writeFileSync(join(dir, 'model-other.json'), JSON.stringify({ ...model, format: 'sklearn' }));
  writeFileSync(join(dir, 'model-ragged.json'), JSON.stringify({ ...model, dimension: 5 }));
  writeFileSync(join(dir, 'model-broken.json'), '{"format": "ddpm-gmm-model", ');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ddpm-gmm (happy path, --backend cpu)', () => {
  it('grad prints loss and gradients of the stated shape, consistent between --seed and the same --noise file', async () => {
    const common = ['grad', '--data', 'x.npy', '--means', 'mu.npy', '--t', '0.5', '--backend', 'cpu', '--json'];
    const [bySeed, byFile, tied, human] = await Promise.all([
      cli([...common, '--seed', '4'], dir),
      cli([...common, '--noise', 'noise.npy'], dir),
      cli(['grad', '--data', 'x.npy', '--means', 'pair.csv', '--t', '1', '--tied', '--seed', '2', '--step', '3', '--backend', 'cpu', '--json'], dir),
      cli(['grad', '--data', 'x.npy', '--means', 'mu.npy', '--t', '0.5', '--seed', '4', '--backend', 'cpu'], dir),
    ]);
    for (const r of [bySeed, byFile, tied, human]) expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(bySeed.stdout) as Record<string, unknown>;
    expect(Object.keys(a).sort()).toEqual(['adapter', 'backend', 'gradCentres', 'gradScaled', 'loss', 'software']);
    expect(a['backend']).toBe('cpu');
    expect(Number.isFinite(a['loss'])).toBe(true);
    const gc = rows(a['gradCentres']);
    const gs = rows(a['gradScaled']);
    expect(gc.length).toBe(K);
    expect(gc.every((r) => r.length === D)).toBe(true);
    // dL/dmu = a_t dL/dm with a_t = exp(-0.5): equal up to float64 rounding.
    gc.flat().forEach((v, i) => expect(v).toBeCloseTo(Math.exp(-0.5) * gs.flat()[i]!, 12));
    // --seed S with step 0 is noiseMatrix(S, 0, N, d): the file path must give the same numbers.
    const b = JSON.parse(byFile.stdout) as { loss: number; gradCentres: number[][] };
    expect(b.loss).toBeCloseTo(a['loss'] as number, 10);
    b.gradCentres.flat().forEach((v, i) => expect(v).toBeCloseTo(gc.flat()[i]!, 10));
    const c = JSON.parse(tied.stdout) as { gradCentres: number[][] };
    expect(c.gradCentres.length).toBe(1);
    expect(human.stdout).toMatch(/loss: /);
    expect(human.stdout).toMatch(/dL\/dmu/);
  });

  it('fit --schedule single runs Algorithm 1, prints the result JSON and writes the model file', async () => {
    const common = ['fit', '--data', 'x.npy', '--k', `${K}`, '--schedule', 'single', '--t', '0.5', '--steps', '30', '--lr', '1', '--backend', 'cpu'];
    const [fromTruth, fromSeed, tied] = await Promise.all([
      cli([...common, '--init', 'mu.npy', '--log-every', '10', '--out', 'model.json', '--json'], dir),
      cli([...common, '--init-seed', '3', '--noise', 'fixed', '--noise-seed', '8'], dir),
      cli(['fit', '--data', 'x.npy', '--k', '2', '--schedule', 'single', '--tied', '--init-seed', '1', '--t', '0.5', '--steps', '5', '--lr', '0.5', '--backend', 'cpu', '--json'], dir),
    ]);
    for (const r of [fromTruth, fromSeed, tied]) expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(fromTruth.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['adapter', 'backend', 'history', 'means', 'nIter', 'sampleGradsPerSec', 'seconds', 'software']);
    expect(out['nIter']).toBe(30);
    const history = out['history'] as { step: number; loss: number; gradNorm: number }[];
    expect(history.map((h) => h.step)).toEqual([9, 19, 29]);
    expect(history.every((h) => Number.isFinite(h.loss) && Number.isFinite(h.gradNorm))).toBe(true);
    const means = rows(out['means']);
    const mu = readMatrixFile(join(dir, 'mu.npy'), 'mu');
    const est: Matrix = matrix(K, D, Float64Array.from(means.flat()));
    // Statistical error of a centre from N/K = 200 unit-variance samples: ~sqrt(d/200) = 0.14; 4x margin.
    expect(centreError(est, mu).max).toBeLessThan(0.6);
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf-8')) as Record<string, unknown>;
    expect(model).toMatchObject({ format: 'ddpm-gmm-model', version: 1, method: 'ddpm', schedule: 'single', converged: false, nIter: 30, nComponents: K, dimension: D });
    expect(model['means']).toEqual(means);
    expect((model['backendUsed'] as { kind: string }).kind).toBe('cpu');
    expect((model['settings'] as { k: number; t: number }).k).toBe(K);
    expect((model['history'] as unknown[]).length).toBe(3);
    expect(fromSeed.stdout).toMatch(/means:/);
    expect(fromSeed.stdout).toMatch(/^backend: cpu \(CPU float64 reference\)$/m);
    expect(rows((JSON.parse(tied.stdout) as { means: unknown }).means).length).toBe(2);
    // --json with a non-terminal stderr keeps stderr silent.
    expect(fromTruth.stderr).toBe('');
  });

  it('demo reduces the centre error from the warm start; help and version answer', async () => {
    const [demo, help, fitHelp, version] = await Promise.all([
      cli(['demo', '--backend', 'cpu', '--n', '4000', '--steps', '15', '--json'], dir),
      cli(['--help'], dir),
      cli(['help', 'fit'], dir),
      cli(['--version'], dir),
    ]);
    expect(demo.code, demo.stderr).toBe(0);
    const r = JSON.parse(demo.stdout) as { error: { max: number }; initialError: { max: number }; sampleGradsPerSec: number };
    // Warm start is separation/3 = 2.67 away; with N/K = 1000 samples per centre the floor is ~sqrt(16/1000) = 0.13.
    expect(r.initialError.max).toBeCloseTo(8 / 3, 10);
    expect(r.error.max).toBeLessThan(0.5);
    expect(r.sampleGradsPerSec).toBeGreaterThan(0);
    expect(help.stdout).toMatch(/Commands:/);
    expect(fitHelp.stdout).toMatch(/--init-seed/);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('ddpm-gmm fit on the estimator, model files and predict', () => {
  const mu = (): Matrix => readMatrixFile(join(dir, 'mu.npy'), 'mu');

  it('fit --data X --k 3 runs the estimator with its defaults (screened for K = 3) and reports the backend', async () => {
    const [cpu, auto] = await Promise.all([
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--backend', 'cpu', '--json'], dir),
      cli(['fit', '--data', 'x.npy', '--k', `${K}`], dir),
    ]);
    expect(cpu.code, cpu.stderr).toBe(0);
    const out = JSON.parse(cpu.stdout) as { means: number[][]; method: string; schedule: string; converged: boolean; backend: string; software: boolean };
    expect([out.method, out.schedule, out.backend, out.software]).toEqual(['ddpm', 'screened', 'cpu', false]);
    expect(typeof out.converged).toBe('boolean');
    // N/K = 200 samples per centre: the statistical error is ~sqrt(d/200) = 0.14; 4x margin.
    expect(centreError(matrix(K, D, Float64Array.from(out.means.flat())), mu()).max).toBeLessThan(0.6);
    // The default backend is auto: a GPU engine (hardware or software adapter), else the CPU reference.
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(/^backend: (gpu|cpu) \(.+\)$/m);
    expect(auto.stdout).toMatch(/^method: ddpm, schedule screened, scale within, covariance diag, weights learned; N = 600, d = 4, K = 3$/m);
    expect(auto.stdout).toMatch(/^mixing weights: \S+ \S+ \S+$/m);
  });

  it('generate runs on its defaults; a pandas CSV with an index column is fitted without it, with a warning', async () => {
    const gen = await cli(['generate', '--k', '2', '--d', '3', '--n', '400', '--out', 'plain.csv'], dir);
    expect(gen.code, gen.stderr).toBe(0);
    const x = readMatrixFile(join(dir, 'plain.csv'), 'plain');
    expect([x.rows, x.cols]).toEqual([400, 3]);
    // What pandas' df.to_csv('p.csv') writes: an unnamed index column, then named columns.
    const lines = [',a,b,c', ...Array.from({ length: x.rows }, (_, i) => `${i},${Array.from(x.data.subarray(i * 3, i * 3 + 3)).join(',')}`)];
    writeFileSync(join(dir, 'pandas.csv'), lines.join('\n') + '\n');
    const fit = await cli(['fit', '--data', 'pandas.csv', '--k', '2', '--backend', 'cpu', '--json'], dir);
    expect(fit.code, fit.stderr).toBe(0);
    expect(fit.stderr).toMatch(/warning: .*pandas\.csv.*column 1 .*pandas index.*dropped/);
    expect((JSON.parse(fit.stdout) as { means: number[][] }).means[0]).toHaveLength(3);
    const [keep, refuse] = await Promise.all([
      cli(['fit', '--data', 'pandas.csv', '--k', '2', '--backend', 'cpu', '--json', '--csv-index', 'keep', '--steps', '5'], dir),
      cli(['fit', '--data', 'pandas.csv', '--k', '2', '--backend', 'cpu', '--csv-index', 'error'], dir),
    ]);
    expect(keep.code, keep.stderr).toBe(0);
    expect((JSON.parse(keep.stdout) as { means: number[][] }).means[0]).toHaveLength(4);
    expect(refuse.code).toBe(2);
    expect(refuse.stderr).toMatch(/error: .*column 1 .*pandas index.*index=False/);
  });

  it('--restarts N (or --n-init N) keeps the best of N runs and reports them all', async () => {
    const [a, b] = await Promise.all([
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--method', 'em', '--restarts', '3', '--init-seed', '2', '--backend', 'cpu', '--json'], dir),
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--method', 'em', '--n-init', '3', '--init-seed', '2', '--backend', 'cpu', '--json'], dir),
    ]);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout) as { restarts: { seed: number; logLikelihood: number }[]; bestRestart: number; means: number[][] };
    expect(out.restarts.map((r) => r.seed)).toEqual([2, 3, 4]);
    const kept = out.restarts[out.bestRestart]!.logLikelihood;
    for (const r of out.restarts) expect(kept).toBeGreaterThanOrEqual(r.logLikelihood);
    expect((JSON.parse(b.stdout) as { means: number[][] }).means).toEqual(out.means);
  });

  it('ddpm --restarts of the paper\'s student run together: the text names the kept one and the others\' spread, the JSON how many per pass', async () => {
    // Batched passes carry the paper's student only; the default student's restarts run in turn (restartsTogether 1).
    const paper = ['--covariance', 'identity', '--weights', 'equal'];
    const [text, json, general] = await Promise.all([
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--restarts', '3', '--steps', '10', '--backend', 'cpu', ...paper], dir),
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--restarts', '3', '--steps', '10', '--backend', 'cpu', '--json', ...paper], dir),
      cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--restarts', '3', '--steps', '10', '--backend', 'cpu', '--json'], dir),
    ]);
    expect(general.code, general.stderr).toBe(0);
    expect((JSON.parse(general.stdout) as { restartsTogether: number; covariance: string }).restartsTogether).toBe(1);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { restarts: { logLikelihood: number }[]; bestRestart: number; restartsTogether: number };
    expect(out.restartsTogether).toBe(3);
    const lls = out.restarts.map((r) => r.logLikelihood);
    const others = lls.filter((_, i) => i !== out.bestRestart);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`restarts: kept ${out.bestRestart + 1} of 3, run 3 at a time in one pass over the data`);
    expect(text.stdout).toMatch(/average log-likelihood -?[\d.]+; the other 2: -?[\d.]+ to -?[\d.]+\)/);
    expect(Math.max(...others)).toBeLessThanOrEqual(lls[out.bestRestart]!);
  });

  it('fit --out c.npy writes the centres there and the model file c.json beside them; predict reads it', async () => {
    const fit = await cli(['fit', '--data', 'x.npy', '--k', `${K}`, '--backend', 'cpu', '--out', 'c.npy'], dir);
    expect(fit.code, fit.stderr).toBe(0);
    expect(fit.stdout).toMatch(/wrote the 3 x 4 centres to c\.npy, and the model file beside them to c\.json/);
    const centres = readMatrixFile(join(dir, 'c.npy'), 'centres');
    const model = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf-8')) as { format: string; means: number[][]; history: unknown[]; settings: { k: number } };
    expect(model.format).toBe('ddpm-gmm-model');
    expect(model.means.flat()).toEqual(Array.from(centres.data));
    expect(model.history.length).toBeGreaterThan(0);
    expect(model.settings.k).toBe(K);

    const [json, text] = await Promise.all([
      cli(['predict', '--model', 'c.json', '--data', 'x.npy', '--out', 'labels.csv', '--proba', 'p.npy', '--json'], dir),
      cli(['predict', '--model', 'c.json', '--data', 'x.npy'], dir),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout) as { n: number; d: number; nComponents: number; labels: number[]; proba: number[][]; counts: number[]; averageLogLikelihood: number };
    expect([r.n, r.d, r.nComponents]).toEqual([N, D, K]);
    expect(r.labels).toHaveLength(N);
    r.proba.forEach((row, i) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(r.labels[i]).toBe(row.indexOf(Math.max(...row)));
    });
    expect(r.counts.reduce((a, b) => a + b, 0)).toBe(N);
    expect(Number.isFinite(r.averageLogLikelihood)).toBe(true);
    // The files hold the same labels and responsibilities.
    expect(Array.from(readMatrixFile(join(dir, 'labels.csv'), 'labels').data)).toEqual(r.labels);
    expect(Array.from(readMatrixFile(join(dir, 'p.npy'), 'proba').data)).toEqual(r.proba.flat());
    // generate puts sample i in component i % K: the labels agree up to a relabelling, bar a few.
    const match = centreError(centres, mu()).match;
    const right = r.labels.filter((l, i) => match[l] === i % K).length;
    expect(right / N).toBeGreaterThan(0.97);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/rows per component: 0: \d+, 1: \d+, 2: \d+/);
    expect(text.stdout).toMatch(/^labels \(first 20 rows/m);
  });

  it('predict on a model file made by hand labels every sample by its true centre', async () => {
    const r = await cli(['predict', '--model', 'model-mu.json', '--data', 'x.npy', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const labels = (JSON.parse(r.stdout) as { labels: number[] }).labels;
    expect(labels.filter((l, i) => l === i % K).length / N).toBeGreaterThan(0.97);
  });
});

describe('ddpm-gmm (bad input)', () => {
  const fit = (extra: string[], out: string): string[] => [
    'fit', '--data', 'x.npy', '--k', `${K}`, '--schedule', 'single', '--init-seed', '1', '--t', '0.5', '--steps', '5', '--lr', '0.5', '--backend', 'cpu', '--out', out, ...extra,
  ];
  const fitDefaults = (extra: string[], out: string): string[] => ['fit', '--data', 'x.npy', '--k', `${K}`, '--backend', 'cpu', '--out', out, ...extra];
  const predict = (model: string, extra: string[], out: string): string[] => ['predict', '--model', model, '--data', 'x.npy', '--out', out.replace('.json', '.npy'), ...extra];
  const grad = (extra: string[]): string[] => ['grad', '--data', 'x.npy', '--t', '0.5', '--seed', '1', '--backend', 'cpu', ...extra];
  /** [name, argv, expected exit code, pattern the message must match, output file that must not appear] */
  const cases: [string, (out: string) => string[], number, RegExp][] = [
    ['missing file', (o) => fit(['--data', 'nope.npy'], o), 2, /nope\.npy' does not exist; check the path/],
    ['neither .npy nor CSV', (o) => fit(['--data', 'junk.bin'], o), 2, /junk\.bin' is neither a \.npy file nor CSV/],
    ['other dtype', (o) => fit(['--data', 'i8.npy'], o), 2, /has dtype '<i8'; save it as float32 or float64/],
    ['not 2-D', (o) => fit(['--data', 'oned.npy'], o), 2, /shape \(6,\) but must be 2-D.*reshape\(-1, 1\)/],
    ['NaN', (o) => fit(['--data', 'nan.csv'], o), 2, /non-finite value \(NaN\) at row 3, column 2 \(1-based/],
    ['Inf', () => grad(['--means', 'mu.npy', '--data', 'inf.npy']), 2, /inf\.npy' has a non-finite value \(Infinity\) at row 6, column 3/],
    ['N < K', (o) => fit(['--k', '700'], o), 2, /N = 600 samples but K = 700 centres/],
    ['different d', () => grad(['--means', 'means3.npy']), 2, /data has d = 4 columns but means .* has d = 3/],
    ['noise shape', () => ['grad', '--data', 'x.npy', '--means', 'mu.npy', '--t', '0.5', '--noise', 'noise-short.npy', '--backend', 'cpu'], 2, /noise .* is 599 x 4 but the data is 600 x 4/],
    ['t = 0', (o) => fit(['--t', '0'], o), 2, /--t\) must be a finite number > 0.*got 0/],
    ['t < 0', (o) => fit(['--t=-1'], o), 2, /--t\) must be a finite number > 0.*got -1/],
    ['t = inf', (o) => fit(['--t', 'inf'], o), 2, /--t\) must be a finite number > 0.*got Infinity/],
    ['t = nan', () => grad(['--means', 'mu.npy', '--t', 'nan']), 2, /--t\) must be a finite number > 0.*got NaN/],
    ['lr = 0', (o) => fit(['--lr', '0'], o), 2, /--lr\) must be a finite number > 0/],
    ['lr < 0', (o) => fit(['--lr=-0.1'], o), 2, /--lr\) must be a finite number > 0/],
    ['lr = nan', (o) => fit(['--lr', 'nan'], o), 2, /--lr\) must be a finite number > 0, got NaN/],
    ['steps fractional', (o) => fit(['--steps', '2.5'], o), 2, /--steps\) must be a positive integer, got 2\.5/],
    ['steps = 0', (o) => fit(['--steps', '0'], o), 2, /--steps\) must be a positive integer, got 0/],
    ['steps text', (o) => fit(['--steps', 'ten'], o), 2, /--steps must be a number, got 'ten'/],
    ['K < 1', (o) => fit(['--k', '0'], o), 2, /K \(--k\) must be an integer >= 1, got 0/],
    ['generate K < 1', (o) => ['generate', '--k', '0', '--d', '2', '--n', '5', '--separation', '1', '--seed', '0', '--out', o.replace('.json', '.npy'), '--truth', o.replace('.json', '-mu.npy')], 2, /K \(--k\) must be an integer >= 1/],
    ['generate N < K', (o) => ['generate', '--k', '4', '--d', '2', '--n', '3', '--separation', '1', '--seed', '0', '--out', o.replace('.json', '.npy'), '--truth', o.replace('.json', '-mu.npy')], 2, /N = 3 samples but K = 4 centres/],
    ['tied with K = 3', (o) => fit(['--tied'], o), 2, /--tied needs K = 2 .* K = 3/],
    ['grad --tied with 3 centres', () => grad(['--means', 'mu.npy', '--tied']), 2, /--tied needs K = 2 .* K = 3/],
    ['tied means not symmetric', () => grad(['--means', 'mu2.npy', '--tied']), 2, /row 2 = -row 1 .*column 1 \(1-based\)/],
    ['unknown flag', (o) => fit(['--learning-rate', '1'], o), 2, /unknown flag '--learning-rate' for 'fit'; see 'ddpm-gmm fit --help'/],
    ['unknown command', () => ['train'], 2, /unknown command 'train'.*ddpm-gmm --help/],
    ['missing flag', () => ['grad', '--data', 'x.npy', '--seed', '1', '--t', '1'], 2, /'grad' needs --means/],
    ['divergence', (o) => fit(['--lr', '1e9', '--steps', '100'], o), 4, /diverged at step \d+ .*use a smaller --lr/],
    ['--tied without --schedule single', (o) => fitDefaults(['--tied'], o), 2, /--tied is a flag of the paper's Algorithm 1: add --schedule single/],
    ['--t on the annealed schedule', (o) => fitDefaults(['--schedule', 'annealed', '--t', '0.5'], o), 2, /--t is the noise scale t of --schedule single, warm or screened; the annealed schedule sets its own: drop --t/],
    ['--lr with em', (o) => fitDefaults(['--method', 'em', '--lr', '0.5'], o), 2, /--lr is the step size of .*--method em sets its own: drop --lr/],
    ['a loop flag with single', (o) => fit(['--checkpoint', 'ck.json'], o), 2, /--checkpoint belongs to the schedule loop, but --schedule single runs the paper's Algorithm 1/],
    ['--restarts 0', (o) => fitDefaults(['--restarts', '0'], o), 2, /number of restarts \(--restarts\) must be a positive integer, got 0/],
    ['--out of another kind', (o) => fitDefaults(['--out', o.replace('.json', '.txt')], o), 2, /must end in \.json \(the model file\), or in \.npy or \.csv/],
    ['--backend unknown', (o) => fitDefaults(['--backend', 'tpu'], o), 2, /--backend must be 'auto', 'gpu', 'cpu', got 'tpu'/],
    ['predict: no such model', (o) => predict('nope.json', [], o), 2, /model file \(--model\) 'nope\.json' does not exist/],
    ['predict: not JSON', (o) => predict('model-broken.json', [], o), 2, /model-broken\.json' is not valid JSON/],
    ['predict: not a model file', (o) => predict('model-other.json', [], o), 2, /this is not a ddpm-gmm model file \(format is "sklearn"/],
    ['--scale with --schedule single', (o) => fit(['--data', 'x.npy', '--k', '3', '--schedule', 'single', '--scale', 'within'], o), 2, /Algorithm 1 on the data as given: drop --scale within/],
    ['--covariance diag with --schedule single', (o) => fit(['--data', 'x.npy', '--k', '3', '--schedule', 'single', '--covariance', 'diag'], o), 2, /Algorithm 1, whose student has identity covariance and equal weights: drop --covariance/],
    ['predict: a newer version', (o) => predict('model-v4.json', [], o), 2, /model file version 4 is newer than this ddpm-gmm reads \(3\).*upgrade ddpm-gmm/],
    ['predict: inconsistent shapes', (o) => predict('model-ragged.json', [], o), 2, /dimension = 5 but its means row 1 \(1-based\) has 4 values/],
    ['predict: d mismatch', (o) => ['predict', '--model', 'model-mu.json', '--data', 'means3.npy', '--out', o.replace('.json', '.npy')], 2, /'means3\.npy' has d = 3 columns but the model \(--model\) 'model-mu\.json' was fitted in d = 4/],
    ['predict: --proba of another kind', (o) => predict('model-mu.json', ['--proba', 'p.txt'], o), 2, /--proba 'p\.txt' must end in \.npy or \.csv/],
  ];

  it('each fails with one "ddpm-gmm: error:" line naming the problem, a non-zero exit code, no stack and no output file', async () => {
    const outcomes = await Promise.all(cases.map(([, argv], i) => cli(argv(`out-${i}.json`), dir)));
    cases.forEach(([name, , code, pattern], i) => {
      const r = outcomes[i]!;
      // Progress lines of the steps that ran before a divergence may precede the error line.
      const lines = r.stderr.split('\n').filter((l) => l.length > 0 && !/^fit: step \d+\/\d+ /.test(l));
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(/^ddpm-gmm: error: /);
      expect(lines[0], name).toMatch(pattern);
      expect(r.stderr.trimEnd().endsWith(lines[0]!), name).toBe(true);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
      expect(r.code, name).toBe(code);
      expect(r.stdout, name).toBe('');
      for (const f of [`out-${i}.json`, `out-${i}.npy`, `out-${i}-mu.npy`]) expect(existsSync(join(dir, f)), `${name}: ${f}`).toBe(false);
    });
  });
});

describe('error boundary', () => {
  it('maps typed errors to exit codes 2, 3, 4 and anything else to an internal error with the debug hint', () => {
    expect(describeError(new InputError('bad\ninput'))).toEqual({ line: 'ddpm-gmm: error: bad input', code: 2 });
    expect(describeError(new DeviceError('no adapter')).code).toBe(3);
    expect(describeError(new DivergenceError(3, 'diverged')).code).toBe(4);
    const internal = describeError(new TypeError('x is undefined'));
    expect(internal.code).toBe(1);
    expect(internal.line).toBe('ddpm-gmm: internal error: x is undefined (set DDPM_GMM_DEBUG=1 for the stack trace)');
  });
});

describe('seeded initialisations', () => {
  it('--init-seed picks K distinct rows, reproducibly, covering the range', () => {
    const a = seededRowIndices(10, 10, 7);
    expect([...a].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seededRowIndices(1000, 5, 7)).toEqual(seededRowIndices(1000, 5, 7));
    expect(seededRowIndices(1000, 5, 7)).not.toEqual(seededRowIndices(1000, 5, 8));
    // 2000 first draws over 4 rows: each count is Binomial(2000, 1/4), sd 19.4; 5 sd margin.
    const counts = [0, 0, 0, 0];
    for (let s = 0; s < 2000; s++) counts[seededRowIndices(4, 1, s)[0]!]!++;
    counts.forEach((c) => expect(Math.abs(c - 500)).toBeLessThan(5 * Math.sqrt(2000 * 0.25 * 0.75)));
  });

  it('the warm start moves every centre by exactly the given distance', () => {
    const truth = matrix(3, 5, Float64Array.from({ length: 15 }, (_, i) => i));
    const init = warmStart(truth, 2, 1);
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += (init.data[j * 5 + c]! - truth.data[j * 5 + c]!) ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(2, 12);
    }
  });
});
