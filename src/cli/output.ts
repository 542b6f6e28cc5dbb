// Printing results: JSON on stdout for programs, short readable summaries for people.
import { InputError } from '../errors.ts';
import { toRows, type Matrix } from '../types.ts';
import { writeFlushed } from './run.ts';

/**
 * The last check of a command: throws InputError naming the first NaN or infinite number in what it is about to
 * print or write (a number, array, typed array, Matrix or plain object), so no run exits 0 with one.
 */
export function requireFiniteOutput(value: unknown, what: string): void {
  const bad = firstNonFinite(value, what);
  if (bad !== undefined) {
    throw new InputError(`the result ${bad.path} is ${bad.value}, not a finite number: the input is beyond what float64 arithmetic can carry here; rescale the data (e.g. standardise the columns) or check the model file`);
  }
}

function firstNonFinite(value: unknown, path: string): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, value };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (typeof v === 'number' && !Number.isFinite(v)) return { path: `${path}[${i}]`, value: v };
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = firstNonFinite(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const bad = firstNonFinite(v, `${path}.${k}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

/** Prints JSON, refusing a NaN or Inf unless `checked` is false (the experiment tables' NaN means 'not applicable'). */
export async function printJson(value: unknown, checked = true): Promise<void> {
  if (checked) requireFiniteOutput(value, 'output');
  await writeFlushed(process.stdout, `${JSON.stringify(value, null, 2)}\n`);
}

export async function printLines(lines: string[]): Promise<void> {
  await writeFlushed(process.stdout, `${lines.join('\n')}\n`);
}

/** A number with 6 significant digits, for summaries. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

/** The rows of a matrix, each shortened to its first `maxCols` entries. */
export function matrixLines(m: Matrix, indent = '  ', maxRows = 8, maxCols = 6): string[] {
  const rows = toRows(m);
  const out = rows.slice(0, maxRows).map((r, i) => {
    const shown = r.slice(0, maxCols).map(fmt).join(', ');
    return `${indent}[${i}] ${shown}${r.length > maxCols ? `, ... (${r.length} values)` : ''}`;
  });
  if (rows.length > maxRows) out.push(`${indent}... (${rows.length} rows)`);
  return out;
}

export function rowNorms(m: Matrix): number[] {
  return toRows(m).map((r) => Math.sqrt(r.reduce((s, v) => s + v * v, 0)));
}
