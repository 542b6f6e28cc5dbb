// How an option is declared, once, beside the schedule, sampler or method that reads it: its kind and range,
// its default, one line of doc and, where the command line takes it, its flag. The front doors (CLI flags and
// help, the estimator's checks, the page's lists) derive from these, as scikit-learn derives its checks from
// `_parameter_constraints`; checkOption is the one checker, on the require* helpers of src/validate.ts.
import { InputError } from '../errors.ts';
import {
  quotedList,
  requireNonNegativeFinite,
  requireNonNegativeInteger,
  requirePositiveFinite,
  requirePositiveInteger,
  requireSeed,
} from '../validate.ts';

/** The kinds of option: a number with a range, an integer, a choice, a switch, a list, or a matrix given whole. */
export type OptionKind =
  | { readonly type: 'number'; readonly min: number; readonly strict: boolean }
  | { readonly type: 'integer'; readonly min: 0 | 1; readonly seed?: true }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'boolean' }
  | { readonly type: 'list'; readonly rule: 'decreasing positive'; readonly of: string }
  | { readonly type: 'matrix' };

export type OptionValue = number | string | boolean | readonly number[];

/** The command line's flag of an option: `--name ARG`. */
export interface FlagDecl {
  readonly name: string;
  /** The value's placeholder in the usage line, e.g. 'T' (none for a switch). */
  readonly arg?: string;
}

export interface OptionDecl {
  readonly kind: OptionKind;
  /** The noun the messages use, e.g. 'the noise scale t'. */
  readonly what: string;
  /** One line of doc, as the CLI help prints it. */
  readonly doc: string;
  /** The default: a value, or the rule that computes it in words (e.g. 'max(1, K/16)'); none: required or absent. */
  readonly default?: OptionValue | { readonly rule: string };
  readonly flag?: FlagDecl;
}

type Extra = Pick<OptionDecl, 'default' | 'flag'>;

/** A finite number > min (strict) or >= min. */
export function number(what: string, doc: string, range: { readonly min: number; readonly strict: boolean }, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'number', ...range }, what, doc, ...extra };
}
/** A finite number > 0. */
export const positive = (what: string, doc: string, extra: Extra = {}): OptionDecl => number(what, doc, { min: 0, strict: true }, extra);
/** An integer >= 1 (a count) or >= 0 (may be turned off). */
export function integer(what: string, doc: string, min: 0 | 1, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'integer', min }, what, doc, ...extra };
}
/** A Philox seed: an integer with 0 <= seed < 2^53. */
export function seed(what: string, doc: string, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'integer', min: 0, seed: true }, what, doc, ...extra };
}
/** One of the given names, the first the usual default. */
export function oneOf(values: readonly string[], what: string, doc: string, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'enum', values }, what, doc, ...extra };
}
export function boolean(what: string, doc: string, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'boolean' }, what, doc, ...extra };
}
/** A list of positive numbers, each below the one before. */
export function decreasingList(what: string, of: string, doc: string, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'list', rule: 'decreasing positive', of }, what, doc, ...extra };
}
/** A matrix given whole (the CLI reads it from a file). */
export function matrixOption(what: string, doc: string, extra: Extra = {}): OptionDecl {
  return { kind: { type: 'matrix' }, what, doc, ...extra };
}

/**
 * Checks a value against its declaration and returns it; the InputError names `label` (default the option's
 * noun) and the range. A choice lists its names: 'a' or 'b' for two, `one of a, b, c` for more.
 */
export function checkOption<T>(decl: OptionDecl, value: T, label: string = decl.what): T {
  const k = decl.kind;
  switch (k.type) {
    case 'number':
      if (typeof value !== 'number') throw new InputError(`${label} must be a number, got ${String(value)}`);
      if (k.min === 0 && k.strict) requirePositiveFinite(value, label);
      else if (k.min === 0) requireNonNegativeFinite(value, label);
      else if (!Number.isFinite(value) || (k.strict ? value <= k.min : value < k.min)) {
        throw new InputError(`${label} must be a finite number ${k.strict ? '>' : '>='} ${k.min}, got ${value}`);
      }
      return value;
    case 'integer':
      if (typeof value !== 'number') throw new InputError(`${label} must be an integer, got ${String(value)}`);
      if (k.seed) requireSeed(value, label);
      else if (k.min === 1) requirePositiveInteger(value, label);
      else requireNonNegativeInteger(value, label);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !k.values.includes(value)) {
        const allowed = k.values.length > 2 ? `one of ${k.values.join(', ')}` : quotedList(k.values);
        throw new InputError(`${label} must be ${allowed}, got '${String(value)}'`);
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new InputError(`${label} must be true or false, got ${String(value)}`);
      return value;
    case 'list': {
      const list = value as readonly number[];
      if (!Array.isArray(list) || list.length < 1 || list.some((t, i) => !(t > 0) || (i > 0 && t >= list[i - 1]!))) {
        throw new InputError(`${label} must be decreasing positive ${k.of}, got ${Array.isArray(list) ? list.join(', ') : String(value)}`);
      }
      return value;
    }
    case 'matrix':
      return value;
  }
}

/** The default as help text prints it: '0.2', 'max(1, K/16)', 'two-stage'. */
export function defaultText(decl: OptionDecl): string | undefined {
  const d = decl.default;
  if (d === undefined) return undefined;
  if (typeof d === 'object' && 'rule' in d) return d.rule;
  return Array.isArray(d) ? d.join(', ') : String(d);
}
