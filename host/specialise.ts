// Specialisation of the WGSL files: a header of `const` declarations (K, d,
// tile and workgroup sizes, derived from one Shape) and `#if ${FLAG}` blocks
// resolved by wgsl-preprocessor.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js'; // the package has no main entry

/** The values that change the generated code: the pipeline cache's key. */
export interface Specialisation {
  readonly consts: Readonly<Record<string, number>>;
  readonly flags: Readonly<Record<string, boolean>>;
}

export function specialisationKey(entry: string, files: readonly string[], s: Specialisation): string {
  const consts = Object.entries(s.consts).sort().map(([k, v]) => `${k}=${v}`).join(',');
  const flags = Object.entries(s.flags).sort().map(([k, v]) => `${k}=${v ? 1 : 0}`).join(',');
  return `${files.join('+')}:${entry}:${consts}:${flags}`;
}

/** Runs the preprocessor over one file's text: `${NAME}` placeholders take the flag's value. */
export function preprocess(fileName: string, text: string, flags: Readonly<Record<string, boolean>>): string {
  const parts = text.split(/\$\{(\w+)\}/);
  const strings: string[] = [];
  const values: boolean[] = [];
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      strings.push(part);
    } else {
      if (!(part in flags)) throw new Error(`${fileName}: flag \${${part}} is not set by the host`);
      values.push(flags[part]);
    }
  });
  const raw = Object.assign([...strings], { raw: [...strings] });
  return wgsl(raw as unknown as TemplateStringsArray, ...values);
}

export function buildModuleCode(
  files: readonly string[],
  sources: Readonly<Record<string, string>>,
  s: Specialisation,
  structs: readonly string[],
): string {
  const header = Object.entries(s.consts).map(([k, v]) => `const ${k}: u32 = ${v}u;`).join('\n');
  const bodies = files.map((f) => {
    const text = sources[f];
    if (text === undefined) throw new Error(`shader file ${f} was not loaded`);
    return `// ---- ${f}\n${preprocess(f, text, s.flags)}`;
  });
  return [header, ...structs, ...bodies].join('\n');
}
