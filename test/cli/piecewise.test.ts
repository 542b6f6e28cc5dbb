// ddpm-gmm fit --model piecewise and sample end to end (spawned from the sources through bin/dev.js, --backend cpu):
// the model file that fit writes is the estimator's, sample reads it and draws what the library draws, and each bad
// input is one line on stderr, exit code 2, and no file written.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMatrixFile } from '../../src/io/files.ts';
import { PiecewiseScoreModel } from '../../src/piecewise-estimator.ts';
import { cli } from '../support/cli.ts';

let dir = '';
const fitArgs = ['fit', '--model', 'piecewise', '--data', 'x.npy', '--levels', '5', '--cells', '4', '--draws', '2', '--backend', 'cpu'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-piecewise-'));
  expect((await cli(['generate', '--k', '2', '--d', '3', '--n', '1000', '--seed', '2', '--out', 'x.npy'], dir)).code).toBe(0);
  expect((await cli(['generate', '--k', '2', '--d', '2', '--n', '1000', '--seed', '2', '--out', 'x2.npy'], dir)).code).toBe(0);
  expect((await cli(['fit', '--data', 'x.npy', '--k', '2', '--method', 'em', '--backend', 'cpu', '--out', 'student.json'], dir)).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fit --model piecewise, then sample', () => {
  it('writes the estimator\'s model file, with a progress line per level; sample draws what the library draws', async () => {
    const f = await cli([...fitArgs, '--out', 'pw.json'], dir);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/fit \(piecewise\): step 5\/5 t 0\.01, \d cells/);
    expect(f.stdout).toMatch(/model: piecewise, degree 1; N = 1000, d = 3; 5 levels from t = 8 to 0\.01/);
    expect(f.stdout).toMatch(/wrote the model file pw\.json/);
    const file = JSON.parse(readFileSync(join(dir, 'pw.json'), 'utf-8')) as Record<string, unknown>;
    expect(file).toMatchObject({ format: 'ddpm-gmm-model', version: 2, model: 'piecewise', dimension: 3, settings: { levels: 5, cells: 4, draws: 2, backend: 'cpu' } });
    expect(file['reports']).toHaveLength(5);
    const lib = new PiecewiseScoreModel({ cells: 4, levels: 5, draws: 2, backend: 'cpu' });
    await lib.fit(readMatrixFile(join(dir, 'x.npy'), 'x'));
    expect(PiecewiseScoreModel.fromJSON(file).model).toEqual(lib.model);

    const s = await cli(['sample', '--model', 'pw.json', '--n', '200', '--seed', '3', '--out', 's.npy', '--backend', 'cpu'], dir);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/model: piecewise, degree 1, 5 levels, d = 3; sampled on cpu/);
    expect(s.stdout).toMatch(/horizon 8, tMin 0, steps 100/);
    expect(readMatrixFile(join(dir, 's.npy'), 's').data).toEqual((await lib.sample(200, { seed: 3 })).data);
    const j = await cli(['sample', '--model', 'pw.json', '--n', '50', '--out', 's.csv', '--backend', 'cpu', '--json'], dir);
    expect(JSON.parse(j.stdout)).toMatchObject({ n: 50, d: 3, model: 'piecewise', degree: 1, levels: 5, method: 'reverse', backend: 'cpu' });
  });

  const bad: [string, string[], RegExp, string?][] = [
    ['a student flag', [...fitArgs, '--k', '2', '--out', 'b1.json'], /--k is a flag of the student model, not of --model piecewise/, 'b1.json'],
    ['a piecewise flag without --model piecewise', ['fit', '--data', 'x.npy', '--k', '2', '--cells', '4', '--out', 'b2.json'], /--cells is a flag of the piecewise model: add --model piecewise/, 'b2.json'],
    ['an unknown model', ['fit', '--model', 'flow', '--data', 'x.npy'], /--model must be 'student' or 'piecewise', got 'flow'/],
    ['degree 3', [...fitArgs, '--degree', '3', '--out', 'b3.json'], /--degree must be 1 or 2, got 3/, 'b3.json'],
    ['one level', [...fitArgs, '--levels', '1', '--out', 'b4.json'], /levels >= 2/, 'b4.json'],
    ['more cells than rows', [...fitArgs, '--cells', '5000', '--out', 'b5.json'], /J = 5000 cells but only N = 1000 data rows/, 'b5.json'],
    ['a .npy --out', [...fitArgs, '--out', 'b6.npy'], /--out 'b6.npy' must end in .json/, 'b6.npy'],
    ['--out over --data', [...fitArgs.slice(0, 3), '--data', 'x.json', '--out', 'x.json'], /--out 'x.json' is the --data file/],
    ['sample --method direct', ['sample', '--model', 'pw.json', '--n', '5', '--method', 'direct', '--out', 'b7.npy'], /--method direct draws from a mixture, but .* is a piecewise score/, 'b7.npy'],
    ['a file that is not a model', ['sample', '--model', 'x2.npy', '--n', '5', '--out', 'b8.npy', '--backend', 'cpu'], /model file \(--model\) 'x2\.npy' is not valid JSON/, 'b8.npy'],
    ['a JSON file that is not a model', ['sample', '--model', 'other.json', '--n', '5', '--out', 'b9.npy', '--backend', 'cpu'], /this is not a ddpm-gmm model file/, 'b9.npy'],
    ['a Langevin start of another d', ['sample', '--model', 'pw.json', '--n', '5', '--method', 'langevin', '--start', 'x2.npy', '--out', 'b10.npy', '--backend', 'cpu'], /has d = 2 columns but the model .* has d = 3/, 'b10.npy'],
    ['a --ridge that is not a lambda', [...fitArgs, '--ridge', '-1', '--out', 'b11.json'], /--ridge must be 'held-out' or a relative lambda >= 0 such as 1e-6, got '-1'/, 'b11.json'],
    ['predict with a piecewise model', ['predict', '--model', 'pw.json', '--data', 'x.npy'], /a piecewise model file, a score with no mixture components to predict/],
  ];
  for (const [name, args, message, output] of bad) {
    it(`refuses ${name}: one line, exit code 2, no file`, async () => {
      writeFileSync(join(dir, 'other.json'), '{"format": "sklearn"}');
      const r = await cli(args, dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      if (output) expect(existsSync(join(dir, output))).toBe(false);
    });
  }

  it('takes a fixed --ridge, into the fit and the file\'s settings, where the held-out rule has too few rows', async () => {
    writeFileSync(join(dir, 'x9.csv'), '1,2,3\n4,5,6\n0,1,0\n2,2,2\n-1,0,1\n3,1,4\n1,5,9\n2,6,5\n3,5,8\n');
    const nine = ['fit', '--model', 'piecewise', '--data', 'x9.csv', '--levels', '3', '--cells', '1', '--backend', 'cpu'];
    const refused = await cli([...nine, '--out', 'r0.json'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the held-out ridge rule needs N >= 10 rows .* --ridge 1e-6/);
    const r = await cli([...nine, '--ridge', '1e-6', '--out', 'r1.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'r1.json'), 'utf-8')) as { settings: { ridge: number }; reports: { lambda: number }[] };
    expect(file.settings.ridge).toBe(1e-6);
    for (const level of file.reports) expect(level.lambda).toBe(1e-6);
  });

  it('sample reads the student\'s model file as before', async () => {
    const r = await cli(['sample', '--model', 'student.json', '--n', '20', '--out', 'st.npy', '--backend', 'cpu', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: 'student', nComponents: 2, d: 3 });
  });
});
