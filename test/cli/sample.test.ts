// ddpm-gmm sample end to end (spawned from the sources through bin/dev.js, --backend cpu): it writes n x d
// samples, reports progress on stderr unless --json, and refuses each bad input with one line, exit code 2
// (4 for a divergent run) and no output file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DdpmGmm } from '../../src/estimator.ts';
import { readMatrixFile, writeMatrixFile } from '../../src/io/files.ts';
import { matrix } from '../../src/types.ts';
import { cli } from '../support/cli.ts';

let dir = '';
const D = 4;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-sample-'));
  const g = await cli(['generate', '--k', '3', '--d', `${D}`, '--n', '900', '--separation', '6', '--seed', '2', '--out', 'x.npy'], dir);
  expect(g.code).toBe(0);
  // The paper's student (model.json), and a general one (general.json).
  const f = await cli(['fit', '--data', 'x.npy', '--k', '3', '--method', 'em', '--covariance', 'identity', '--weights', 'equal', '--backend', 'cpu', '--out', 'model.json', '--json'], dir);
  expect(f.code).toBe(0);
  const g2 = await cli(['fit', '--data', 'x.npy', '--k', '3', '--covariance', 'diag', '--weights', 'learned', '--backend', 'cpu', '--out', 'general.json', '--json'], dir);
  expect(g2.code).toBe(0);
  writeMatrixFile(join(dir, 'start3.npy'), matrix(40, 3, new Float64Array(120)));
  writeMatrixFile(join(dir, 'start-rows.npy'), matrix(39, D, new Float64Array(39 * D)));
  writeMatrixFile(join(dir, 'start.npy'), matrix(40, D, new Float64Array(40 * D).fill(0.5)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['sample', '--model', 'model.json', '--backend', 'cpu'];

describe('sample writes samples', () => {
  it('reverse diffusion by default: an n x d .npy, progress on stderr, a summary on stdout', async () => {
    const r = await cli([...base, '--n', '300', '--out', 's.npy'], dir);
    expect(r.code).toBe(0);
    const s = readMatrixFile(join(dir, 's.npy'), 's');
    expect([s.rows, s.cols]).toEqual([300, D]);
    expect(s.data.every(Number.isFinite)).toBe(true);
    // stderr is a pipe here: plain progress lines, the last one at the final step (100 by the default rule).
    expect(r.stderr).toMatch(/sample \(reverse\): step 100\/100/);
    expect(r.stdout).toMatch(/method: reverse \(integrator exponential, horizon [\d.]+, tMin 0, steps 100, grid geometric, seed 0\)/);
    expect(r.stdout).toMatch(/wrote 300 x 4 samples to s\.npy/);
    // The same samples as the library call with the same options.
    const model = DdpmGmm.fromJSON(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf-8')), { backend: 'cpu' });
    expect(s.data).toEqual((await model.sample(300)).data);
  });

  it("a version-3 general student's file (diag, learned): its variances and weights drive the sampler, as the library's", async () => {
    const text = readFileSync(join(dir, 'general.json'), 'utf-8');
    expect(JSON.parse(text)).toMatchObject({ version: 3, covariance: 'diag', weights: 'learned' });
    const r = await cli(['sample', '--model', 'general.json', '--backend', 'cpu', '--n', '200', '--method', 'ode', '--steps', '40', '--out', 'g.npy', '--json'], dir);
    expect(r.code).toBe(0);
    const s = readMatrixFile(join(dir, 'g.npy'), 'g');
    expect([s.rows, s.cols]).toEqual([200, D]);
    const model = DdpmGmm.fromJSON(JSON.parse(text), { backend: 'cpu' });
    expect(s.data).toEqual((await model.sample(200, { method: 'ode', steps: 40 })).data);
    // Without --method, a general student samples by the ODE, as sample() does.
    const byDefault = await cli(['sample', '--model', 'general.json', '--backend', 'cpu', '--n', '100', '--steps', '20', '--out', 'gd.npy'], dir);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.stdout).toMatch(/method: ode \(integrator heun,/);
    expect(readMatrixFile(join(dir, 'gd.npy'), 'gd').data).toEqual((await model.sample(100, { steps: 20 })).data);
  });

  it('--json: the settings used on stdout, nothing on stderr; a .csv output', async () => {
    const r = await cli([...base, '--n', '50', '--method', 'ode', '--steps', '30', '--horizon', '6', '--t-min', '0.001', '--grid', 'uniform', '--seed', '4', '--out', 's.csv', '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ n: 50, d: D, nComponents: 3, method: 'ode', out: 's.csv', backend: 'cpu' });
    expect(out['settings']).toEqual({ method: 'ode', integrator: 'heun', horizon: 6, tMin: 0.001, steps: 30, grid: 'uniform', seed: 4 });
    const s = readMatrixFile(join(dir, 's.csv'), 's');
    expect([s.rows, s.cols]).toEqual([50, D]);
  });

  it('langevin from a --start file, and direct draws', async () => {
    const l = await cli([...base, '--n', '40', '--method', 'langevin', '--step-size', '0.05', '--steps', '50', '--start', 'start.npy', '--out', 'l.npy', '--json'], dir);
    expect(l.code).toBe(0);
    expect((JSON.parse(l.stdout) as { settings: unknown }).settings).toEqual({ method: 'langevin', stepSize: 0.05, steps: 50, seed: 0, start: 'start.npy' });
    expect(readMatrixFile(join(dir, 'l.npy'), 'l').rows).toBe(40);
    const d = await cli(['sample', '--model', 'model.json', '--n', '40', '--method', 'direct', '--seed', '3', '--out', 'd.npy', '--json'], dir);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ method: 'direct', settings: { method: 'direct', seed: 3 }, backend: null });
    const model = DdpmGmm.fromJSON(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf-8')));
    expect(readMatrixFile(join(dir, 'd.npy'), 'd').data).toEqual(model.sampleDirect(40, 3).data);
  });
});

describe('sample refuses bad input', () => {
  const bad: [string, string[], RegExp][] = [
    ['--n 0', ['--n', '0'], /number of samples \(--n\) must be a whole number with 1 <= n/],
    ['--n 2.5', ['--n', '2.5'], /number of samples \(--n\)/],
    ['a missing --n', [], /'sample' needs --n/],
    ['--steps 0', ['--n', '10', '--steps', '0'], /number of steps \(--steps\) must be a positive integer, got 0/],
    ['--steps 1.5', ['--n', '10', '--steps', '1.5'], /--steps\) must be a positive integer, got 1\.5/],
    ['--horizon 0 (T <= tMin)', ['--n', '10', '--horizon', '0'], /the horizon T \(--horizon\) must be a finite number greater than --t-min = 0, got 0/],
    ['--horizon 1 --t-min 1', ['--n', '10', '--horizon', '1', '--t-min', '1'], /greater than --t-min = 1, got 1/],
    ['--horizon inf', ['--n', '10', '--horizon', 'inf'], /--horizon\) must be a finite number/],
    ['--t-min -1', ['--n', '10', '--t-min', '-1'], /final time tMin \(--t-min\) must be a finite number >= 0, got -1/],
    ['--step-size 0', ['--n', '10', '--method', 'langevin', '--step-size', '0'], /step size \(--step-size\) must be a finite number > 0, got 0/],
    ['--step-size nan', ['--n', '10', '--method', 'langevin', '--step-size', 'nan'], /--step-size\) must be a finite number > 0, got NaN/],
    ['--step-size -1', ['--n', '10', '--method', 'langevin', '--step-size', '-1'], /--step-size\) must be a finite number > 0/],
    ['a --start with another d', ['--n', '40', '--method', 'langevin', '--start', 'start3.npy'], /has d = 3 columns but the model .* has d = 4/],
    ['a --start with other rows', ['--n', '40', '--method', 'langevin', '--start', 'start-rows.npy'], /has 39 rows but --n is 40/],
    ['--method ddim', ['--n', '10', '--method', 'ddim'], /--method must be one of direct, reverse, ode, langevin/],
    ['--integrator heun with reverse', ['--n', '10', '--integrator', 'heun'], /--integrator for --method reverse must be 'exponential' or 'euler-maruyama'/],
    ['--step-size with reverse', ['--n', '10', '--step-size', '0.1'], /--step-size is not a flag of --method reverse/],
    ['--horizon with langevin', ['--n', '10', '--method', 'langevin', '--horizon', '3'], /--horizon is not a flag of --method langevin/],
    ['--grid spiral', ['--n', '10', '--grid', 'spiral'], /--grid must be 'geometric' or 'uniform'/],
    ['--steps 1 on the geometric grid to 0', ['--n', '10', '--steps', '1'], /needs --steps 2 or more/],
    ['--seed -1', ['--n', '10', '--seed', '-1'], /seed \(--seed\)/],
    ['--out .txt', ['--n', '10', '--out', 'bad.txt'], /--out/],
    ['--out the model', ['--n', '10', '--out', 'model.json'], /--out/],
    ['a missing model', ['--n', '10', '--model', 'missing.json'], /does not exist/],
  ];
  for (const [name, flags, message] of bad) {
    it(`${name}: exit code 2, one line, no output file`, async () => {
      const out = flags.includes('--out') ? [] : ['--out', 'never.npy'];
      const r = await cli([...base, ...flags, ...out], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'never.npy'))).toBe(false);
      expect(existsSync(join(dir, 'bad.txt'))).toBe(false);
    });
  }

  it('--backend with --method direct is refused: direct opens no backend', async () => {
    const r = await cli([...base, '--n', '10', '--method', 'direct', '--out', 'never.npy'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backend is not a flag of --method direct/);
  });

  it('a divergent Langevin step size: exit code 4, the step named, a smaller --step-size suggested, no file', async () => {
    const r = await cli([...base, '--n', '20', '--method', 'langevin', '--step-size', '1e200', '--steps', '10', '--out', 'div.npy'], dir);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ddpm-gmm: error: sampling diverged at step \d+ \(0-based\): a sample became NaN or infinite with --step-size 1e\+200; use a smaller --step-size, e\.g\. 1e\+199/m);
    expect(existsSync(join(dir, 'div.npy'))).toBe(false);
  });
});
