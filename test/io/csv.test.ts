// The CSV reader on files as people write them (src/io/csv.ts): delimiters, headers,
// pandas/R index columns, comments, line endings, quoting, and one-line errors.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { formatCsv, parseCsv, parseCsvTable, type CsvOptions, type CsvTable } from '../../src/io/csv.ts';
import { matrix } from '../../src/types.ts';

const LABEL = "data file 'x.csv'";

function table(text: string, options?: CsvOptions): CsvTable {
  return parseCsvTable(text, LABEL, options);
}

/** rows, cols, then the values row by row. */
function shape(t: CsvTable): number[] {
  return [t.matrix.rows, t.matrix.cols, ...t.matrix.data];
}

/** The InputError message of f, checked to be one line naming the file. */
function errorOf(f: () => unknown): string {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an InputError').toBeInstanceOf(InputError);
  const message = (caught as InputError).message;
  expect(message).not.toContain('\n');
  expect(message).toContain(LABEL);
  return message;
}

function csvError(text: string, options?: CsvOptions): string {
  return errorOf(() => parseCsvTable(text, LABEL, options));
}

describe('delimiters', () => {
  it('reads commas, with spaces around cells', () => {
    const t = table('1,2.5\n -3e2 , .5\n');
    expect(shape(t)).toEqual([2, 2, 1, 2.5, -300, 0.5]);
    expect(t.delimiter).toBe(',');
    expect(t.header).toBeUndefined();
    expect(t.warnings).toEqual([]);
    expect(t.indexColumns).toEqual([]);
  });

  it('reads tabs, keeping empty cells as errors rather than merging them', () => {
    const t = table('x\ty\tz\n1\t2\t3\n4\t5\t6\n');
    expect(t.delimiter).toBe('\t');
    expect(t.header).toEqual(['x', 'y', 'z']);
    expect(shape(t)).toEqual([2, 3, 1, 2, 3, 4, 5, 6]);
    expect(csvError('1\t2\t3\n4\t\t6\n')).toMatch(/line 2, column 2 is empty/);
  });

  it("reads NumPy savetxt's default: '%.18e' values separated by single spaces", () => {
    const text =
      '1.000000000000000000e+00 2.500000000000000000e+00 -3.000000000000000000e+02\n' +
      '4.000000000000000083e-01 -5.000000000000000000e-01 6.000000000000000000e+00\n';
    const t = table(text);
    expect(t.delimiter).toBe('whitespace');
    expect(shape(t)).toEqual([2, 3, 1, 2.5, -300, 0.4, -0.5, 6]);
    expect(t.warnings).toEqual([]);
  });

  it('reads runs of spaces (aligned columns) and leading or trailing blanks', () => {
    const t = table('   1.0    2.0 \n  10.5   -3.0\n-0.25  7\n');
    expect(t.delimiter).toBe('whitespace');
    expect(shape(t)).toEqual([3, 2, 1, 2, 10.5, -3, -0.25, 7]);
  });

  it('reads whitespace runs that mix spaces and tabs', () => {
    const t = table('1\t2 3\n4 \t5  6\n');
    expect(t.delimiter).toBe('whitespace');
    expect(shape(t)).toEqual([2, 3, 1, 2, 3, 4, 5, 6]);
  });

  it('reads semicolons with decimal points, and explains decimal commas', () => {
    const t = table('x;y\n1.5;-2.25\n3.125;4e-3\n');
    expect(t.delimiter).toBe(';');
    expect(t.header).toEqual(['x', 'y']);
    expect(shape(t)).toEqual([2, 2, 1.5, -2.25, 3.125, 0.004]);
    const m = csvError('x;y\n1,5;2,25\n');
    expect(m).toMatch(/line 2, column 1 is '1,5', not a number/);
    expect(m).toMatch(/decimal commas/);
  });

  it('reads a single column, with or without a header', () => {
    expect(shape(table('1\n2\n3.5\n'))).toEqual([3, 1, 1, 2, 3.5]);
    const t = table('x\n1\n2\n');
    expect(t.header).toEqual(['x']);
    expect(t.delimiter).toBeUndefined();
    expect(shape(t)).toEqual([2, 1, 1, 2]);
  });

  it('accepts a forced delimiter', () => {
    const t = table('1 2\n3 4\n', { delimiter: 'whitespace' });
    expect(shape(t)).toEqual([2, 2, 1, 2, 3, 4]);
    const forced = csvError('a;b\n1;2\n', { delimiter: ',' });
    expect(forced).toMatch(/line 2, column 1 is '1;2', not a number/);
  });

  it('rejects a file that mixes delimiters, naming the line and the delimiters', () => {
    const m = csvError('1,2\n3,4\n5;6\n');
    expect(m).toMatch(/line 3 has 1 field, expected 2/);
    expect(m).toMatch(/semicolons/);
    expect(m).toMatch(/commas/);
    expect(csvError('1,2\n3;4\n')).toMatch(/line 2 has 1 field, expected 2 .*semicolons/);
    expect(csvError('1,2\n3,4\n5 6\n')).toMatch(/line 3 has 1 field, expected 2 .*spaces/);
  });

  it('detects beyond the sampled lines: a ragged line late in the file', () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i + 0.5} ${i * 2} ${i * 3}`);
    rows[24] = '1 2';
    expect(csvError(rows.join('\n'))).toMatch(/line 25 has 2 fields, expected 3 \(as on line 1\)/);
  });
});

describe('headers', () => {
  it('reports a header row instead of dropping it silently', () => {
    const t = table('x,y\n\n1,2.5\r\n -3e2 , .5\n\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(shape(t)).toEqual([2, 2, 1, 2.5, -300, 0.5]);
    expect(t.warnings).toEqual([]);
  });

  it('reads quoted names, including ones with the delimiter or spaces inside', () => {
    expect(table('"a,b","c ""d"""\n1,2\n').header).toEqual(['a,b', 'c "d"']);
    const ws = table('"first col" second\n1 2\n');
    expect(ws.delimiter).toBe('whitespace');
    expect(ws.header).toEqual(['first col', 'second']);
  });

  it("takes NumPy savetxt's '# ' header line as the column names", () => {
    const t = table('# x y z\n1.0 2.0 3.0\n4.0 5.0 6.0\n');
    expect(t.header).toEqual(['x', 'y', 'z']);
    expect(shape(t)).toEqual([2, 3, 1, 2, 3, 4, 5, 6]);
    expect(table('# x,y\n1,2\n').header).toEqual(['x', 'y']);
    // A comment that does not fit the columns is only a comment.
    const c = table('# generated by a script\n1,2\n');
    expect(c.header).toBeUndefined();
    expect(shape(c)).toEqual([1, 2, 1, 2]);
    // Only the comment line right above the data can be the header.
    expect(table('# made by a script\n# \n1 2 3\n').header).toBeUndefined();
    expect(table('# x y\n\n1 2\n').header).toBeUndefined();
  });

  it('warns when a header line also holds numbers', () => {
    const t = table('x,1.5\n1,2\n');
    expect(t.header).toEqual(['x', '1.5']);
    expect(t.warnings).toHaveLength(1);
    expect(t.warnings[0]).toMatch(/line 1 was read as a header/);
  });

  it("reads pandas' default column names 0..d-1 as a header above non-integer data, with a warning", () => {
    const t = table('0,1,2\n0.5,1.5,2.5\n-1.25,3,4\n');
    expect(t.header).toEqual(['0', '1', '2']);
    expect(shape(t)).toEqual([2, 3, 0.5, 1.5, 2.5, -1.25, 3, 4]);
    expect(t.warnings.join(' ')).toMatch(/pandas' default column names/);
    // Integer data: the line stays data, with a warning.
    const d = table('0,1\n5,6\n7,8\n');
    expect(d.header).toBeUndefined();
    expect(shape(d)).toEqual([3, 2, 0, 1, 5, 6, 7, 8]);
    expect(d.warnings.join(' ')).toMatch(/read as data/);
  });

  it('rejects a header whose length fits no row', () => {
    expect(csvError('a,b,c\n1,2\n')).toMatch(/line 2 has 2 fields, expected 3 as in the header on line 1/);
    expect(csvError('a,b\n1,2,3,4\n')).toMatch(/line 2 has 4 fields, expected 2/);
  });
});

describe('pandas and R index columns', () => {
  const pandas = ',x,y\n0,1.5,2.5\n1,-3.5,4.5\n2,0.25,-6\n';

  it('drops a pandas to_csv index by default and says so', () => {
    const t = table(pandas);
    expect(shape(t)).toEqual([3, 2, 1.5, 2.5, -3.5, 4.5, 0.25, -6]);
    expect(t.header).toEqual(['x', 'y']);
    expect(t.indexColumns).toEqual([{ column: 1, name: '', action: 'dropped' }]);
    expect(t.warnings).toHaveLength(1);
    const w = t.warnings[0]!;
    expect(w).toContain(LABEL);
    expect(w).toMatch(/column 1 \(header ''\) looks like a pandas index \(0, 1, 2, \.\.\.\): it was dropped/);
    expect(w).toMatch(/index 'keep' \(--csv-index keep on the command line\)/);
    expect(w).toMatch(/index=False/);
  });

  it("keeps it as a feature with index: 'keep'", () => {
    const t = table(pandas, { index: 'keep' });
    expect(shape(t)).toEqual([3, 3, 0, 1.5, 2.5, 1, -3.5, 4.5, 2, 0.25, -6]);
    expect(t.header).toEqual(['', 'x', 'y']);
    expect(t.indexColumns).toEqual([{ column: 1, name: '', action: 'kept' }]);
  });

  it("rejects it with index: 'error'", () => {
    const m = csvError(pandas, { index: 'error' });
    expect(m).toMatch(/column 1 \(header ''\) looks like a pandas index/);
    expect(m).toMatch(/index=False/);
  });

  it("detects 'Unnamed: 0' and 'index' headers, shuffled or filtered row numbers, and a doubled index", () => {
    const u = table('Unnamed: 0,x\n0,1.5\n1,2.5\n');
    expect(shape(u)).toEqual([2, 1, 1.5, 2.5]);
    expect(u.warnings[0]).toMatch(/column 1 \(header 'Unnamed: 0'\)/);
    const shuffled = table('index;a;b\n5;0.1;0.2\n2;0.3;0.4\n9;0.5;0.6\n');
    expect(shape(shuffled)).toEqual([3, 2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(shuffled.warnings[0]).toMatch(/\(integers 5, 2, 9, \.\.\.\)/);
    // Read with pandas and saved again: two index columns.
    const twice = table(',Unnamed: 0,x,y\n0,0,1.5,2.5\n1,1,3.5,4.5\n');
    expect(shape(twice)).toEqual([2, 2, 1.5, 2.5, 3.5, 4.5]);
    expect(twice.header).toEqual(['x', 'y']);
    expect(twice.indexColumns.map((c) => c.column)).toEqual([1, 2]);
    expect(twice.warnings).toHaveLength(2);
  });

  it('handles an index with integer column names (a DataFrame of a NumPy array)', () => {
    const t = table(',0,1\n0,0.5,1.5\n1,2.5,3.5\n');
    expect(t.header).toEqual(['0', '1']);
    expect(shape(t)).toEqual([2, 2, 0.5, 1.5, 2.5, 3.5]);
    expect(t.warnings).toHaveLength(1);
  });

  it('detects an index in tab- and space-separated pandas output', () => {
    const tab = table('\tx\ty\n0\t1.5\t2.5\n1\t3.5\t4.5\n');
    expect(shape(tab)).toEqual([2, 2, 1.5, 2.5, 3.5, 4.5]);
    // to_csv(sep=' '): the empty name disappears, so the header is one name short.
    const space = table(' x y\n0 1.5 2.5\n1 3.5 4.5\n');
    expect(shape(space)).toEqual([2, 2, 1.5, 2.5, 3.5, 4.5]);
    expect(space.header).toEqual(['x', 'y']);
    expect(space.warnings[0]).toMatch(/column 1 has no name in the header/);
  });

  it("detects R's write.csv row names (quoted numbers, header one name short)", () => {
    const t = table('"x","y"\r\n"1",1.5,2.5\r\n"2",3.5,4.5\r\n"3",5,6\r\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(shape(t)).toEqual([3, 2, 1.5, 2.5, 3.5, 4.5, 5, 6]);
    expect(t.warnings[0]).toMatch(/\(1, 2, 3, \.\.\.\)/);
    const kept = table('"x","y"\n"1",1.5,2.5\n"2",3.5,4.5\n', { index: 'keep' });
    expect(kept.header).toEqual(['', 'x', 'y']);
    expect(kept.matrix.cols).toBe(3);
    expect(csvError('x,y\n0.5,1.5,2.5\n0.25,3.5,4.5\n')).toMatch(/header on line 1 has 2 names but line 2 has 3 fields/);
    expect(csvError('x,y\n1,1.5,2.5\n2,3.5\n')).toMatch(/line 3 has 2 fields, expected 3 \(as on line 2; the header on line 1 has 2 names\)/);
  });

  it('detects row numbers 0..N-1 without a header (to_csv(header=False)) but only over 3 or more rows', () => {
    const t = table('0,1.5,2.5\n1,3.5,4.5\n2,5.5,6.5\n');
    expect(shape(t)).toEqual([3, 2, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    expect(t.header).toBeUndefined();
    expect(t.warnings[0]).toMatch(/column 1 \(no header\) holds the row numbers \(0, 1, 2, \.\.\.\)/);
    expect(table('0,1.5\n1,3.5\n').matrix.cols).toBe(2);
    // Integers that are not the row numbers are data.
    const data = table('3,1.5\n1,3.5\n2,5.5\n');
    expect(data.matrix.cols).toBe(2);
    expect(data.warnings).toEqual([]);
  });

  it('keeps a named column of row numbers, and warns about an unnamed non-index column', () => {
    const named = table('t,x\n0,1.5\n1,2.5\n2,3.5\n');
    expect(named.matrix.cols).toBe(2);
    expect(named.warnings).toEqual([]);
    const unnamed = table(',x\n0.5,1.5\n0.7,2.5\n');
    expect(unnamed.matrix.cols).toBe(2);
    expect(unnamed.header).toEqual(['', 'x']);
    expect(unnamed.warnings[0]).toMatch(/column 1 has an empty name in the header but does not hold row numbers; it was kept/);
  });

  it('never drops the only column', () => {
    const t = table('index\n0\n1\n2\n');
    expect(shape(t)).toEqual([3, 1, 0, 1, 2]);
    expect(t.indexColumns).toEqual([]);
  });
});

describe('line endings, BOM, blanks, quotes, comments', () => {
  it('reads CRLF and lone CR line endings', () => {
    expect(shape(table('x,y\r\n1,2\r\n3,4\r\n'))).toEqual([2, 2, 1, 2, 3, 4]);
    expect(shape(table('1,2\r3,4\r'))).toEqual([2, 2, 1, 2, 3, 4]);
  });

  it('ignores a UTF-8 BOM, also before a header', () => {
    const t = table('\uFEFFx,y\n1,2\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(shape(table('\uFEFF1 2\n3 4\n'))).toEqual([2, 2, 1, 2, 3, 4]);
  });

  it('ignores blank lines anywhere, including trailing whitespace-only lines', () => {
    expect(shape(table('\n\n1,2\n\n3,4\n\n  \n\t\n'))).toEqual([2, 2, 1, 2, 3, 4]);
  });

  it('reads quoted numeric cells', () => {
    expect(shape(table('"1.5","2"\n"-3e1", 4\n'))).toEqual([2, 2, 1.5, 2, -30, 4]);
    expect(shape(table('"1.5";"2"\n'))).toEqual([1, 2, 1.5, 2]);
    expect(shape(table('"7"\n"8"\n'))).toEqual([2, 1, 7, 8]);
  });

  it("skips '#' comment lines anywhere and counts them in line numbers", () => {
    const t = table('# made by hand\nx,y\n# a note\n1,2\n  # indented note\n3,4\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(shape(t)).toEqual([2, 2, 1, 2, 3, 4]);
    expect(csvError('# c\n\n1,2\n# c\n3,x\n')).toMatch(/line 5, column 2 is 'x', not a number/);
  });
});

describe('errors', () => {
  it('names a ragged line and the expected field count', () => {
    const text = ['a,b,c,d', '1,2,3,4', '', '5,6,7,8', '# c', '9,10,11,12', '1,2,3', '4,5,6,7'].join('\n');
    const m = csvError(text);
    expect(m).toMatch(/line 7 has 3 fields, expected 4/);
    expect(csvError('1,2\n3,4\n5\n')).toMatch(/line 3 has 1 field, expected 2 \(as on line 1\)/);
  });

  it('names the line and column of a non-numeric cell', () => {
    const lines = ['x,y,z', ...Array.from({ length: 10 }, (_, i) => `${i},${i + 0.5},${i * 2}`), '1,2,abc'];
    expect(csvError(lines.join('\n'))).toMatch(/line 12, column 3 is 'abc', not a number/);
    expect(csvError('1,2\nNA,3\n')).toMatch(/line 2, column 1 is 'NA', not a number; .*missing/);
    expect(csvError('1,0x10\n')).toMatch(/line 1, column 2 is '0x10', not a number/);
    expect(csvError('1\n2\n3 4\n')).toMatch(/line 3, column 1 is '3 4', not a number; it seems to hold several values/);
  });

  it('names empty cells, with a hint for a trailing delimiter', () => {
    expect(csvError('1,2\n3,\n')).toMatch(/line 2, column 2 is empty \(a trailing ','/);
    expect(csvError('1,,3\n')).toMatch(/line 1, column 2 is empty, not a number/);
  });

  it('rejects empty files, comment-only files and header-only files', () => {
    expect(csvError('')).toMatch(/is empty/);
    expect(csvError('\uFEFF \n\r\n\t\n')).toMatch(/is empty/);
    expect(csvError('# only a comment\n')).toMatch(/no numeric rows/);
    expect(csvError('a,b\n\n')).toMatch(/header row \(line 1\) but no numeric rows/);
  });

  it('rejects an unterminated quote', () => {
    expect(csvError('1,2\n"3,4\n')).toMatch(/line 2 has an unterminated quote/);
  });

  it('reads NaN and infinities by default (for later validation) and rejects them with finite: true, saying which', () => {
    const t = table('1,nan\n-inf,2\nNaN,+Infinity\n');
    expect(Number.isNaN(t.matrix.data[1])).toBe(true);
    expect(t.matrix.data[2]).toBe(-Infinity);
    expect(t.matrix.data[5]).toBe(Infinity);
    expect(csvError('1,2\n3,nan\n', { finite: true })).toMatch(/line 2, column 2 is 'nan' \(NaN\), not a finite number/);
    expect(csvError('x y\n1 -inf\n', { finite: true })).toMatch(/line 2, column 2 is '-inf' \(-Inf\)/);
    expect(csvError('1;inf\n', { finite: true })).toMatch(/line 1, column 2 is 'inf' \(\+Inf\)/);
  });

  it('counts columns in the file, index included', () => {
    expect(csvError(',x,y\n0,1,2\n1,3,oops\n')).toMatch(/line 3, column 3 is 'oops'/);
  });
});

describe('parseCsv and formatCsv', () => {
  it('parseCsv returns the matrix, with the same options', () => {
    const m = parseCsv(',x,y\n0,1.5,2.5\n1,3.5,4.5\n', LABEL);
    expect([m.rows, m.cols, ...m.data]).toEqual([2, 2, 1.5, 2.5, 3.5, 4.5]);
    expect(parseCsv(',x,y\n0,1.5,2.5\n1,3.5,4.5\n', LABEL, { index: 'keep' }).cols).toBe(3);
  });

  it('writes commas and a trailing newline, and reads back exactly without warnings', () => {
    const m = matrix(2, 3, Float64Array.from([0.1, -2e-300, 1 / 3, NaN, Infinity, -Infinity]));
    const text = formatCsv(m);
    expect(text).toBe(`0.1,-2e-300,${1 / 3}\nnan,inf,-inf\n`);
    const back = table(text);
    expect(back.warnings).toEqual([]);
    expect(Array.from(back.matrix.data)).toEqual(Array.from(m.data));
  });

  it('reads random matrices back through every delimiter, with and without a header', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (const [sep, name] of [[',', ','], ['\t', '\t'], [';', ';'], [' ', 'whitespace'], ['   ', 'whitespace']] as const) {
      for (const withHeader of [false, true]) {
        const rows = 25;
        const cols = 4;
        const data = Float64Array.from({ length: rows * cols }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4));
        const lines = Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * cols, (i + 1) * cols), String).join(sep));
        if (withHeader) lines.unshift(['a', 'b', 'c', 'd'].join(sep));
        const t = table(lines.join('\r\n') + '\r\n');
        expect(t.delimiter).toBe(name);
        expect(t.header).toEqual(withHeader ? ['a', 'b', 'c', 'd'] : undefined);
        expect(t.warnings).toEqual([]);
        expect(Array.from(t.matrix.data)).toEqual(Array.from(data));
      }
    }
  });
});
