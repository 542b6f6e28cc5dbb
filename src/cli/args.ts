// Flag parsing on node:util parseArgs, with parse failures turned into InputErrors
// that point at the command's usage.
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, type BackendChoice } from '../backend-choice.ts';
import { InputError } from '../errors.ts';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type FlagValues = Record<string, string | boolean | undefined>;

/** `--t -1` becomes `--t=-1`, so that a negative number reaches validation and gets its own message. */
function joinNegativeValues(argv: string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && spec[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|inf|Inf|nan|NaN)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** Parses argv for one command; unknown flags and stray positionals are InputErrors naming the help command. */
export function parseFlags(command: string, argv: string[], spec: FlagSpec): FlagValues {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(argv, spec),
      options: { ...spec, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new InputError(
        `unexpected argument '${positionals[0]}' for '${command}'; flags take the form --name value (see 'ddpm-gmm ${command} --help')`,
      );
    }
    return values as FlagValues;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    const name = e instanceof Error ? /'(-[^' ]*)/.exec(e.message)?.[1] : undefined;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name !== undefined) {
      throw new InputError(`unknown flag '${name}' for '${command}'; see 'ddpm-gmm ${command} --help' for its flags`);
    }
    const msg = e instanceof Error ? e.message.replace(/\s+/g, ' ').trim() : String(e);
    throw new InputError(`${msg.replace(/\.$/, '')} (see 'ddpm-gmm ${command} --help')`);
  }
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireString(values: FlagValues, name: string, command: string): string {
  const v = stringFlag(values, name);
  if (v === undefined || v.length === 0) {
    throw new InputError(`'${command}' needs --${name}; see 'ddpm-gmm ${command} --help'`);
  }
  return v;
}

/** Parses a number; 'inf', '-inf' and 'nan' parse (so range checks can name them), other text is an error. */
export function parseNumber(raw: string, flag: string): number {
  const s = raw.trim();
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    throw new InputError(`--${flag} must be a number, got '${raw}'`);
  }
  return Number(s);
}

export function numberFlag(values: FlagValues, name: string, fallback: number): number;
export function numberFlag(values: FlagValues, name: string, fallback?: number): number | undefined;
export function numberFlag(values: FlagValues, name: string, fallback?: number): number | undefined {
  const raw = stringFlag(values, name);
  return raw === undefined ? fallback : parseNumber(raw, name);
}

export function requireNumber(values: FlagValues, name: string, command: string): number {
  return parseNumber(requireString(values, name, command), name);
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** Exactly one of two alternatives (e.g. --noise FILE or --seed S). */
export function exactlyOne(values: FlagValues, a: string, b: string, command: string): 'a' | 'b' {
  const hasA = stringFlag(values, a) !== undefined;
  const hasB = stringFlag(values, b) !== undefined;
  if (hasA === hasB) {
    throw new InputError(
      `'${command}' needs exactly one of --${a} and --${b}${hasA ? ', not both' : ''}; see 'ddpm-gmm ${command} --help'`,
    );
  }
  return hasA ? 'a' : 'b';
}

/** --backend auto|gpu|cpu, default auto (src/backend-choice.ts). */
export function backendFlag(values: FlagValues): BackendChoice {
  const raw = stringFlag(values, 'backend') ?? 'auto';
  if (!BACKEND_CHOICES.includes(raw as BackendChoice)) {
    throw new InputError(`--backend must be ${BACKEND_CHOICES.map((c) => `'${c}'`).join(', ')}, got '${raw}'`);
  }
  return raw as BackendChoice;
}
