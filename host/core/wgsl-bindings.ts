// The `@group(g) @binding(b) var<...> name` declarations of a specialised module,
// checked against a program's named bindings when its pipeline is built: a name
// or number that disagrees fails at once, naming the program, binding and file.
import type { Bindings, BindingSlot } from './program.ts';
import type { ModuleSection } from './specialise.ts';

/** A program's bindings and its WGSL disagree: a mistake in the engine, not in the caller's input. */
export class ShaderBindingError extends Error {
  override name = 'ShaderBindingError';
}

export interface WgslBinding {
  readonly name: string;
  readonly group: number;
  readonly binding: number;
  readonly file: string;
}

/** Two attributes, @group and @binding in either order, then `var`, an optional address space, the name. */
const DECLARATION = /((?:@(?:group|binding)\s*\(\s*\d+\s*\)\s*){2})var(?:\s*<[^>]*>)?\s+(\w+)/g;

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
}

export function wgslBindings(sections: readonly ModuleSection[]): WgslBinding[] {
  const found: WgslBinding[] = [];
  for (const { file, text } of sections) {
    for (const m of withoutComments(text).matchAll(DECLARATION)) {
      const group = /@group\s*\(\s*(\d+)/.exec(m[1]!);
      const binding = /@binding\s*\(\s*(\d+)/.exec(m[1]!);
      if (group && binding) found.push({ name: m[2]!, group: Number(group[1]), binding: Number(binding[1]), file });
    }
  }
  return found;
}

const where = (s: { group: number; binding: number }) => `@group(${s.group}) @binding(${s.binding})`;

/** Throws a ShaderBindingError listing every disagreement between the declared bindings and the module's. */
export function checkBindings(
  program: { readonly entry: string; readonly bindings: Bindings<string> },
  flags: Readonly<Record<string, boolean>>,
  sections: readonly ModuleSection[],
): void {
  const found = wgslBindings(sections);
  const files = sections.map((s) => s.file).join(', ');
  const problems: string[] = [];
  const declared = Object.entries(program.bindings) as [string, BindingSlot][];
  const taken = new Map<string, string>();
  for (const [name, slot] of declared) {
    if (slot.when !== undefined && !(slot.when in flags)) {
      problems.push(`binding '${name}' depends on flag ${slot.when}, which this program's specialisation does not set`);
      continue;
    }
    const active = slot.when === undefined || flags[slot.when] === true;
    const wgsl = found.find((f) => f.name === name);
    if (active && !wgsl) problems.push(`binding '${name}' (${where(slot)}) is declared by the program but by none of its files (${files})`);
    if (!active && wgsl) problems.push(`binding '${name}' is declared by ${wgsl.file} although flag ${slot.when} is off`);
    if (wgsl && (wgsl.group !== slot.group || wgsl.binding !== slot.binding)) {
      problems.push(`binding '${name}' is ${where(slot)} in the program but ${where(wgsl)} in ${wgsl.file}`);
    }
    const other = taken.get(where(slot));
    if (active && other !== undefined) problems.push(`bindings '${other}' and '${name}' both claim ${where(slot)}`);
    if (active) taken.set(where(slot), name);
  }
  for (const f of found) {
    if (!(f.name in program.bindings)) problems.push(`${f.file} declares ${where(f)} var ${f.name}, which the program does not name`);
  }
  if (problems.length > 0) {
    throw new ShaderBindingError(
      `The bindings of program ${program.entry} disagree with its WGSL: ${problems.join('; ')}. ` +
        `Make the program's bindings and the @group/@binding declarations in the WGSL name the same slots.`,
    );
  }
}
