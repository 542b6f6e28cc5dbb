// The CLI's flags, checks and help lines for declared options (src/options/): a declared option becomes a flag
// whose value is parsed, checked with the declaration's message naming the flag, and described in the help.
import { InputError } from '../errors.ts';
import { checkOption, defaultText, type OptionDecl } from '../options/declare.ts';
import { numberFlag, stringFlag, type FlagSpec, type FlagValues } from './args.ts';

const WIDTH = 104;

/** The parse spec of the declared options that have a flag. */
export function declaredFlags(decls: readonly OptionDecl[]): FlagSpec {
  const spec: FlagSpec = {};
  for (const d of decls) if (d.flag) spec[d.flag.name] = { type: d.kind.type === 'boolean' ? 'boolean' : 'string' };
  return spec;
}

/** The message's name of a flag's value: 'the noise scale t (--t)'; a choice: '--grid'. */
export function flagLabel(decl: OptionDecl): string {
  const flag = `--${decl.flag!.name}`;
  return decl.kind.type === 'enum' ? flag : `${decl.what} (${flag})`;
}

/** A declared option's flag value, parsed and checked; undefined when not given. Files (matrix kind) come back as paths. */
export function optionFlag(v: FlagValues, decl: OptionDecl): number | string | undefined {
  const name = decl.flag?.name;
  if (name === undefined) throw new InputError(`${decl.what} has no flag`);
  const t = decl.kind.type;
  if (t === 'number' || t === 'integer') {
    const n = numberFlag(v, name);
    return n === undefined ? undefined : checkOption(decl, n, flagLabel(decl));
  }
  const raw = stringFlag(v, name);
  if (raw === undefined || t === 'matrix') return raw;
  return checkOption(decl, raw, flagLabel(decl));
}

/** `[--name ARG]`, or `[--name a|b|c]` for a choice. */
export function usageOf(decl: OptionDecl, values?: readonly string[]): string {
  const f = decl.flag!;
  const k = decl.kind;
  const arg = values ? values.join('|') : k.type === 'enum' ? k.values.join('|') : f.arg;
  return `[--${f.name}${arg ? ` ${arg}` : ''}]`;
}

/** A help entry: the flag and its value's placeholder in a column of `column` characters, the text wrapped after it. */
export function helpLines(head: string, text: string, column: number): string[] {
  const lead = `  ${head}`;
  const pad = ' '.repeat(column);
  const first = lead.length < column ? lead.padEnd(column) : `${lead} `;
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + word.length > WIDTH && line.trim().length > head.length) {
      lines.push(line.trimEnd());
      line = pad;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines;
}

/** The help entry of a declared option: '[who: ]doc (default ...)'. */
export function optionHelp(decl: OptionDecl, column: number, who?: string, extra?: string): string[] {
  const f = decl.flag!;
  const def = defaultText(decl);
  const text = `${who ? `${who}: ` : ''}${decl.doc}${def !== undefined ? ` (default ${def})` : ''}${extra ? `; ${extra}` : ''}`;
  return helpLines(`--${f.name}${f.arg ? ` ${f.arg}` : ''}`, text, column);
}
