// The CLI's schedule loop end to end (spawned from the sources, --backend cpu): fit with --schedule/--method/--truth/--history,
// --checkpoint then --resume to the same means, experiment's bad inputs, and bad values of the new flags.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(__dirname, '..', '..', 'bin', 'dev.js'); // the sources through tsx; test/package runs the compiled bin
const run = promisify(execFile);

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

let dir = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-exp-'));
  const g = await cli(['generate', '--k', '2', '--d', '4', '--n', '1500', '--separation', '6', '--seed', '3', '--out', 'x.npy', '--truth', 'mu.npy'], dir);
  expect(g.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['fit', '--data', 'x.npy', '--k', '2', '--backend', 'cpu', '--json'];

describe('fit with schedules', () => {
  it('two-stage with --truth and --history writes a CSV with errors and angles', async () => {
    const r = await cli([...base, '--schedule', 'two-stage', '--truth', 'mu.npy', '--history', 'h.csv'], dir);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { error: number; nIter: number; schedule: string };
    expect(out.schedule).toBe('two-stage');
    // sqrt(d/N) = 0.05; 0.3 is six times that.
    expect(out.error).toBeLessThan(0.3);
    const lines = readFileSync(join(dir, 'h.csv'), 'utf-8').trim().split('\n');
    const head = lines[0]!.split(',');
    expect(head).toContain('angle');
    expect(lines.length).toBeGreaterThan(2);
    // Stage-1 rows carry the spectral rule's gap sin(m, v), a number in [0, 1]; stage-2 rows leave it empty.
    const gapAt = head.indexOf('direction_gap');
    expect(gapAt).toBeGreaterThan(0);
    const stage1 = lines.slice(1).filter((l) => l.includes('"stage 1"')).map((l) => Number(l.split(',')[gapAt]));
    expect(stage1.length).toBeGreaterThan(0);
    for (const g of stage1) expect(g >= 0 && g <= 1).toBe(true);
    const stage2 = lines.slice(1).filter((l) => l.includes('"stage 2"'));
    for (const l of stage2) expect(l.split(',')[gapAt]).toBe('');
  });

  it('--connections adds the two connection cosines to the history CSV', async () => {
    const r = await cli([...base, '--schedule', 'two-stage', '--truth', 'mu.npy', '--connections', '--history', 'hc.csv'], dir);
    expect(r.code).toBe(0);
    const lines = readFileSync(join(dir, 'hc.csv'), 'utf-8').trim().split('\n');
    const head = lines[0]!.split(',');
    const [p, g] = [head.indexOf('cos_power'), head.indexOf('cos_gradient_em')];
    expect(p).toBeGreaterThan(0);
    expect(g).toBeGreaterThan(0);
    for (const l of lines.slice(1)) {
      for (const at of [p, g]) {
        // Every row of two-stage is a GD chunk of the tied student: both cosines are there.
        const cell = l.split(',')[at]!;
        expect(cell).not.toBe('');
        expect(Math.abs(Number(cell))).toBeLessThanOrEqual(1 + 1e-12);
      }
    }
  });

  it('--average-steps 0 returns the last iterate (no averaging stage); the default averages 100 steps', async () => {
    const off = await cli([...base, '--schedule', 'two-stage', '--average-steps', '0'], dir);
    expect(off.code).toBe(0);
    const stagesOff = (JSON.parse(off.stdout) as { history: { stage: string }[] }).history.map((h) => h.stage);
    expect(stagesOff.some((x) => x.includes('(average)'))).toBe(false);
    const on = await cli([...base, '--schedule', 'two-stage'], dir);
    const stagesOn = (JSON.parse(on.stdout) as { history: { stage: string }[] }).history.map((h) => h.stage);
    // 100 steps in chunks of the default log interval 5.
    expect(stagesOn.filter((x) => x === 'stage 2 (average)').length).toBe(20);
  });

  it('--checkpoint then --resume from it ends with the same means as the uninterrupted run', async () => {
    const flags = [...base, '--schedule', 'two-stage', '--tol', '1e-12', '--steps', '12', '--log-every', '4'];
    const full = await cli([...flags, '--checkpoint', 'c.json', '--checkpoint-every', '4'], dir);
    expect(full.code).toBe(0);
    expect(existsSync(join(dir, 'c.json'))).toBe(true);
    // The final checkpoint is at the end: resuming from it redoes nothing and returns the same means.
    const again = await cli([...flags, '--resume', 'c.json'], dir);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { means: number[][] }).means).toEqual((JSON.parse(full.stdout) as { means: number[][] }).means);
    const other = await cli([...base, '--schedule', 'two-stage', '--resume', 'c.json'], dir);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other data or settings/);
  });

  const bad: [string[], RegExp][] = [
    [['--method', 'kmeans'], /--method must be one of/],
    [['--schedule', 'fast'], /--schedule must be one of/],
    [['--schedule', 'warm'], /needs initial centres/],
    [['--tol', '0'], /tolerance/],
    [['--tol', 'abc'], /must be a number/],
    [['--average-steps', '-1'], /averaging steps/],
    [['--average-steps', '2.5'], /averaging steps/],
    [['--history', 'h.txt'], /must end in .csv/],
    [['--checkpoint', 'c.txt'], /must end in .json/],
    [['--checkpoint-every', '0', '--checkpoint', 'c2.json'], /checkpoint interval/],
    [['--resume', 'missing.json'], /does not exist/],
    [['--truth', 'x.npy'], /rows but --k is 2/],
    [['--method', 'power', '--checkpoint', 'c3.json'], /drop --checkpoint/],
    [['--method', 'em', '--connections'], /--connections measures DDPM-GD steps/],
  ];
  for (const [flags, message] of bad) {
    it(`rejects ${flags.join(' ')} with exit code 2 and one line`, async () => {
      const r = await cli([...base, ...flags], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('experiment', () => {
  it('an unknown name, a missing name and an unknown flag are exit code 2', async () => {
    expect((await cli(['experiment', 'nope'], dir)).stderr).toMatch(/unknown experiment 'nope'/);
    expect((await cli(['experiment'], dir)).stderr).toMatch(/needs a name/);
    const r = await cli(['experiment', 'connections', '--fast'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flag/);
  });

  it('--max-n that is not a whole number >= 64 is exit code 2', async () => {
    for (const bad of ['10', '1e3.5', 'abc', '100.5']) {
      const r = await cli(['experiment', 'connections', '--quick', '--max-n', bad], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--max-n/);
    }
  });

  it('connections --quick --json writes report.json and figure.svg into --out', async () => {
    // --max-n caps the quick N = 20000, and every row names the N it ran with.
    const r = await cli(['experiment', 'connections', '--quick', '--max-n', '12000', '--json', '--backend', 'cpu', '--out', 'res'], dir);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'res', 'report.json'), 'utf-8')) as { maxN: number; rows: { method: string; value: number; setting: string }[] };
    expect(report.maxN).toBe(12000);
    expect(report.rows.length).toBeGreaterThan(0);
    for (const row of report.rows) expect(row.setting).toContain('N=12000');
    const high = report.rows.find((x) => x.method.includes('power') && x.setting.startsWith('t=2'));
    // Lemma 8: at high t the DDPM step is a power-iteration step; 0.9 is loose against d = 16 sampling noise.
    expect(high!.value).toBeGreaterThan(0.9);
    const svg = readFileSync(join(dir, 'res', 'figure.svg'), 'utf-8');
    expect(svg).toMatch(/^<svg/);
    // A linear panel of both cosines against t, one marker per measured row.
    expect(svg).toContain('connections: cosine with the DDPM step vs t');
    expect((svg.match(/<circle /g) ?? []).length).toBe(report.rows.length);
  });
});
