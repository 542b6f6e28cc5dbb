// Declarative schemas of the files ddpm-gmm writes and reads (the model file of each kind, the checkpoint): each
// file kind declares its fields once, in order, and both directions walk that declaration -- the reader checks a
// file against it before building anything, the writer checks what it built against it before writing -- so the
// two cannot drift apart. A check throws a SchemaError whose detail starts with the field's path; the reader adds
// the file's name and the fix (an InputError), the writer calls it an internal error.

/** What a check found wrong, without the file's name or the fix: "means row 2 (1-based) must be ..., got 7". */
export class SchemaError extends Error {
  override name = 'SchemaError';
}

/**
 * The most numbers a declared matrix may hold. A JSON text holds at most 2^29 characters (V8's longest string) and
 * a number takes at least two of them ("0,"), so a larger declared shape cannot be a real file: it is refused
 * before a Float64Array of that size is allocated.
 */
export const MAX_ENTRIES = 2 ** 28;

type Root = Record<string, unknown>;
export interface Ctx {
  readonly root: Root;
  readonly version: number;
  /** The writer's own output: a key no declaration names is a writer bug. */
  readonly strict: boolean;
}

/** A declared field: what it must be (in words), and its check. */
export interface Spec {
  readonly describe: string;
  check(v: unknown, path: string, ctx: Ctx): void;
  /** May be absent. */
  readonly optional?: boolean;
  /** The file version that added the field; older versions do not know it (their readers ignore the key). */
  readonly since?: number;
}

/**
 * A count that another field fixes: the dotted path of a whole-number field (named in messages, as a consistency
 * between two fields), or a function of the file with what it means in words.
 */
export type Size = string | { readonly describe: string; readonly of: (root: Root) => number };

function sizeOf(s: Size, root: Root): number {
  return typeof s === 'string' ? (at(root, s) as number) : s.of(root);
}

function at(root: Root, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), root);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message shows it: short, and saying what kind of thing it is. */
export function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

function fail(path: string, describe: string, v: unknown): never {
  throw new SchemaError(`${path} must be ${describe}, got ${shown(v)}`);
}

interface Range {
  /** v >= min. */
  readonly min?: number;
  /** v > above. */
  readonly above?: number;
  readonly max?: number;
}

function rangeWords(r: Range): string {
  return [r.min !== undefined ? ` >= ${r.min}` : '', r.above !== undefined ? ` > ${r.above}` : '', r.max !== undefined ? ` <= ${r.max}` : ''].join('');
}

function inRange(v: number, r: Range): boolean {
  return (r.min === undefined || v >= r.min) && (r.above === undefined || v > r.above) && (r.max === undefined || v <= r.max);
}

/** A finite number (JSON writes NaN and Infinity as null), in a range; `equals` names a field it must equal. */
export function num(r: Range & { readonly integer?: boolean; readonly equals?: string } = {}): Spec {
  const describe = `${r.integer ? 'a whole number' : 'a number'}${rangeWords(r)}`;
  return {
    describe,
    check(v, path, ctx) {
      const ok = typeof v === 'number' && (r.integer ? Number.isSafeInteger(v) : Number.isFinite(v)) && inRange(v, r);
      if (!ok) fail(path, describe, v);
      if (r.equals !== undefined && v !== at(ctx.root, r.equals)) {
        const dot = path.lastIndexOf('.');
        const its = dot < 0 ? `${path} is` : `${path.slice(0, dot)} has ${path.slice(dot + 1)} =`;
        throw new SchemaError(`${r.equals} = ${shown(at(ctx.root, r.equals))} but its ${its} ${shown(v)}`);
      }
    },
  };
}

/** A measurement a run reports, such as a loss: any number, or null (JSON writes NaN and Infinity as null). */
export function measured(): Spec {
  const describe = 'a number or null';
  return { describe, check: (v, path) => void (v === null || typeof v === 'number' || fail(path, describe, v)) };
}

export const int = (min: number, more: { readonly equals?: string } = {}): Spec => num({ integer: true, min, ...more });

