// Numeric CSV: comma separated, one sample per line; an optional header row of
// non-numbers is skipped and blank lines are ignored.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// NaN and infinities as NumPy's savetxt and pandas write them, so validation can name the row.
const SPECIAL: Record<string, number> = {
  nan: NaN,
  '+nan': NaN,
  '-nan': NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/** Parses one cell; undefined when it is not a number. */
function parseCell(raw: string): number | undefined {
  let s = raw.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
  if (NUMBER.test(s)) return Number(s);
  const special = SPECIAL[s.toLowerCase()];
  return special;
}

/**
 * Parses numeric CSV text into a Matrix.
 * @param label how to name the file in errors, e.g. "data (--data) file 'x.csv'".
 */
export function parseCsv(text: string, label: string): Matrix {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const values: number[] = [];
  let cols = -1;
  let firstLine = -1;
  let rows = 0;
  let sawContent = false;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.trim().length === 0) continue;
    const lineNo = li + 1;
    const cells = line.split(',');
    const parsed = cells.map(parseCell);
    if (!sawContent) {
      sawContent = true;
      // A first line with no number at all is a header row of column names.
      if (parsed.every((v) => v === undefined)) continue;
    }
    if (cols < 0) {
      cols = cells.length;
      firstLine = lineNo;
    } else if (cells.length !== cols) {
      throw new InputError(
        `${label}: line ${lineNo} has ${cells.length} columns but line ${firstLine} has ${cols}; every row must have the same number of comma-separated values`,
      );
    }
    for (let c = 0; c < parsed.length; c++) {
      const v = parsed[c];
      if (v === undefined) {
        const shown = cells[c]!.trim();
        throw new InputError(
          `${label}: line ${lineNo}, column ${c + 1} is ${shown.length === 0 ? 'empty' : `'${shown.slice(0, 40)}'`}, not a number; every cell after an optional header row must be numeric`,
        );
      }
      values.push(v);
    }
    rows++;
  }
  if (rows === 0) throw new InputError(`${label} contains no numeric rows; it must hold one sample per line`);
  return matrix(rows, cols, Float64Array.from(values));
}

/** Formats a Matrix as CSV; shortest round-trip decimal for each value. */
export function formatCsv(m: Matrix): string {
  if (m.data.length !== m.rows * m.cols) {
    throw new Error(`formatCsv: matrix has ${m.data.length} entries, expected ${m.rows} x ${m.cols}`);
  }
  const out: string[] = [];
  for (let i = 0; i < m.rows; i++) {
    const row: string[] = [];
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      row.push(Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));
    }
    out.push(row.join(','));
  }
  return out.join('\n') + '\n';
}
