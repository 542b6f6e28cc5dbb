// Chunked training (src/training/chunked.ts) over row sources (src/data/): the numbers depend on the chunk size
// only, whether the chunks come from memory, a C- or Fortran-order .npy file, a CSV file or several reducers'
// shares; and the chunked sums equal the whole-data evaluation up to float64 rounding.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { openCsvSource, openNpySource } from '../../src/data/files.ts';
import { openParquetSource } from '../../src/data/parquet.ts';
import { chunkRowsFor, matrixSource, parseSize, rowsOf, type RowSource } from '../../src/data/source.ts';
import { InputError } from '../../src/errors.ts';
import { formatCsv } from '../../src/io/csv.ts';
import { serializeNpy } from '../../src/io/npy.ts';
import { generateMixture } from '../../src/mixtures.ts';
import { chunkedTrainer, sumInOrder, type PartialReducer } from '../../src/training/chunked.ts';
import type { GdOptions } from '../../src/training/capability.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { initialStudent } from '../../src/training/student.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-chunked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { data, truth } = generateMixture({ k: 3, d: 5, n: 53, separation: 4, seed: 7 });
const init = matrix(3, 5, truth.data.map((v, i) => v + 0.3 * Math.sin(i)));
const gd: GdOptions = { noiseScale: 0.4, tied: false, noise: { kind: 'seed', seed: 11, mode: 'fresh' }, steps: 6, lr: 0.5, logEvery: 2, startStep: 3 };

/** A .npy file of x in Fortran order (column-major data, fortran_order True), written by hand as NumPy would. */
function fortranNpy(x: Matrix): Uint8Array {
  const t = matrix(x.cols, x.rows);
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) t.data[c * x.rows + r] = x.data[r * x.cols + c]!;
  const bytes = serializeNpy(t);
  const text = new TextDecoder('latin1').decode(bytes.subarray(10, 128));
  const fixed = text.replace("'fortran_order': False", "'fortran_order': True ").replace(`(${x.cols}, ${x.rows})`, `(${x.rows}, ${x.cols})`.padEnd(`(${x.cols}, ${x.rows})`.length));
  bytes.set(new TextEncoder().encode(fixed), 10);
  return bytes;
}

async function fit(source: RowSource, reducer?: PartialReducer) {
  const trainer = chunkedTrainer(new CpuBackend(), source.chunkRows, reducer);
  const handle = trainer.open(source);
  const r = await trainer.gdSteps(handle, init, gd);
  const em = await trainer.emSteps(handle, init, 3);
  handle.dispose();
  return { centres: Array.from(r.centres.data), history: r.history, em: Array.from(em.centres.data) };
}