export function str(): Spec {
  return { describe: 'a string', check: (v, path) => void (typeof v === 'string' || fail(path, 'a string', v)) };
}

export function bool(): Spec {
  return { describe: 'true or false', check: (v, path) => void (typeof v === 'boolean' || fail(path, 'true or false', v)) };
}

/** One of a few values; `describe` says what they mean where a list would not. */
export function oneOf(values: readonly (string | number)[], describe = `one of ${values.join(', ')}`): Spec {
  return { describe, check: (v, path) => void (values.includes(v as string) || fail(path, describe, v)) };
}

export const literal = (value: string | number): Spec => oneOf([value], JSON.stringify(value));

export function nullable(s: Spec): Spec {
  const describe = `${s.describe} or null`;
  return {
    describe,
    check(v, path, ctx) {
      if (v === null) return;
      try {
        s.check(v, path, ctx);
      } catch (e) {
        // The value itself is wrong (not one of its fields): say that null would do too.
        if (e instanceof SchemaError && e.message.startsWith(`${path} must be ${s.describe}, got`)) fail(path, describe, v);
        throw e;
      }
    },
  };
}

/** An optional field, and the version that added it. */
export function optional(s: Spec, since?: number): Spec {
  return { ...s, check: s.check, optional: true, ...(since !== undefined ? { since } : {}) };
}

/** A field every file of version `since` or newer has. */
export const since = (version: number, s: Spec): Spec => ({ ...s, check: s.check, since: version });

/** n finite numbers in a range: n fixed by another field. */
export function vector(length: Size, r: Range = {}): Spec {
  const n = typeof length === 'string' ? length : length.describe;
  return {
    describe: `${n} finite numbers${rangeWords(r)}`,
    check(v, path, ctx) {
      const len = sizeOf(length, ctx.root);
      const describe = `${len} finite numbers${rangeWords(r)}`;
      if (!Array.isArray(v) || v.length !== len) fail(path, describe, v);
      v.forEach((x: unknown, i) => {
        if (typeof x !== 'number' || !Number.isFinite(x) || !inRange(x, r)) throw new SchemaError(`${path} must be ${describe}, got ${shown(x)} at entry ${i + 1} (1-based)`);
      });
    },
  };
}

/**
 * Rows of finite numbers: `rows` and `cols` fixed by other fields, or left free (any rows >= 1; every row as long
 * as the first). The declared size is refused past MAX_ENTRIES before a row is read.
 */
export function matrix(rows: Size | undefined, cols: Size | undefined, r: Range = {}): Spec {
  const name = (s: Size | undefined, free: string): string => (s === undefined ? free : typeof s === 'string' ? s : s.describe);
  const describe = `an array of ${name(rows, 'one or more')} rows of ${name(cols, 'the same number of')} numbers`;
  return {
    describe,
    check(v, path, ctx) {
      if (!Array.isArray(v) || (rows === undefined && v.length < 1)) fail(path, describe, v);
      const k = rows === undefined ? v.length : sizeOf(rows, ctx.root);
      const first: unknown = v[0];
      if (cols === undefined && !Array.isArray(first)) throw new SchemaError(`${path} row 1 (1-based) must be an array of numbers, got ${shown(first)}`);
      const d = cols !== undefined ? sizeOf(cols, ctx.root) : Array.isArray(first) ? first.length : 0;
      // The shape first (the rows are already in memory), then the size, before anyone allocates k x d.
      if (v.length !== k) throw new SchemaError(`${name(rows, '')} = ${k} but its ${path} have ${v.length} rows`);
      v.forEach((row: unknown, i) => {
        if (Array.isArray(row) && row.length !== d && typeof cols === 'string') throw new SchemaError(`${cols} = ${d} but its ${path} row ${i + 1} (1-based) has ${row.length} values`);
        if (!Array.isArray(row) || row.length !== d) throw new SchemaError(`${path} row ${i + 1} (1-based) must be an array of ${d} numbers, got ${shown(row)}`);
      });
      if (k * d > MAX_ENTRIES) throw new SchemaError(`${path} is ${k} x ${d}, more numbers than a file can hold (${MAX_ENTRIES})`);
      v.forEach((row: unknown[], i) =>
        row.forEach((x, c) => {
          if (typeof x !== 'number' || !Number.isFinite(x) || !inRange(x, r)) throw new SchemaError(`${path} row ${i + 1}, column ${c + 1} (1-based) is ${shown(x)}, not a finite number${rangeWords(r)}`);
        }),
      );
    },
  };
}

