// Printing results: JSON on stdout for programs, short readable summaries for people.
import { toRows, type Matrix } from '../types.ts';
import { writeFlushed } from './run.ts';

export async function printJson(value: unknown): Promise<void> {
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