describe('chunked training over row sources', () => {
  it('gives the same bits from memory, .npy (C and Fortran order), CSV, Parquet and split reducers, for one chunk size', async () => {
    const c = join(dir, 'c.npy');
    const f = join(dir, 'f.npy');
    const csv = join(dir, 'x.csv');
    writeFileSync(c, serializeNpy(data));
    writeFileSync(f, fortranNpy(data));
    writeFileSync(csv, 'a,b,c,d,e\n' + formatCsv(data));
    const pq = join(dir, 'x.parquet');
    // Row groups of 20 rows (snappy): chunks of 7 cross their boundaries.
    const columnData = [...Array(5).keys()].map((c) => ({ name: `x${c}`, type: 'DOUBLE' as const, data: Array.from({ length: 53 }, (_, r) => data.data[r * 5 + c]!) }));
    writeFileSync(pq, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 20 })));
    for (const chunkRows of [7, 53]) {
      const memory = await fit(matrixSource(data, chunkRows));
      for (const open of [() => openNpySource(c, chunkRows), () => openNpySource(f, chunkRows), () => openCsvSource(csv, chunkRows), () => openParquetSource(pq, chunkRows)]) {
        const source = await open();
        expect(source.rows).toBe(53);
        expect(await fit(source)).toEqual(memory);
        await source.close();
      }
      // Two "ranks" in one process, stepping together: each evaluates its block of chunks, and the sums go in global chunk order.
      const split = await fitPair(chunkRows);
      expect(split).toEqual(memory);
    }
  });

  it('sums to the whole-data loss and gradient up to float64 rounding, for any chunk size', async () => {
    const cpu = new CpuBackend();
    const o = { noiseScale: 0.4, tied: false, noise: { kind: 'seed', seed: 3, mode: 'fixed', step: 5 } as const };
    const whole = await cpu.lossAndGradient(data, init, o);
    for (const chunkRows of [1, 10, 52]) {
      const r = await chunkedTrainer(cpu, chunkRows).lossAndGradient(data, init, o);
      // Each of the N rows' terms is rounded once more when a chunk's mean is scaled back to a sum and divided
      // by N: a relative error of a few eps per row, N of them at most.
      const tol = 8 * 53 * Number.EPSILON;
      expect(Math.abs(r.loss - whole.loss)).toBeLessThanOrEqual(tol * Math.abs(whole.loss));
      const scale = Math.max(...whole.gradScaled.data.map(Math.abs));
      r.gradScaled.data.forEach((g, i) => expect(Math.abs(g - whole.gradScaled.data[i]!)).toBeLessThanOrEqual(tol * scale * 10));
    }
  });

  it('a general student: the same bits from memory and .npy for one chunk size, the whole-data gradients up to rounding', async () => {
    const cpu = new CpuBackend();
    const student = initialStudent('diag', 'learned', 3, 5);
    const c = join(dir, 'student.npy');
    writeFileSync(c, serializeNpy(data));
    const run = async (source: RowSource) => {
      const t = chunkedTrainer(cpu, source.chunkRows);
      const r = await t.gdSteps(t.open(source), init, { ...gd, student });
      return { centres: Array.from(r.centres.data), gamma: Array.from(r.student!.gamma.data), beta: Array.from(r.student!.beta), history: r.history };
    };
    const memory = await run(matrixSource(data, 7));
    const file = await openNpySource(c, 7);
    expect(await run(file)).toEqual(memory);
    await file.close();
    expect(memory.beta.some((b) => b !== 0)).toBe(true);
    const o = { noiseScale: 0.4, tied: false, noise: { kind: 'seed', seed: 3, mode: 'fixed', step: 5 } as const, student };
    const whole = await cpu.lossAndGradient(data, init, o);
    const chunked = await chunkedTrainer(cpu, 10).lossAndGradient(data, init, o);
    // As above: each row's term rounded once more by the chunk mean's scaling, N rows at most.
    const tol = 8 * 53 * Number.EPSILON;
    for (const [got, want] of [[chunked.gradStudent!.gamma.data, whole.gradStudent!.gamma.data], [chunked.gradStudent!.beta, whole.gradStudent!.beta]] as const) {
      const scale = Math.max(...Array.from(want, Math.abs));
      got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(tol * scale * 10));
    }
    const t = chunkedTrainer(cpu, 7);
    await expect(t.emSteps(t.open(matrixSource(data, 7)), init, 1, student)).rejects.toThrow(/chunked EM .* learns the paper's student only/);
  });

  it('reads the seeded initial rows from a source as from memory', async () => {
    const p = join(dir, 'rows.npy');
    writeFileSync(p, serializeNpy(data, 'float32'));
    const s = await openNpySource(p, 8);
    const rows = await rowsOf(s, [52, 0, 9, 17]);
    await s.close();
    const f32 = Float32Array.from(data.data);
    expect(Array.from(rows.data)).toEqual([52, 0, 9, 17].flatMap((r) => Array.from(f32.subarray(r * 5, r * 5 + 5))));
  });

  it('refuses a Parquet file with a text column, naming it', async () => {
    const p = join(dir, 'text.parquet');
    writeFileSync(p, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'a', type: 'DOUBLE', data: [1, 2] }, { name: 'who', type: 'STRING', data: ['x', 'y'] }] })));
    await expect(openParquetSource(p, 10)).rejects.toThrow(/column 'who' of type BYTE_ARRAY; every column must be a number/);
  });

  it('stops with a clear error when the file changes while it is read', async () => {
    const p = join(dir, 'changing.npy');
    writeFileSync(p, serializeNpy(data));
    const s = await openNpySource(p, 10);
    await s.chunk(0);
    appendFileSync(p, new Uint8Array(8));
    await expect(s.chunk(1)).rejects.toThrow(/changed while it was being read/);
    await s.close();
  });

  it('names the smallest memory budget that works', () => {
    expect(parseSize('256M')).toBe(256 * 2 ** 20);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(() => parseSize('lots')).toThrow(InputError);
    // d = 5 float32: two chunks of 5 (4 + 8) read and float64 bytes, + 32 bytes of padded float32 rows = 152 bytes a row.
    expect(chunkRowsFor({ budget: 152 * 1000, cols: 5, rows: 10 ** 6, fileBytesPerValue: 4 })).toBe(1000);
    expect(() => chunkRowsFor({ budget: 151, cols: 5, rows: 10, fileBytesPerValue: 4 })).toThrow(/--memory-budget 152 or more/);
    expect(() => chunkRowsFor({ budget: 15200, chunkRows: 200, cols: 5, rows: 1000, fileBytesPerValue: 4 })).toThrow(/--memory-budget 30400 or more/);
  });
});

/** Two trainers in lockstep, rank r evaluating its half of the chunks; each reduce waits for its peer's partials. */
async function fitPair(chunkRows: number) {
  const pending: { resolve: (v: Float64Array) => void; local: ReadonlyMap<number, Float64Array> }[] = [];
  const lockstep = (rank: number): PartialReducer => ({
    localChunks: (count) => [...Array(count).keys()].filter((c) => (c < Math.ceil(count / 2) ? 0 : 1) === rank),
    reduce: (local, count, length) => new Promise((resolve) => {
      pending[rank] = { resolve, local };
      if (pending[0] && pending[1]) {
        const all = new Map([...pending[0].local, ...pending[1].local]);
        const total = sumInOrder((c) => all.get(c), count, length);
        const [p0, p1] = [pending[0], pending[1]];
        pending.length = 0;
        p0.resolve(total);
        p1.resolve(Float64Array.from(total));
      }
    }),
  });
  const one = async (rank: number) => {
    const t = chunkedTrainer(new CpuBackend(), chunkRows, lockstep(rank));
    const h = t.open(matrixSource(data, chunkRows));
    const r = await t.gdSteps(h, init, gd);
    const em = await t.emSteps(h, init, 3);
    return { centres: Array.from(r.centres.data), history: r.history, em: Array.from(em.centres.data) };
  };
  const [r0, r1] = await Promise.all([one(0), one(1)]);
  expect(r1).toEqual(r0);
  return r0;
}