/** A check across fields: undefined when it holds, else the detail (starting with the field it blames). */
export type Rule = (o: Record<string, unknown>, ctx: Ctx) => string | undefined;

export interface ObjectSpec extends Spec {
  readonly fields: Readonly<Record<string, Spec>>;
}

/**
 * An object of declared fields, checked in order (a size may name a field declared before it). `open`: keys it
 * does not declare are kept as written (a model's own further fields); otherwise only the writer's check refuses them.
 */
export function object(fields: Readonly<Record<string, Spec>>, opts: { readonly describe?: string; readonly rules?: readonly Rule[]; readonly open?: boolean } = {}): ObjectSpec {
  const describe = opts.describe ?? `{ ${Object.entries(fields).map(([k, s]) => `${k}${s.optional ? '?' : ''}: ${s.describe}`).join(', ')} }`;
  return {
    fields,
    describe,
    check(v, path, ctx) {
      if (!isRecord(v)) fail(path, describe, v);
      const inner = (k: string): string => (path === '' ? k : /\)$/.test(path) ? `${path}'s ${k}` : `${path}.${k}`);
      for (const [k, s] of Object.entries(fields)) {
        if (s.since !== undefined && ctx.version < s.since) continue;
        if (v[k] === undefined && s.optional) continue;
        s.check(v[k], inner(k), ctx);
      }
      if (ctx.strict && !opts.open) {
        const extra = Object.keys(v).find((k) => !(k in fields) || (fields[k]!.since ?? 0) > ctx.version);
        if (extra !== undefined) throw new SchemaError(`${inner(extra)} is not a declared field of version ${ctx.version}`);
      }
      for (const rule of opts.rules ?? []) {
        const why = rule(v, ctx);
        if (why !== undefined) throw new SchemaError(why);
      }
    },
  };
}

/** An array of items; `item(i)` names item i in messages, such as "level 2 (1-based)". */
export function array(item: Spec, opts: { readonly min?: number; readonly of: string; readonly name?: (i: number) => string }): Spec {
  const describe = `${opts.min ? 'a non-empty array' : 'an array'} of ${opts.of}`;
  return {
    describe,
    check(v, path, ctx) {
      if (!Array.isArray(v) || v.length < (opts.min ?? 0)) fail(path, describe, v);
      v.forEach((x: unknown, i) => item.check(x, opts.name ? opts.name(i) : `${path} item ${i + 1} (1-based)`, ctx));
    },
  };
}

/** The declared keys of a file of this version (the writer's output has exactly these, less its absent optional ones). */
export function declaredFields(s: ObjectSpec, version: number): string[] {
  return Object.entries(s.fields)
    .filter(([, f]) => (f.since ?? 0) <= version)
    .map(([k]) => k);
}

/** Checks a file a reader was given; throws a SchemaError naming the field. */
export function checkFile(s: Spec, v: unknown, version: number): void {
  s.check(v, '', { root: isRecord(v) ? v : {}, version, strict: false });
}

/** Checks what a writer built, undeclared keys included: a failure is a bug in the writer, not in any input. */
export function checkWritten(s: Spec, v: unknown, version: number, what: string): void {
  try {
    s.check(v, '', { root: isRecord(v) ? v : {}, version, strict: true });
  } catch (e) {
    if (e instanceof SchemaError) throw new Error(`internal error: the ${what} writer built a file its schema refuses (${e.message}); please report it`);
    throw e;
  }
}

/** Checked rows as a float64 row-major array: allocate only after the check has bounded the size. */
export function flatRows(rows: readonly (readonly number[])[], cols: number): Float64Array {
  const out = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => out.set(r, i * cols));
  return out;
}
