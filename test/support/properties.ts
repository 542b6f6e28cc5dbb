// Shared pieces of the property-based tests (fast-check): fixed seeds so a failure reproduces, run counts small
// enough for CI, and the one check every reader must pass on any input: an InputError naming the input, or a value.
import fc from 'fast-check';
import { expect } from 'vitest';
import { InputError } from '../../src/errors.ts';
import type { Matrix } from '../../src/types.ts';

/** fc.assert's settings: a fixed seed per property (fast-check prints it with the shrunk case on failure). */
export function runs(seed: number, numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns };
}

/**
 * Runs `read`: either it returns a value, which `valid` checks, or it throws an InputError whose one-line message
 * matches `names` (the input it refuses). Any other error fails the property.
 */
export function refusesOrReads<T>(read: () => T, names: RegExp, valid: (v: T) => void): void {
  let value: T;
  try {
    value = read();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).toMatch(names);
    expect(e.message).not.toMatch(/\n/);
    return;
  }
  valid(value);
}

/** A matrix the readers may return: at least 1 x 1, float64, as many entries as its shape says. */
export function expectMatrix(m: Matrix): void {
  expect(m.data).toBeInstanceOf(Float64Array);
  expect(Number.isSafeInteger(m.rows) && m.rows >= 1).toBe(true);
  expect(Number.isSafeInteger(m.cols) && m.cols >= 1).toBe(true);
  expect(m.data.length).toBe(m.rows * m.cols);
}

/** rows x cols (1..maxRows, 1..maxCols) entries drawn from `value`, row after row. */
export function matrixArb(value: fc.Arbitrary<number>, maxRows = 6, maxCols = 5): fc.Arbitrary<{ rows: number; cols: number; data: number[] }> {
  return fc
    .tuple(fc.integer({ min: 1, max: maxRows }), fc.integer({ min: 1, max: maxCols }))
    .chain(([rows, cols]) => fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((data) => ({ rows, cols, data })));
}

/** One change to a file's bytes: a byte replaced, the file cut, bytes inserted or a stretch removed. */
export type Mutation =
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'cut'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'remove'; readonly at: number; readonly length: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
);

/** The bytes after the mutations, each at its position modulo the current length. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'set' && b.length > 0) b[at % b.length] = m.byte;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else if (m.kind === 'remove') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.length)]);
  }
  return b;
}

/** Same entries, NaN equal to NaN and the sign of zero kept (Object.is), entry by entry. */
export function sameEntries(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
