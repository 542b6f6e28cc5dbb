// No input is ever overwritten (issue 18): guardPaths refuses an output that is an input by name, symlink or hard
// link, and each command's flags reach it; a refused command leaves its inputs byte-identical.
import { linkSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { guardPaths } from '../../src/cli/paths.ts';
import { InputError } from '../../src/errors.ts';


let dir = '';
const csv = '1,2\n3,4\n5,6\n-1,-2\n-3,-4\n-5,-6\n';
const model = `${JSON.stringify({ format: 'ddpm-gmm-model', version: 2, kind: 'student', nComponents: 2, dimension: 2, means: [[3, 4], [-3, -4]] })}\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-paths-'));
  writeFileSync(join(dir, 'X.csv'), csv);
  writeFileSync(join(dir, 'D.json'), csv);
  writeFileSync(join(dir, 'M.json'), model);
  symlinkSync(join(dir, 'X.csv'), join(dir, 'link.csv'));
  linkSync(join(dir, 'X.csv'), join(dir, 'hard.csv'));
  writeFileSync(join(dir, 'Y.csv'), '3,4\n-3,-4\n');
  symlinkSync('Y.csv', join(dir, 'ylink.csv'));
  linkSync(join(dir, 'Y.csv'), join(dir, 'yhard.csv'));
});

describe('guardPaths', () => {
  const refuse = (reads: [string, string][], writes: [string, string][], pattern: RegExp): void => {
    const use = (l: [string, string][]) => l.map(([flag, p]) => ({ flag, path: join(dir, p) }));
    expect(() => guardPaths(use(reads), use(writes))).toThrow(InputError);
    expect(() => guardPaths(use(reads), use(writes))).toThrow(pattern);
  };

  it('refuses a write onto a read by name, through a symlink and through a hard link, naming both flags', () => {
    refuse([['--data', 'X.csv']], [['--history', 'X.csv']], /--history '.*X\.csv' is the --data file, which it would overwrite; give --history another name/);
    refuse([['--data', 'X.csv']], [['--out', 'link.csv']], /--out '.*link\.csv' is the --data file '.*X\.csv' \(through a link\)/);
    refuse([['--data', 'X.csv']], [['--proba', 'hard.csv']], /--proba '.*hard\.csv' is the --data file '.*X\.csv' \(through a link\)/);
    refuse([['--data', 'link.csv']], [['--out', 'hard.csv']], /--out .* is the --data file/);
    // A path spelled another way (./, ..) is the same file.
    refuse([['--data', 'X.csv']], [['--out', `../${dir.split('/').pop()}/./X.csv`]], /is the --data file/);
  });

  it('refuses two writes to one file, and lets distinct files and allowed pairs through', () => {
    refuse([], [['--out', 'new.csv'], ['--truth', 'new.csv']], /--out and --truth are the same file/);
    refuse([], [['--out', 'X.csv'], ['--truth', 'link.csv']], /--out and --truth are the same file/);
    const p = (f: string) => join(dir, f);
    expect(() => guardPaths([{ flag: '--data', path: p('X.csv') }], [{ flag: '--out', path: p('new.csv') }, { flag: '--proba', path: undefined }])).not.toThrow();
    expect(() => guardPaths([{ flag: '--resume', path: p('D.json') }], [{ flag: '--checkpoint', path: p('D.json') }], [['--resume', '--checkpoint']])).not.toThrow();
  });
});

describe('every command checks every flag before any work, and the input is unchanged', () => {
  const fit = ['fit', '--data', 'X.csv', '--k', '2', '--backend', 'cpu', '--steps', '3'];
  const cases: [string, string[], RegExp][] = [
    ['fit --history onto --data', [...fit, '--history', 'X.csv'], /--history 'X\.csv' is the --data file/],
    ['fit --checkpoint onto --data', ['fit', '--data', 'D.json', '--k', '2', '--backend', 'cpu', '--checkpoint', 'D.json'], /--checkpoint 'D\.json' is the --data file/],
    ['fit --out beside centres onto --data', ['fit', '--data', 'D.json', '--k', '2', '--backend', 'cpu', '--out', 'D.npy'], /--out 'D\.json' is the --data file/],
    ['fit --out onto --init', [...fit, '--schedule', 'warm', '--init', 'yhard.csv', '--out', 'Y.csv'], /--out 'Y\.csv' is the --init file 'yhard\.csv' \(through a link\)/],
    ['fit --history onto --truth', [...fit, '--truth', 'ylink.csv', '--history', 'Y.csv'], /--history 'Y\.csv' is the --truth file 'ylink\.csv' \(through a link\)/],
    ['fit --checkpoint onto --resume is allowed, --history onto it is not', [...fit, '--resume', 'M.json', '--checkpoint', 'M.json', '--history', 'hard.csv'], /--history 'hard\.csv' is the --data file 'X\.csv'/],
    ['fit --schedule single --out onto --data', [...fit.slice(0, 5), '--schedule', 'single', '--out', 'link.csv'], /--out 'link\.csv' is the --data file 'X\.csv'/],
    ['fit --model piecewise', ['fit', '--model', 'piecewise', '--data', 'D.json', '--out', 'D.json'], /--out 'D\.json' is the --data file/],
    ['predict --proba onto --data', ['predict', '--model', 'M.json', '--data', 'X.csv', '--proba', 'hard.csv'], /--proba 'hard\.csv' is the --data file 'X\.csv' \(through a link\)/],
    ['predict --out onto --model', ['predict', '--model', 'M.json', '--data', 'X.csv', '--out', 'M.json'], /must end in \.npy or \.csv/],
    ['predict --out and --proba', ['predict', '--model', 'M.json', '--data', 'X.csv', '--out', 'a.csv', '--proba', 'a.csv'], /--out and --proba are the same file/],
    ['sample --out onto --start', ['sample', '--model', 'M.json', '--n', '6', '--method', 'langevin', '--start', 'X.csv', '--out', 'link.csv'], /--out 'link\.csv' is the --start file 'X\.csv'/],
    ['generate --out and --truth', ['generate', '--k', '2', '--d', '2', '--n', '6', '--out', 'X.csv', '--truth', 'hard.csv'], /--out and --truth are the same file/],
  ];
  it.each(cases)('%s', async (_name, argv, pattern) => {
    const inputs = ['X.csv', 'Y.csv', 'D.json', 'M.json'];
    const before = inputs.map((f) => readFileSync(join(dir, f)));
    const r = await cli(argv, dir);
    expect(r.stderr.trim()).toMatch(/^ddpm-gmm: error: [^\n]*$/);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    inputs.forEach((f, i) => expect(readFileSync(join(dir, f)).equals(before[i]!), f).toBe(true));
  });
});
