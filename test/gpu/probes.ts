// Probes for the GPU tests: small entry points built from the same WGSL functions
// as the fused pass (docs/architecture.md, 'One WGSL function per piece of math'), so that a test of a probe tests the training pass.
// They live beside the tests and reach the engine through GpuBackend.withInternals.
import { createBuffer, STORAGE_RW, unpad } from '../../host/core/buffers.ts';
import { foldWorkgroups } from '../../host/core/dispatch.ts';
import type { GpuBackend } from '../../host/engine.ts';
import { requireTile, shapeConsts } from '../../host/core/layout.ts';
import { PASS_IO, type PassIo, passParams, type PassSpec, TILED_PASS_FILES } from '../../host/train/programs.ts';
import { type Program, slot } from '../../host/core/program.ts';
import type { ShapeResources } from '../../host/train/resources.ts';
import { WGSL_SOURCES as PROBE_SOURCES } from './shaders/sources.ts';
import { InputError } from '../../src/errors.ts';
import { forwardCoefficients } from '../../src/math/forward.ts';
import { type DdpmOptions } from '../../src/training/capability.ts';
import { matrix, type Matrix } from '../../src/types.ts';

const philoxProbe: Program<'philoxInput' | 'philoxOutput', void> = {
  entry: 'philoxProbe',
  files: ['philox.wgsl', 'probe_philox.wgsl'],
  sources: PROBE_SOURCES,
  structs: [],
  bindings: { philoxInput: slot(0, 0), philoxOutput: slot(0, 1) },
  specialise: () => ({ consts: {}, flags: {} }),
};

/** probe_tile.wgsl's entry points: pass_io.wgsl's bindings and the probe's output. */
function tileProbe(entry: 'noiseProbe' | 'responsibilitiesProbe'): Program<PassIo | 'probeOut', PassSpec> {
  return {
    entry,
    files: [...TILED_PASS_FILES, 'ddpm_pass.wgsl', 'probe_tile.wgsl'],
    sources: PROBE_SOURCES,
    structs: [passParams.wgsl],
    bindings: { ...PASS_IO, probeOut: slot(0, 6) },
    specialise: (p) => ({ consts: shapeConsts(p.shape), flags: { EXPLICIT_NOISE: p.explicitNoise, SUBGROUPS: p.subgroups } }),
  };
}
const noiseProbeProgram = tileProbe('noiseProbe');
const responsibilitiesProbeProgram = tileProbe('responsibilitiesProbe');

function requireSingleChunk(res: ShapeResources): void {
  if (res.chunkUniforms.length !== 1) throw new InputError('The probe entry points take data that fit one storage binding.');
}

/** Raw Philox4x32 words of `rounds` rounds for each (counter, key): 4 counter words and 2 key words per item. */
export function philoxWords(gpu: GpuBackend, counters: Uint32Array, keys: Uint32Array, rounds: number): Promise<Uint32Array> {
  return gpu.withInternals(async ({ device, pipelines, read }) => {
    const n = counters.length / 4;
    const input = new Uint32Array(8 * n);
    for (let i = 0; i < n; i++) {
      input.set(counters.subarray(4 * i, 4 * i + 4), 8 * i);
      input.set(keys.subarray(2 * i, 2 * i + 2), 8 * i + 4);
      input[8 * i + 6] = rounds;
    }
    const philoxInput = createBuffer(device, input.byteLength, STORAGE_RW, input);
    const philoxOutput = createBuffer(device, 16 * n, STORAGE_RW);
    const program = pipelines.get(philoxProbe, undefined);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(program.pipeline);
    pipelines.bind(pass, program, { philoxInput, philoxOutput });
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    const [out] = await read(encoder, [{ buffer: philoxOutput, bytes: 16 * n }]);
    philoxInput.destroy();
    philoxOutput.destroy();
    return new Uint32Array(out);
  });
}

/** The noise z (N x d) that the DDPM pass draws for (seed, step); only the data's shape matters. */
export function noiseProbe(gpu: GpuBackend, data: Matrix, seed: number, step: number): Promise<Matrix> {
  return gpu.withInternals(async ({ device, pipelines, resources, read }) => {
    const res = resources.prepare(data, 1, { a: 1, sigma: 1, noise: { kind: 'seed', seed, mode: 'fixed', step }, steps: 0 });
    requireSingleChunk(res);
    requireTile(res.shape, device.limits);
    const bytes = 16 * data.rows * res.shape.d4;
    const probeOut = createBuffer(device, bytes, STORAGE_RW);
    const program = pipelines.get(noiseProbeProgram, { shape: res.shape, explicitNoise: false, subgroups: false });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(program.pipeline);
    pipelines.bind(pass, program, { params: res.chunkUniforms[0], stepState: res.stepState, probeOut });
    const [gx, gy] = foldWorkgroups(Math.ceil((data.rows * res.shape.d4) / 64), device.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    const [z] = await read(encoder, [{ buffer: probeOut, bytes }]);
    probeOut.destroy();
    return unpad(new Float32Array(z), data.rows, data.cols, res.shape.d4);
  });
}

/** Responsibilities w(x_t) (N x K) at the noisy points of the DDPM pass; `maxPerDimension` forces 2-D folding. */
export function responsibilitiesProbe(gpu: GpuBackend, data: Matrix, centres: Matrix, options: DdpmOptions, maxPerDimension?: number): Promise<Matrix> {
  return gpu.withInternals(async ({ device, pipelines, resources, checkProblem, read }) => {
    const { a, sigma } = forwardCoefficients(options.noiseScale);
    const k = checkProblem(data, centres, options.tied);
    const res = resources.prepare(data, k, { a, sigma, noise: options.noise, steps: 0 });
    requireSingleChunk(res);
    requireTile(res.shape, device.limits);
    resources.writeScaledCentres(res, centres, a, options.tied);
    const explicitNoise = options.noise.kind === 'matrix';
    const noise = resources.uploadNoise(options.noise, data);
    const bytes = 16 * data.rows * res.shape.k4;
    const probeOut = createBuffer(device, bytes, STORAGE_RW);
    const program = pipelines.get(responsibilitiesProbeProgram, { shape: res.shape, explicitNoise, subgroups: false });
    const encoder = device.createCommandEncoder();
    if (options.noise.kind === 'seed') resources.resetStepState(encoder, res, options.noise.step ?? 0);
    const pass = encoder.beginComputePass();
    pass.setPipeline(program.pipeline);
    const source = noise ? { noise: noise[0] } : { stepState: res.stepState };
    pipelines.bind(pass, program, { data: resources.chunks[0].buffer, centres: res.centres, params: res.chunkUniforms[0], probeOut, ...source });
    const [gx, gy] = foldWorkgroups(Math.ceil(data.rows / res.shape.tile), maxPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    const [w] = await read(encoder, [{ buffer: probeOut, bytes }]);
    probeOut.destroy();
    noise?.forEach((b) => b.destroy());
    const kp = 4 * res.shape.k4;
    const wf = new Float32Array(w);
    const result = matrix(data.rows, k);
    for (let n = 0; n < data.rows; n++) for (let j = 0; j < k; j++) result.data[n * k + j] = wf[n * kp + j];
    return result;
  });
}
