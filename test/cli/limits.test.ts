// Damaged files and sizes beyond a limit are refused before any allocation, with one line naming the field or the
// limit (issue 18): model files (dimension 1e15, a BOM), checkpoints, --n beyond memory, /dev/zero, a closed pipe.
import { exec } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli } from '../support/cli.ts';
import { InputError } from '../../src/errors.ts';
import { matrix } from '../../src/matrix.ts';


let dir = '';
const fitFlags = ['fit', '--data', 'x.csv', '--k', '2', '--backend', 'cpu', '--schedule', 'two-stage', '--steps', '12', '--log-every', '4'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-limits-'));
  const gen = await cli(['generate', '--k', '2', '--d', '3', '--n', '60', '--out', 'x.csv'], dir);
  expect(gen.code, gen.stderr).toBe(0);
  const fit = await cli([...fitFlags, '--checkpoint', 'ck.json', '--checkpoint-every', '4', '--out', 'm.json'], dir);
  expect(fit.code, fit.stderr).toBe(0);
  const model = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf-8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'dim.json'), JSON.stringify({ ...model, dimension: 1e15 }));
  writeFileSync(join(dir, 'bom.json'), `\uFEFF${JSON.stringify(model)}`);
  const ck = JSON.parse(readFileSync(join(dir, 'ck.json'), 'utf-8')) as Record<string, unknown>;
  const centres = ck['centres'] as number[][];
  const damaged: Record<string, Record<string, unknown>> = {
    'ck-step.json': { stepInStage: -5 },
    'ck-stage.json': { stageIndex: -1 },
    'ck-over.json': { stageIndex: 0, stepInStage: 1e6 },
    'ck-rows.json': { centres: [...centres, ...centres, ...centres] },
    'ck-history.json': { history: 'rows' },
  };
  for (const [f, change] of Object.entries(damaged)) writeFileSync(join(dir, f), JSON.stringify({ ...ck, ...change }));
});

describe('refusals before allocation', () => {
  it('a matrix beyond a typed array is an InputError naming the size', () => {
    expect(() => matrix(2 ** 31, 3)).toThrow(InputError);
    expect(() => matrix(2 ** 31, 3)).toThrow(/2147483648 x 3 matrix .* exceeds a JavaScript typed array's limit of 2\^32 - 1 values/);
  });

  const cases: [string, string[], RegExp][] = [
    ['model with dimension 1e15', ['predict', '--model', 'dim.json', '--data', 'x.csv'], /dimension = 1000000000000000 but its means row 1 \(1-based\) has 3 values/],
    ['checkpoint with stepInStage -5', [...fitFlags, '--resume', 'ck-step.json'], /damaged \(its stepInStage must be a whole number >= 0, got -5\)/],
    ['checkpoint with stageIndex -1', [...fitFlags, '--resume', 'ck-stage.json'], /stageIndex is -1, but this schedule's stages are 0 to 2 \(3 when finished\)/],
    ['checkpoint beyond its stage limit', [...fitFlags, '--resume', 'ck-over.json'], /stepInStage is 1000000, but stage 0 runs 0 to \d+ steps/],
    ['checkpoint with the wrong number of centre rows', [...fitFlags, '--resume', 'ck-rows.json'], /centres are 3 x 3 but this run's are 1 x 3/],
    ['checkpoint whose history is a string', [...fitFlags, '--resume', 'ck-history.json'], /history must be an array of rows/],
    ['generate --n 1e9', ['generate', '--k', '2', '--d', '2', '--n', '1e9', '--out', 'g.npy'], /--n 1000000000 with d = 2 needs about 29\.8 GiB|beyond a JavaScript typed array/],
    ['sample --n 4294967295 --method direct', ['sample', '--model', 'm.json', '--n', '4294967295', '--method', 'direct', '--out', 's.npy'], /--n 4294967295 with d = 3 makes 12884901885 values, beyond a JavaScript typed array's limit/],
    ['--data /dev/zero', ['predict', '--model', 'm.json', '--data', '/dev/zero'], /'\/dev\/zero' is not a regular file and gives more than 1 GiB: save the data to a file first/],
  ];
  it.each(cases)('%s', async (_name, argv, pattern) => {
    const r = await cli(argv, dir);
    expect(r.stderr.trim()).toMatch(/^ddpm-gmm: error: [^\n]*$/);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('a model file with a UTF-8 byte-order mark reads as without one', async () => {
    const [a, b] = await Promise.all([cli(['predict', '--model', 'bom.json', '--data', 'x.csv', '--json'], dir), cli(['predict', '--model', 'm.json', '--data', 'x.csv', '--json'], dir)]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('a closed stdout pipe ends the command quietly with exit 0', async () => {
    const { stdout, stderr } = await promisify(exec)(`"${process.execPath}" "${BIN}" predict --model m.json --data x.csv --json | head -c 20; echo "rc=\${PIPESTATUS[0]}"`, { cwd: dir, shell: '/bin/bash' });
    expect(stderr).toBe('');
    expect(stdout).toMatch(/rc=0\n$/);
  });
});
