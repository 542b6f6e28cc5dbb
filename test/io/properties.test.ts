// Property-based tests of the matrix readers (issue 18): any bytes give a matrix or an InputError naming the file,
// and what the writers write reads back the same. Seeded (test/support/properties.ts): a failure prints its seed
// and shrunk case, and reruns the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCsv, parseCsvTable } from '../../src/io/csv.ts';
import { decodeMatrix } from '../../src/io/matrix-bytes.ts';
import { parseNpy, serializeNpy } from '../../src/io/npy.ts';
import { matrix } from '../../src/types.ts';
import { expectMatrix, matrixArb, mutate, mutationArb, refusesOrReads, runs, sameEntries } from '../support/properties.ts';

const LABEL = "data (--data) file 'x'";
const NAMES = /data \(--data\) file 'x'/;

/** Any double, NaN, the infinities, -0 and subnormals included: the readers must keep each bit. */
const anyDouble = fc.double();
const matrices = matrixArb(anyDouble).map(({ rows, cols, data }) => matrix(rows, cols, Float64Array.from(data)));

describe('.npy files', () => {
  it('write then read gives the same entries: float64 and float32, C and Fortran order', () => {
    fc.assert(
      fc.property(matrices, fc.constantFrom('float64' as const, 'float32' as const), fc.constantFrom('C' as const, 'F' as const), (m, dtype, order) => {
        const back = parseNpy(serializeNpy(m, dtype, order), LABEL);
        expect([back.rows, back.cols]).toEqual([m.rows, m.cols]);
        // float32 keeps each entry rounded to float32 (Math.fround, NaN stays NaN): the file's own precision.
        const want = dtype === 'float64' ? m.data : m.data.map(Math.fround);
        expect(sameEntries(back.data, want)).toBe(true);
      }),
      runs(1801, 300),
    );
  });

  it('the writer pads the header so the data starts on a 64-byte boundary, as NumPy does', () => {
    fc.assert(
      fc.property(matrices, (m) => {
        const bytes = serializeNpy(m);
        expect((bytes.length - m.rows * m.cols * 8) % 64).toBe(0);
      }),
      runs(1802, 100),
    );
  });

  it('any mutation of a valid file gives a matrix or an InputError naming the file', () => {
    const files = fc.tuple(matrices, fc.constantFrom('float64' as const, 'float32' as const), fc.constantFrom('C' as const, 'F' as const));
    fc.assert(
      fc.property(files, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), ([m, dtype, order], mutations) => {
        const bytes = mutate(serializeNpy(m, dtype, order), mutations);
        refusesOrReads(() => decodeMatrix(bytes, LABEL).matrix, NAMES, expectMatrix);
      }),
      runs(1803, 400),
    );
  });

  it('any header (dtypes, orders, shapes up to 2^53, versions) gives a matrix or an InputError, never an allocation error', () => {
    const size = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(2 ** 31, 2 ** 32 + 1, 1e15, 2 ** 53 - 1, 2 ** 53));
    const shape = fc.array(fc.oneof(size.map(String), fc.constantFrom('-1', '3L', 'x', '1.5', '')), { maxLength: 3 });
    const header = fc.record({
      descr: fc.constantFrom('<f8', '<f4', '>f8', '|u1', '<i8', '<c16', "[('a', '<f8')]", ''),
      fortran: fc.constantFrom('True', 'False', '1', ''),
      shape,
      version: fc.constantFrom(1, 2, 3, 4),
      data: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(header, ({ descr, fortran, shape: s, version, data }) => {
        const quoted = descr.startsWith('[') ? descr : `'${descr}'`;
        const text = `{'descr': ${quoted}, 'fortran_order': ${fortran}, 'shape': (${s.join(', ')}${s.length === 1 ? ',' : ''}), }\n`;
        const pre = version === 1 ? 10 : 12;
        const bytes = new Uint8Array(pre + text.length + data.length);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
        const view = new DataView(bytes.buffer);
        if (version === 1) view.setUint16(8, text.length, true);
        else view.setUint32(8, text.length, true);
        for (let i = 0; i < text.length; i++) bytes[pre + i] = text.charCodeAt(i);
        bytes.set(data, pre + text.length);
        refusesOrReads(() => decodeMatrix(bytes, LABEL).matrix, NAMES, expectMatrix);
      }),
      runs(1804, 400),
    );
  });
});

describe('CSV files', () => {
  /** The first row is pandas' default column names 0, 1, ..., d-1: the reader may take it for a header, and says so. */
  const headerLike = (m: { rows: number; cols: number; data: Float64Array }): boolean =>
    m.cols >= 2 && Array.from(m.data.subarray(0, m.cols)).every((v, j) => Object.is(v, j));

  it('write then read gives the same entries (index columns kept), NaN, the infinities and -0 included', () => {
    fc.assert(
      fc.property(matrices, (m) => {
        fc.pre(!headerLike(m));
        const table = parseCsvTable(formatCsv(m), LABEL, { index: 'keep' });
        expect([table.matrix.rows, table.matrix.cols]).toEqual([m.rows, m.cols]);
        expect(sameEntries(table.matrix.data, m.data)).toBe(true);
      }),
      runs(1805, 300),
    );
  });

  it('with the default reading, a written file reads back the same or a warning says what changed', () => {
    // Small integers make row numbers (an index column) and a 0, 1, ... first row likely.
    const small = matrixArb(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: -3, max: 3 })), 6, 3).map(({ rows, cols, data }) =>
      matrix(rows, cols, Float64Array.from(data)),
    );
    fc.assert(
      fc.property(fc.oneof(matrices, small), (m) => {
        const table = parseCsvTable(formatCsv(m), LABEL);
        const same = table.matrix.rows === m.rows && table.matrix.cols === m.cols && sameEntries(table.matrix.data, m.data);
        if (!same) expect(table.warnings.length).toBeGreaterThan(0);
      }),
      runs(1806, 400),
    );
  });

  it('any text from CSV-like characters gives a matrix or an InputError naming the file', () => {
    const piece = fc.constantFrom('0', '1', '7', '.', '-', '+', 'e', 'E', ',', ';', '\t', ' ', '\n', '\r\n', '"', '#', 'nan', 'inf', 'NA', 'x', '\uFEFF', '1e999', '');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.constantFrom('drop' as const, 'keep' as const, 'error' as const), (parts, index) => {
        const bytes = new TextEncoder().encode(parts.join(''));
        refusesOrReads(() => decodeMatrix(bytes, LABEL, { index }).matrix, NAMES, expectMatrix);
      }),
      runs(1807, 600),
    );
  });

  it('any mutation of a written file, and any bytes at all, give a matrix or an InputError naming the file', () => {
    fc.assert(
      fc.property(matrices, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (m, mutations) => {
        const bytes = mutate(new TextEncoder().encode(formatCsv(m)), mutations);
        refusesOrReads(() => decodeMatrix(bytes, LABEL).matrix, NAMES, expectMatrix);
      }),
      runs(1808, 300),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => refusesOrReads(() => decodeMatrix(bytes, LABEL).matrix, NAMES, expectMatrix)),
      runs(1809, 300),
    );
  });
});
