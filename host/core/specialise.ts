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

/**
 * Expands `#unroll VAR COUNT` ... `#endunroll` blocks (COUNT a number or a
 * specialisation constant): the body is repeated with `{VAR}` replaced by
 * `0u`, `1u`, ... Constant indices let a software adapter such as SwiftShader
 * turn loads into plain vector loads instead of per-lane gathers. Nests.
 * With the constant UNROLL = 0 the block becomes one run-time loop instead (the same body, `{VAR}` the
 * loop index): hardware GPUs and large shapes, where unrolled code only costs compile time.
 * With a constant BLOCK_<COUNT> below COUNT (and dividing it) it is unrolled in part: a run-time loop over
 * blocks of BLOCK_<COUNT> copies, which bounds the code (and a CPU compiler's time) on large shapes.
 */
export function expandUnroll(fileName: string, text: string, consts: Readonly<Record<string, number>>): string {
  const open = /^[ \t]*#unroll[ \t]+(\w+)[ \t]+(\w+)[ \t]*$/m;
  const m = open.exec(text);
  if (!m) {
    if (/#endunroll/.test(text)) throw new Error(`${fileName}: #endunroll without #unroll`);
    return text;
  }
  const [, name, countText] = m;
  const count = /^\d+$/.test(countText) ? Number(countText) : consts[countText];
  if (count === undefined) throw new Error(`${fileName}: #unroll count ${countText} is not a specialisation constant`);
  const bodyStart = m.index + m[0].length;
  // Find the matching #endunroll, counting nested #unroll blocks.
  const tokens = /^[ \t]*#(unroll|endunroll)\b.*$/gm;
  tokens.lastIndex = bodyStart;
  let depth = 1;
  let t: RegExpExecArray | null;
  while ((t = tokens.exec(text))) {
    depth += t[1] === 'unroll' ? 1 : -1;
    if (depth === 0) break;
  }
  if (!t || depth !== 0) throw new Error(`${fileName}: #unroll ${name} has no #endunroll`);
  const body = text.slice(bodyStart, t.index);
  const placeholder = new RegExp(`\\{${name}\\}`, 'g');
  let expanded = '';
  const block = consts[`BLOCK_${countText}`];
  if (consts.UNROLL === 0) expanded = `for (var unroll_${name} = 0u; unroll_${name} < ${count}u; unroll_${name}++) {\n${body.replace(placeholder, `unroll_${name}`)}}\n`;
  else if (block !== undefined && block < count) {
    if (!(block >= 1 && count % block === 0)) throw new Error(`${fileName}: BLOCK_${countText} = ${block} does not divide ${countText} = ${count}`);
    let copies = '';
    for (let i = 0; i < block; i++) copies += body.replace(placeholder, `(block_${name} + ${i}u)`);
    expanded = `for (var block_${name} = 0u; block_${name} < ${count}u; block_${name} += ${block}u) {\n${copies}}\n`;
  } else for (let i = 0; i < count; i++) expanded += body.replace(placeholder, `${i}u`);
  const rest = text.slice(t.index + t[0].length);
  return expandUnroll(fileName, text.slice(0, m.index) + expandUnroll(fileName, expanded, consts) + rest, consts);
}

/** One file of a module after #unroll expansion and #if resolution. */
export interface ModuleSection {
  readonly file: string;
  readonly text: string;
}

export function specialiseFiles(files: readonly string[], sources: Readonly<Record<string, string>>, s: Specialisation): ModuleSection[] {
  return files.map((file) => {
    const text = sources[file];
    if (text === undefined) throw new Error(`shader file ${file} was not loaded`);
    return { file, text: preprocess(file, expandUnroll(file, text, s.consts), s.flags) };
  });
}

/** The module's code: enable directives and constants, the structs, then the files in order. */
export function moduleCode(sections: readonly ModuleSection[], s: Specialisation, structs: readonly string[]): string {
  const header = Object.entries(s.consts).map(([k, v]) => `const ${k}: u32 = ${v}u;`).join('\n');
  const bodies = sections.map(({ file, text }) => `// ---- ${file}\n${text}`);
  // WGSL requires enable directives before any declaration.
  const enables = s.flags.SUBGROUPS ? 'enable subgroups;\n' : '';
  return [enables + header, ...structs, ...bodies].join('\n');
}
