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

/** Per chunk of the data: the DDPM, EM and probe passes. */
export const passParams = defineStruct('PassParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['partialBase', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
  ['fixedStep', 'u32'],
  ['freshNoise', 'u32'],
  ['a', 'f32'],
  ['sigma', 'f32'],
  ['invSigma', 'f32'],
] as const);

export const reduceParams = defineStruct('ReduceParams', [['partialCount', 'u32']] as const);

export const updateParams = defineStruct('UpdateParams', [
  ['twoOverN', 'f32'],
  ['invN', 'f32'],
  ['lr', 'f32'],
  ['apply', 'u32'],
  ['radius', 'f32'],
  ['emMode', 'u32'],
] as const);

/** Per dispatch of the sampler (shaders/sample_step.wgsl): a chunk of samples over a run of steps. */
export const sampleParams = defineStruct('SampleParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['firstStep', 'u32'],
  ['stepCount', 'u32'],
  ['tableRow', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
] as const);

/** Per dispatch of the score error's draws (shaders/score_error.wgsl). */
export const scoreErrorParams = defineStruct('ScoreErrorParams', [
  ['draws', 'u32'],
  ['firstDraw', 'u32'],
  ['k', 'u32'],
  ['kTrue', 'u32'],
  ['a', 'f32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
] as const);

/** Per dispatch of the piecewise moments' first pass (shaders/piecewise_points.wgsl): a chunk of rows, one noise draw. */
export const piecewisePointParams = defineStruct('PiecewisePointParams', [
  ['rows', 'u32'],
  ['chunkBase', 'u32'],
  ['cells', 'u32'],
  ['step', 'u32'],
  ['seedLo', 'u32'],
  ['seedHi', 'u32'],
  ['a', 'f32'],
  ['sigma', 'f32'],
  ['invSigma', 'f32'],
] as const);

/** Per dispatch of the piecewise Gram pass (shaders/piecewise_gram.wgsl): a run of segments. */
export const piecewiseGramParams = defineStruct('PiecewiseGramParams', [
  ['segments', 'u32'],
  ['firstSegment', 'u32'],
] as const);

/** Per dispatch of the pairwise distance sums (shaders/energy_distance.wgsl). */
export const pairParams = defineStruct('PairParams', [
  ['rowsA', 'u32'],
  ['rowsB', 'u32'],
  ['firstRowA', 'u32'],
  ['blocks', 'u32'],
  ['segments', 'u32'],
  ['segmentRows', 'u32'],
  ['partialBase', 'u32'],
] as const);

/** Per dispatch of the nearest-centre counts behind the mode weights (shaders/mode_weights.wgsl). */
export const modeParams = defineStruct('ModeParams', [
  ['rows', 'u32'],
  ['k', 'u32'],
  ['firstRow', 'u32'],
  ['groups', 'u32'],
] as const);
