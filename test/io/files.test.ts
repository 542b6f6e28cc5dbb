// .npy / CSV parsing and serialisation, file detection, and atomic writes (src/io).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { formatCsv, parseCsv } from '../../src/io/csv.ts';
import { readMatrixFile, writeMatrixFile, writeTextFile } from '../../src/io/files.ts';
import { parseNpy, serializeNpy } from '../../src/io/npy.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An .npy file with an arbitrary header dict, version and data bytes, built by hand. */
function npyBytes(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const unpadded = pre + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(data, pre + header.length);
  return out;
}

function f64Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

function expectInputError(f: () => unknown, ...parts: RegExp[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InputError);
  for (const p of parts) expect((caught as Error).message).toMatch(p);
}

const sample: Matrix = matrix(3, 5, Float64Array.from({ length: 15 }, (_, i) => (i - 7) * 0.1 + 1 / 3));

describe('npy', () => {
  it('round-trips float64 exactly with a 64-byte aligned v1.0 header identical to numpy', () => {
    const bytes = serializeNpy(sample, 'float64');
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[10 + headerLen - 1]).toBe(0x0a);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    // numpy's np.save writes exactly this dict text, then spaces to the 64-byte boundary.
    expect(header.trimEnd()).toBe("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), }");
    expect(bytes.length).toBe(10 + headerLen + 15 * 8);
    const back = parseNpy(bytes, 'f');
    expect([back.rows, back.cols]).toEqual([3, 5]);
    expect(Array.from(back.data)).toEqual(Array.from(sample.data));
  });

  it('round-trips float32 to float32 precision', () => {
    const bytes = serializeNpy(sample, 'float32');
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 30))).toContain("'<f4'");
    const back = parseNpy(bytes, 'f');
    // float32 rounding: relative error at most 2^-24.
    back.data.forEach((v, i) => expect(Math.abs(v - sample.data[i]!)).toBeLessThanOrEqual(Math.abs(sample.data[i]!) * 2 ** -24));
    expect(Array.from(back.data)).toEqual(Array.from(Float32Array.from(sample.data)));
  });

  it('reads version 2.0 and 3.0 headers', () => {
    for (const major of [2, 3]) {
      const bytes = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64Bytes([1, 2, 3, 4]), major);
      const m = parseNpy(bytes, 'v');
      expect([m.rows, m.cols, ...m.data]).toEqual([2, 2, 1, 2, 3, 4]);
    }
  });

  it('reads Fortran order transposed: column after column', () => {
    const fortran = npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f64Bytes([1, 2, 3, 4, 5, 6]));
    const m = parseNpy(fortran, 'f');
    expect([m.rows, m.cols, ...m.data]).toEqual([2, 3, 1, 3, 5, 2, 4, 6]);
  });

  it("reads NumPy's own Fortran-order files (X[:, mask], X.T) as their C-order twins", () => {
    // Written by np.save: X[:, mask] of a 5 x 3 array is Fortran-contiguous; masked-c.npy is np.ascontiguousarray of it.
    const fixture = (name: string): Matrix => parseNpy(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)), name);
    const f = fixture('masked-fortran.npy');
    const c = fixture('masked-c.npy');
    expect([f.rows, f.cols]).toEqual([5, 2]);
    expect(Array.from(f.data)).toEqual(Array.from(c.data));
    expect(Array.from(c.data)).toEqual([-4, -1, 0.5, 3.5, 5, 8, 9.5, 12.5, 14, 17]);
    // X.T as float32 (3 x 5): row r of X.T is column r of X = 1.5 (3 i + r) - 4.
    const t = fixture('transposed-f4.npy');
    expect([t.rows, t.cols]).toEqual([3, 5]);
    for (let r = 0; r < 3; r++) for (let i = 0; i < 5; i++) expect(t.data[r * 5 + i]).toBe(1.5 * (3 * i + r) - 4);
  });

  it('rejects other dtypes, 1-D and 3-D arrays, and truncated data with the fix', () => {
    const ints = npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }", f64Bytes([1, 2]));
    expectInputError(() => parseNpy(ints, "file 'b.npy'"), /b\.npy/, /'<i8'/, /astype\(np\.float64\)/);
    const oneD = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", f64Bytes([1, 2, 3, 4]));
    expectInputError(() => parseNpy(oneD, 'c'), /shape \(4,\)/, /reshape\(-1, 1\)/);
    const threeD = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }", f64Bytes([1, 2, 3, 4]));
    expectInputError(() => parseNpy(threeD, 'd'), /shape \(1, 2, 2\)/, /2-D/);
    const full = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64Bytes([1, 2, 3, 4]));
    expectInputError(() => parseNpy(full.subarray(0, full.length - 3), 'e'), /truncated/, /32 data bytes/, /29/);
    expectInputError(() => parseNpy(full.subarray(0, 40), 'e'), /truncated/);
    expectInputError(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'g'), /not a \.npy/);
  });
});

