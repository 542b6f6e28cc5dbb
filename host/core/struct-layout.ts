// Uniform structs declared once: the WGSL declaration and the packing on the
// host both come from the same field list, so offsets cannot drift apart
// (docs/architecture.md, TF.js anchor: no hand-computed uniform alignment).

export type ScalarType = 'u32' | 'f32';

export interface StructLayout<F extends string> {
  readonly name: string;
  readonly fields: readonly (readonly [F, ScalarType])[];
  /** Bytes, rounded up to 16 as uniform buffers require. */
  readonly byteSize: number;
  /** The `struct` declaration that the shaders see. */
  readonly wgsl: string;
  pack(values: Record<F, number>): ArrayBuffer;
}

export function defineStruct<F extends string>(name: string, fields: readonly (readonly [F, ScalarType])[]): StructLayout<F> {
  // Every field is a 4-byte scalar, so field i sits at byte 4 * i under WGSL's layout rules.
  const byteSize = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const wgsl = `struct ${name} {\n${fields.map(([f, t]) => `  ${f}: ${t},`).join('\n')}\n}\n`;
  return {
    name,
    fields,
    byteSize,
    wgsl,
    pack(values) {
      const buffer = new ArrayBuffer(byteSize);
      const u32 = new Uint32Array(buffer);
      const f32 = new Float32Array(buffer);
      fields.forEach(([f, t], i) => {
        const v = values[f];
        if (t === 'u32') {
          if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name}.${f} = ${v} is not a u32`);
          u32[i] = v;
        } else {
          f32[i] = v;
        }
      });
      return buffer;
    },
  };
}
