// Numeric CSV as people write it: comma, tab, semicolon or whitespace-run (NumPy savetxt)
// delimiters, detected from the data lines; an optional header row (reported, not dropped
// silently); '#' comment lines; CRLF, a UTF-8 BOM, blank lines, quoted cells; and pandas
// or R index columns, which are detected and never read silently as a feature.
// Hand-written rather than papaparse: papaparse guesses only single-character delimiters (no
// whitespace runs as savetxt writes) and header/index detection is ours either way; numeric
// cells need only simple double-quote handling.
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';

/** The field separator: a character, or runs of spaces and tabs (NumPy savetxt's default). */
export type CsvDelimiter = ',' | '\t' | ';' | 'whitespace';

/** What to do with a detected index column: drop it with a warning (default), keep it as a feature, or throw. */
export type CsvIndexPolicy = 'drop' | 'keep' | 'error';

export interface CsvOptions {
  /** Default 'drop': a detected pandas/R index column is removed and a warning names it. */
  readonly index?: CsvIndexPolicy;
  /** Force a delimiter instead of detecting it from the first data lines. */
  readonly delimiter?: CsvDelimiter;
  /** Reject NaN and infinities, naming line and column. Default false: they are read (as NumPy does) for later validation. */
  readonly finite?: boolean;
}

/** A column that looked like row numbers rather than data. */
export interface CsvIndexColumn {
  /** 1-based column number in the file. */
  readonly column: number;
  /** Its header name ('' for pandas' unnamed index); undefined when the file has no header or the header has no name for it. */
  readonly name: string | undefined;
  readonly action: 'dropped' | 'kept';
}