describe('csv', () => {
  it('skips a header row and blank lines', () => {
    const m = parseCsv('x,y\n\n1,2.5\r\n -3e2 , .5\n\n', 'f');
    expect([m.rows, m.cols, ...m.data]).toEqual([2, 2, 1, 2.5, -300, 0.5]);
  });

  it('names the line and column of ragged rows and non-numeric cells', () => {
    expectInputError(() => parseCsv('1,2\n3,4\n5\n', "file 'r.csv'"), /r\.csv/, /line 3 has 1 field, expected 2/, /line 1/);
    expectInputError(() => parseCsv('a,b\n1,2\n3,oops\n', 'f'), /line 3, column 2/, /'oops'/);
    expectInputError(() => parseCsv('1,2\n3,\n', 'f'), /line 2, column 2 is empty/);
    expectInputError(() => parseCsv('a,b\n\n', 'f'), /no numeric rows/);
  });

  it('reads nan and inf so that validation can name their rows, and formats round-trip', () => {
    const m = parseCsv('1,nan\n-inf,2\n', 'f');
    expect(Number.isNaN(m.data[1])).toBe(true);
    expect(m.data[2]).toBe(-Infinity);
    const back = parseCsv(formatCsv(sample), 'f');
    expect(Array.from(back.data)).toEqual(Array.from(sample.data));
  });
});

describe('files', () => {
  it('detects .npy by magic bytes whatever the extension, CSV otherwise', () => {
    writeFileSync(join(dir, 'disguised.csv'), serializeNpy(sample));
    expect(Array.from(readMatrixFile(join(dir, 'disguised.csv'), 'data').data)).toEqual(Array.from(sample.data));
    writeFileSync(join(dir, 'plain.npy'), '1,2\n3,4\n');
    expect(Array.from(readMatrixFile(join(dir, 'plain.npy'), 'data').data)).toEqual([1, 2, 3, 4]);
  });

  it('names a missing file and a binary file that is neither .npy nor CSV', () => {
    expectInputError(() => readMatrixFile(join(dir, 'missing.npy'), 'data (--data)'), /data \(--data\)/, /missing\.npy/, /does not exist/, /check the path/);
    // Bytes from a fixed LCG: deterministic "random" binary content including NUL bytes.
    const junk = new Uint8Array(256);
    let s = 12345;
    for (let i = 0; i < junk.length; i++) junk[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    junk[0] = 0x00;
    writeFileSync(join(dir, 'junk.bin'), junk);
    expectInputError(() => readMatrixFile(join(dir, 'junk.bin'), 'data'), /junk\.bin/, /neither a \.npy file nor CSV/);
    expectInputError(() => readMatrixFile(dir, 'data'), /is a directory/);
  });

  it('writes .npy and .csv by extension, atomically, leaving no temp files', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    writeMatrixFile(join(sub, 'm.npy'), sample, { dtype: 'float32' });
    writeMatrixFile(join(sub, 'm.csv'), sample);
    writeTextFile(join(sub, 'note.txt'), 'hello\n');
    expect(readdirSync(sub).sort()).toEqual(['m.csv', 'm.npy', 'note.txt']);
    expect(readMatrixFile(join(sub, 'm.npy'), 'm').data[0]).toBe(Math.fround(sample.data[0]!));
    expect(Array.from(readMatrixFile(join(sub, 'm.csv'), 'm').data)).toEqual(Array.from(sample.data));
    expectInputError(() => writeMatrixFile(join(sub, 'm.txt'), sample), /\.npy or \.csv/);
  });

  it('does not replace an existing file when serialisation or the rename fails, and cleans its temp file', () => {
    const sub = join(dir, 'failing');
    mkdirSync(sub);
    const target = join(sub, 'keep.npy');
    writeFileSync(target, 'original');
    // A matrix whose data does not match its shape cannot be serialised.
    const broken: Matrix = { rows: 2, cols: 2, data: new Float64Array(3) };
    expect(() => writeMatrixFile(target, broken)).toThrow();
    expect(readFileSync(target, 'utf-8')).toBe('original');
    // Renaming a file onto a non-empty directory fails after the temp file was written.
    mkdirSync(join(sub, 'occupied.csv'));
    writeFileSync(join(sub, 'occupied.csv', 'x'), 'x');
    expectInputError(() => writeMatrixFile(join(sub, 'occupied.csv'), sample), /cannot write/);
    expect(readdirSync(sub).sort()).toEqual(['keep.npy', 'occupied.csv']);
    expectInputError(() => writeTextFile(join(sub, 'no-such-dir', 'a.txt'), 'x'), /does not exist/);
  });
});
