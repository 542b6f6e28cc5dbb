// The streamed front doors of the CLI: fit --schedule single with --chunk-rows gives the same bits from a .npy
// file and from its CSV copy, a budget too small is refused naming the smallest, and predict with --chunk-rows
// writes the labels, responsibilities and log-likelihood of the whole-data predict.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCsv } from '../../src/io/csv.ts';
import { readMatrixFile } from '../../src/io/files.ts';
import { serializeNpy } from '../../src/io/npy.ts';
import { generateMixture } from '../../src/mixtures.ts';

const run = promisify(execFile);
const DEV = resolve(__dirname, '../../bin/dev.js');
const dir = mkdtempSync(join(tmpdir(), 'ddpm-streamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const x = generateMixture({ k: 3, d: 4, n: 500, separation: 4, seed: 5 }).data;
const npy = join(dir, 'x.npy');
const csv = join(dir, 'x.csv');
writeFileSync(npy, serializeNpy(x));
writeFileSync(csv, formatCsv(x));
const cli = async (...args: string[]) => JSON.parse((await run(process.execPath, [DEV, ...args, '--json'])).stdout);

describe('streamed CLI', () => {
  it('fit: a .npy file and its CSV copy give the same bits for one --chunk-rows', async () => {
    const common = ['fit', '--k', '3', '--schedule', 'single', '--steps', '8', '--chunk-rows', '64', '--backend', 'cpu'];
    const a = await cli(...common, '--data', npy, '--out', join(dir, 'model.json'));
    const b = await cli(...common, '--data', csv);
    expect(b.means).toEqual(a.means);
    expect(b.history).toEqual(a.history);
    expect(a.chunkRows).toBe(64);
  }, 60_000);

  it('fit: a budget too small for one row names the smallest that works', async () => {
    // d = 4 float64: 2 x 4 x (8 + 8) + 16 = 144 bytes a row.
    await expect(run(process.execPath, [DEV, 'fit', '--data', npy, '--k', '3', '--schedule', 'single', '--memory-budget', '100'])).rejects.toThrow(/--memory-budget 144 or more/);
  }, 30_000);

  it('predict: --chunk-rows writes what the whole-data predict writes', async () => {
    await run(process.execPath, [DEV, 'fit', '--data', npy, '--k', '3', '--schedule', 'single', '--steps', '8', '--backend', 'cpu', '--out', join(dir, 'm.json')]);
    const whole = await cli('predict', '--model', join(dir, 'm.json'), '--data', npy, '--out', join(dir, 'l1.npy'), '--proba', join(dir, 'p1.csv'));
    const part = await cli('predict', '--model', join(dir, 'm.json'), '--data', npy, '--chunk-rows', '37', '--out', join(dir, 'l2.npy'), '--proba', join(dir, 'p2.csv'));
    expect(part.averageLogLikelihood).toBe(whole.averageLogLikelihood);
    expect(part.counts).toEqual(whole.counts);
    expect(readMatrixFile(join(dir, 'l2.npy'), 'labels')).toEqual(readMatrixFile(join(dir, 'l1.npy'), 'labels'));
    expect(readMatrixFile(join(dir, 'p2.csv'), 'proba')).toEqual(readMatrixFile(join(dir, 'p1.csv'), 'proba'));
  }, 60_000);
});