export interface CsvTable {
  readonly matrix: Matrix;
  /** Column names of `matrix` (header[j] names column j), from a header row or a savetxt '# ' header; undefined when the file has none. */
  readonly header: string[] | undefined;
  /** One-line messages for the user (dropped index column, guessed header...); empty when all was plain. */
  readonly warnings: string[];
  /** The delimiter used; undefined for a single-column file. */
  readonly delimiter: CsvDelimiter | undefined;
  /** Detected index columns, dropped or kept. */
  readonly indexColumns: CsvIndexColumn[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const PLAIN_INTEGER = /^\d+$/;
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
const MISSING_MARKERS = new Set(['na', 'n/a', 'null', 'none', '?', '-', '.']);
/** How many content lines the delimiter is detected from. */
const SNIFF_LINES = 20;

/** Parses one (unquoted, trimmed) cell; undefined when it is not a number. */
function parseNumber(s: string): number | undefined {
  if (NUMBER.test(s)) return Number(s);
  return SPECIAL[s.toLowerCase()];
}

interface Row {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly text: string;
}

interface SplitRow extends Row {
  readonly cells: string[];
}

/**
 * Splits a line into trimmed cells with double quotes removed ("" inside quotes is a quote).
 * Returns undefined for an unterminated quote.
 */
function splitFields(text: string, d: CsvDelimiter): string[] | undefined {
  if (!text.includes('"')) {
    if (d === 'whitespace') {
      const t = text.trim();
      return t === '' ? [''] : t.split(/\s+/);
    }
    return text.split(d).map((c) => c.trim());
  }
  const isSep = d === 'whitespace' ? (ch: string) => ch === ' ' || ch === '\t' : (ch: string) => ch === d;
  const cells: string[] = [];
  let i = 0;
  const n = text.length;
  if (d === 'whitespace') {
    while (i < n && isSep(text[i]!)) i++;
  }
  for (;;) {
    let cell = '';
    while (i < n && !isSep(text[i]!) && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i < n && text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = text[i]!;
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        cell += ch;
        i++;
      }
      if (!closed) return undefined;
    }
    while (i < n && !isSep(text[i]!)) cell += text[i++];
    cells.push(cell.trim());
    if (i >= n) break;
    // Skip the separator (a whole run of blanks for whitespace).
    i++;
    if (d === 'whitespace') {
      while (i < n && isSep(text[i]!)) i++;
      if (i >= n) break;
    }
  }
  return cells;
}

const DELIMITER_NAME: Record<CsvDelimiter, string> = { ',': 'commas', '\t': 'tabs', ';': 'semicolons', whitespace: 'spaces' };

function fieldCount(text: string, d: CsvDelimiter): number {
  return splitFields(text, d)?.length ?? -1;
}

/**
 * The delimiter that splits every sampled line into the same number (> 1) of fields.
 * Semicolon beats comma (commas may then be decimal commas), tab beats comma; whitespace runs
 * win over tabs when they split into more fields (columns aligned with spaces and tabs).
 */
function detectDelimiter(rows: readonly Row[]): CsvDelimiter | undefined {
  const sample = rows.slice(0, SNIFF_LINES);
  const pick = (lines: readonly Row[]): CsvDelimiter | undefined => {
    const counts = (d: CsvDelimiter): number => {
      const first = fieldCount(lines[0]!.text, d);
      return first >= 2 && lines.every((r) => fieldCount(r.text, d) === first) ? first : 0;
    };
    const ws = counts('whitespace');
    for (const d of [';', '\t', ','] as const) {
      const c = counts(d);
      if (c > 0) return d === '\t' && ws > c ? 'whitespace' : d;
    }
    return ws > 0 ? 'whitespace' : undefined;
  };
  const found = pick(sample);
  if (found !== undefined) return found;
  // A header may have one field fewer (R's row names, pandas' unnamed index with whitespace):
  // judge from the data lines when the first line has letters or quotes.
  const headerLike = sample.length > 1 && /[^\d\s.,;eE+-]/.test(sample[0]!.text);
  if (headerLike) {
    const fromData = pick(sample.slice(1));
    if (fromData !== undefined) return fromData;
  }
  // No consistent choice: the first data line decides and the row check reports the mismatch.
  const probe = sample[headerLike ? 1 : 0]!.text;
  for (const d of [';', '\t', ','] as const) if (probe.includes(d)) return d;
  return /\S\s+\S/.test(probe.trim()) ? 'whitespace' : undefined;
}

/** A hint when a ragged line seems to use another delimiter than the file. */
function mixHint(line: string, reference: string, d: CsvDelimiter): string {
  for (const other of [';', '\t', ','] as const) {
    if (other !== d && line.includes(other) && !reference.includes(other)) {
      return ` (it seems separated by ${DELIMITER_NAME[other]} while the file is separated by ${DELIMITER_NAME[d]})`;
    }
  }
  if (d !== 'whitespace' && !line.includes(d) && /\S\s+\S/.test(line.trim())) {
    return ` (it seems separated by spaces while the file is separated by ${DELIMITER_NAME[d]})`;
  }
  return '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function shown(cell: string): string {
  return `'${cell.length > 40 ? `${cell.slice(0, 40)}...` : cell}'`;
}

/** The pandas/R reasons a column could be an index, or undefined. */
function indexReason(
  values: readonly number[],
  name: string | undefined,
  hasHeader: boolean,
  unnamedByShortHeader: boolean,
): string | undefined {
  if (!values.every((v) => Number.isInteger(v))) return undefined;
  const from = (start: number) => values.every((v, i) => v === start + i);
  const what = from(0) ? '(0, 1, 2, ...)' : from(1) ? '(1, 2, 3, ...)' : `(integers ${values.slice(0, 3).join(', ')}, ...)`;
  if (unnamedByShortHeader) return `has no name in the header, which has one name fewer than the rows, and holds row numbers ${what}: it looks like R's row names or a pandas index`;
  if (hasHeader) {
    const n = (name ?? '').trim();
    if (n === '' || /^unnamed: ?\d+$/i.test(n) || n.toLowerCase() === 'index') {
      return `(header '${n}') looks like a pandas index ${what}`;
    }
    return undefined;
  }
  // Without a header, only exact row numbers 0..N-1 over enough rows: a data column rarely is that.
  if (values.length >= 3 && from(0)) return `(no header) holds the row numbers ${what} and looks like a pandas index`;
  return undefined;
}

/**
 * Parses numeric CSV text into a matrix and what the caller should know about it.
 * @param label how to name the file in errors and warnings, e.g. "data (--data) file 'x.csv'".
 * Throws InputError with a one-line message naming the line (and column) for bad input.
 */
export function parseCsvTable(text: string, label: string, options: CsvOptions = {}): CsvTable {
  const policy = options.index ?? 'drop';
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim().length === 0) {
    throw new InputError(`${label} is empty; it must hold numbers, one sample per line`);
  }
  const lines = body.split(/\r\n|\n|\r/);
  const content: Row[] = [];
  // The last '#' line before the first content line: NumPy savetxt's header='...' lands there.
  let commentBefore: Row | undefined;
  for (let li = 0; li < lines.length; li++) {
    const t = lines[li]!;
    const trimmed = t.trim();
    if (trimmed.length === 0) continue;
    if (trimmed.startsWith('#')) {
      if (content.length === 0) commentBefore = { line: li + 1, text: trimmed.replace(/^#+/, '') };
      continue;
    }
    content.push({ line: li + 1, text: t });
  }
  if (content.length === 0) {
    throw new InputError(`${label} contains no numeric rows, only '#' comment lines; it must hold numbers, one sample per line`);
  }

  const delimiter = options.delimiter ?? detectDelimiter(content);
  const split = (r: Row): SplitRow => {
    if (delimiter === undefined) return { ...r, cells: [r.text.trim().replace(/^"(.*)"$/, '$1').trim()] };
    const cells = splitFields(r.text, delimiter);
    if (cells === undefined) throw new InputError(`${label}: line ${r.line} has an unterminated quote ("); close it or remove it`);
    return { ...r, cells };
  };
  const warnings: string[] = [];

  // Header: a first line with a non-numeric, non-empty cell; pandas' ',0,1,...' (unnamed index
  // over integer column names); or pandas' default column names 0, 1, ..., d-1 above non-integer data.
  const first = split(content[0]!);
  const firstNumbers = first.cells.map(parseNumber);
  let header: string[] | undefined;
  let headerLine: number | undefined;
  const nameCount = first.cells.filter((c, j) => c !== '' && firstNumbers[j] === undefined).length;
  const numberCount = first.cells.filter((c, j) => firstNumbers[j] !== undefined).length;
  const pandasIntNames = first.cells.length >= 2 && first.cells.every((c, j) => (j === 0 ? c === '' : c === String(j - 1)));
  // A lone line mixing numbers and other cells is a bad data row, not a header.
  if ((nameCount > 0 && (numberCount === 0 || content.length > 1)) || (pandasIntNames && content.length > 1)) {
    header = first.cells;
    headerLine = first.line;
    // Numbers in a header are fine as pandas' integer column names (',0,1,2' with an index).
    const numeric = pandasIntNames ? [] : first.cells.filter((c, j) => firstNumbers[j] !== undefined && c !== String(j) && c !== String(j - 1));
    if (numeric.length > 0) {
      warnings.push(
        `${label}: line ${first.line} was read as a header (it has non-numeric cells) although it also holds numbers (${numeric.slice(0, 3).map(shown).join(', ')}); check that it is not a data row`,
      );
    }
  } else if (first.cells.length >= 2 && content.length > 1 && first.cells.every((c, j) => c === String(j))) {
    const later = content.slice(1, 1 + SNIFF_LINES).map(split);
    const integerData = later.every((r) => r.cells.every((c) => PLAIN_INTEGER.test(c.replace(/^[+-]/, ''))));
    if (!integerData) {
      header = first.cells;
      headerLine = first.line;
      warnings.push(
        `${label}: line ${first.line} (0, 1, ..., ${first.cells.length - 1}) looks like pandas' default column names and was read as a header, not data; write the file with header=False or with named columns to avoid the guess`,
      );
    } else {
      warnings.push(
        `${label}: line ${first.line} is 0, 1, ..., ${first.cells.length - 1} and was read as data; if it is pandas' default header of column numbers, delete it or write the file with header=False`,
      );
    }
  }

  const dataRows = header === undefined ? content : content.slice(1);
  if (dataRows.length === 0) {
    throw new InputError(`${label} has a header row (line ${headerLine}) but no numeric rows; it must hold numbers, one sample per line`);
  }
  const firstData = split(dataRows[0]!);
  const cols = firstData.cells.length;
  let shortHeader = false;
  if (header !== undefined && header.length !== cols) {
    if (header.length === cols - 1) shortHeader = true;
    else {
      throw new InputError(
        `${label}: line ${firstData.line} has ${plural(cols, 'field')}, expected ${header.length} as in the header on line ${headerLine}${mixHint(firstData.text, content[0]!.text, delimiter ?? ',')}`,
      );
    }
  }
  if (header === undefined && commentBefore !== undefined && commentBefore.line === firstData.line - 1) {
    // savetxt(header='x y') writes '# x y' right above the data: names, if they fit.
    const names = delimiter === undefined ? [commentBefore.text.trim()] : splitFields(commentBefore.text, delimiter);
    const fits =
      names !== undefined &&
      names.length === cols &&
      names.every((c) => c !== '' && parseNumber(c) === undefined) &&
      (delimiter !== undefined || !/\s/.test(names[0]!));
    if (fits) {
      header = names;
      headerLine = commentBefore.line;
    }
  }

  const values = new Float64Array(dataRows.length * cols);
  let k = 0;
  for (let ri = 0; ri < dataRows.length; ri++) {
    const r = ri === 0 ? firstData : split(dataRows[ri]!);
    if (r.cells.length !== cols) {
      throw new InputError(
        `${label}: line ${r.line} has ${plural(r.cells.length, 'field')}, expected ${cols} (as on line ${firstData.line}${shortHeader ? `; the header on line ${headerLine} has ${plural(cols - 1, 'name')}` : ''})${mixHint(r.text, firstData.text, delimiter ?? ',')}; every row must have the same number of values`,
      );
    }
    for (let c = 0; c < cols; c++) {
      const cell = r.cells[c]!;
      const v = parseNumber(cell);
      if (v === undefined) throw cellError(label, r.line, c + 1, cell, cols, delimiter);
      if (options.finite && !Number.isFinite(v)) {
        const which = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
        throw new InputError(
          `${label}: line ${r.line}, column ${c + 1} is ${shown(cell)} (${which}), not a finite number; remove or impute NaN and Inf values`,
        );
      }
      values[k++] = v;
    }
  }

  // Index columns: detected at the front, then dropped, kept or rejected by the policy.
  const rows = dataRows.length;
  let kept = Array.from({ length: cols }, (_, j) => j);
  // Names per file column; a short header gives the first column none.
  const fileNames: (string | undefined)[] | undefined =
    header === undefined ? undefined : shortHeader ? [undefined, ...header] : header;
  const indexColumns: CsvIndexColumn[] = [];
  let p = 0;
  while (p < kept.length - 1) {
    const j = kept[p]!;
    const col = Array.from({ length: rows }, (_, i) => values[i * cols + j]!);
    const name = fileNames?.[j];
    const reason = indexReason(col, name, header !== undefined, shortHeader && j === 0);
    if (reason === undefined) {
      if (header !== undefined && (name ?? '').trim() === '' && !(shortHeader && j === 0)) {
        warnings.push(
          `${label}: column ${j + 1} has an empty name in the header but does not hold row numbers; it was kept as a feature`,
        );
      }
      break;
    }
    const what = `column ${j + 1} ${reason}`;
    if (policy === 'error') {
      throw new InputError(
        `${label}: ${what}; write the file with index=False, or choose index 'drop' or 'keep' (--csv-index on the command line)`,
      );
    }
    if (policy === 'drop') {
      kept = kept.filter((x) => x !== j);
      indexColumns.push({ column: j + 1, name, action: 'dropped' });
      warnings.push(`${label}: ${what}: it was dropped; to use it as a feature choose index 'keep' (--csv-index keep on the command line), or write the file with index=False`);
    } else {
      indexColumns.push({ column: j + 1, name, action: 'kept' });
      p++;
    }
  }
  if (shortHeader && !indexColumns.some((c) => c.column === 1)) {
    throw new InputError(
      `${label}: the header on line ${headerLine} has ${plural(cols - 1, 'name')} but line ${firstData.line} has ${plural(cols, 'field')}, and column 1 does not hold row numbers; give every column a name or none`,
    );
  }

  let m: Matrix;
  if (kept.length === cols) m = matrix(rows, cols, values);
  else {
    const out = new Float64Array(rows * kept.length);
    for (let i = 0; i < rows; i++) for (let q = 0; q < kept.length; q++) out[i * kept.length + q] = values[i * cols + kept[q]!]!;
    m = matrix(rows, kept.length, out);
  }
  const names = fileNames === undefined ? undefined : kept.map((j) => fileNames[j] ?? '');
  return { matrix: m, header: names, warnings, delimiter, indexColumns };
}

function cellError(label: string, line: number, column: number, cell: string, cols: number, d: CsvDelimiter | undefined): InputError {
  const where = `${label}: line ${line}, column ${column}`;
  if (cell === '') {
    const trailing = column === cols && d !== undefined && d !== 'whitespace' ? ` (a trailing '${d === '\t' ? '\\t' : d}' at the end of the line?)` : '';
    return new InputError(`${where} is empty${trailing}, not a number; fill in or remove missing values`);
  }
  let hint = 'every cell after an optional header row must be numeric';
  if (d === undefined && /[,;\t]|\S\s+\S/.test(cell)) hint = 'it seems to hold several values, but the first lines of the file hold one each';
  else if (d !== ',' && /^[+-]?\d*,\d+$/.test(cell)) hint = 'decimal commas are not read; write decimal points (1.5, not 1,5)';
  else if (MISSING_MARKERS.has(cell.toLowerCase())) hint = 'it looks like a missing-value marker; fill in or remove missing values';
  // Wording kept from before ("is 'x', not a number"): test/page/browser.test.ts matches it.
  return new InputError(`${where} is ${shown(cell)}, not a number; ${hint}`);
}

/**
 * Parses numeric CSV text into a Matrix (see parseCsvTable; its warnings are not returned here,
 * so callers that show messages to a user should call parseCsvTable).
 * @param label how to name the file in errors, e.g. "data (--data) file 'x.csv'".
 */
export function parseCsv(text: string, label: string, options: CsvOptions = {}): Matrix {
  return parseCsvTable(text, label, options).matrix;
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
      // String(-0) is '0': write the sign, so that reading the file back gives the same bits.
      row.push(Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : Object.is(v, -0) ? '-0' : String(v));
    }
    out.push(row.join(','));
  }
  return out.join('\n') + '\n';
}
