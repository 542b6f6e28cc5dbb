// The engine's variants and failure modes, and its bindings by name checked against the WGSL: both DDPM kernels (tiled, lanes) and the subgroup specialisation
// and its fallback against the float64 reference on a few cases of the shared table; a lost device, a machine
// without an adapter, and a problem over the device's limits each become a DeviceError that says what to do.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../host/core/device.ts';
import { measureFmaCeiling } from '../../bench/fma-peak.ts';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { shapeFor } from '../../host/core/layout.ts';
import { LANE_PLANS } from '../../host/train/kernel-plan.ts';
import { ddpmLanes, ddpmTiled, emLanes, emPass, emUpdate, gdUpdate, reducePartials } from '../../host/train/programs.ts';
import { type Program, slot } from '../../host/core/program.ts';
import { specialiseFiles } from '../../host/core/specialise.ts';
import { checkBindings, ShaderBindingError, wgslBindings } from '../../host/core/wgsl-bindings.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { emStep } from '../../src/training/cpu-reference.ts';
import { DeviceError, InputError } from '../../src/errors.ts';
import { noiseMatrix } from '../../src/math/philox.ts';
import { matrix } from '../../src/types.ts';
import { emBound, gradientBound } from '../support/bounds.ts';
import { caseById, makeProblem, scaledCentres } from '../support/cases.ts';
import { worstRatio } from '../support/compare.ts';
import { summationDepth } from '../support/summation-depth.ts';

const cpu = new CpuBackend();
const variants: { name: string; options: Parameters<typeof createGpuBackend>[0] }[] = [
  { name: 'tiled kernel, subgroups where the adapter has them', options: { kernel: 'tiled' } },
  { name: 'tiled kernel, subgroup fallback', options: { kernel: 'tiled', subgroups: false } },
  { name: 'lane kernel', options: { kernel: 'lanes' } },
  // An autotuner candidate (host/tune/autotune.ts): its partition of the sums is in the bound through summationDepth.
  { name: 'tiled kernel, tile 16, workgroup 128, 5 groups', options: { kernel: 'tiled', tune: { tile: 16, wg: 128, groups: 5 } } },
  // The lane kernel's other plans (host/train/kernel-plan.ts), forced at every shape: the same sums, so the same bound.
  { name: 'lane kernel, paced plan', options: { kernel: 'lanes', lanePlan: 'paced' } },
  { name: 'lane kernel, centre-loop plan', options: { kernel: 'lanes', lanePlan: 'centre-loop' } },
];
const backends: GpuBackend[] = [];

beforeAll(async () => {
  for (const v of variants) backends.push(await createGpuBackend(v.options));
});

afterAll(() => backends.forEach((b) => b.dispose()));

describe('every kernel variant agrees with the float64 reference', () => {
  variants.forEach((v, i) => {
    for (const id of ['K3-d5-N1000-t0.05', 'K16-d64-N65-t3', 'K2tied-d5-N64-t0.5', 'K33-d3-N64-t0.05']) {
      it(`${v.name}: ${id}`, async () => {
        const gpu = backends[i];
        const c = caseById(id);
        const { data, centres, z } = makeProblem(c);
        const got = await gpu.lossAndGradient(data, centres, { noiseScale: c.t, tied: c.tied, noise: { kind: 'matrix', z } });
        const ref = await cpu.lossAndGradient(data, centres, { noiseScale: c.t, tied: c.tied, noise: { kind: 'matrix', z } });
        // The derived float32 bound of test/support/bounds.ts, with the summation depth of the kernel this backend runs.
        const bound = gradientBound(data, scaledCentres(centres, c.t, c.tied), c.t, z, summationDepth(gpu, c.tied ? 2 : c.k, c.d, c.n), c.tied);
        expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(bound.loss);
        expect(worstRatio(got.gradScaled.data, ref.gradScaled.data, bound.grad).ratio).toBeLessThanOrEqual(1);
      });
    }
    it(`${v.name}: EM step (its log-likelihood sum uses the workgroup sum)`, async () => {
      const gpu = backends[i];
      const c = caseById('K8-d16-N1000-t0.05');
      const { data, centres } = makeProblem(c);
      const got = await gpu.emStep(data, centres);
      // The derived EM bound of test/support/bounds.ts (softmax on clean data, sums of the EM pass's depth, the division).
      const { next, bound } = emBound(data, centres, summationDepth(gpu, c.k, c.d, c.n, 'em'), 'em');
      expect(worstRatio(got.data, next.data, bound.data).ratio).toBeLessThanOrEqual(1);
      expect(worstRatio(got.data, emStep(data, centres).data, bound.data).ratio).toBeLessThanOrEqual(1);
    });
  });
});

describe('overlapping calls on one backend', () => {
  it('run one at a time: GD, EM and a gradient started together give the results they give one after another', async () => {
    const gpu = backends[2];
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres, z } = makeProblem(c);
    const gd = () => gpu.gdSteps(data, centres, { noiseScale: c.t, tied: false, lr: 0.05, steps: 20, logEvery: 5, noise: { kind: 'seed', seed: 4, mode: 'fresh' } });
    const em = () => gpu.emStep(data, centres);
    const grad = () => gpu.lossAndGradient(data, centres, { noiseScale: 0.3, tied: false, noise: { kind: 'matrix', z } });
    const [gdA, emA, gradA] = [await gd(), await em(), await grad()];
    const [gdB, emB, gradB] = await Promise.all([gd(), em(), grad()]);
    // The same kernels on the same inputs in the same order are deterministic (fixed-order reductions): bit for bit.
    expect(Array.from(gdB.centres.data)).toEqual(Array.from(gdA.centres.data));
    expect(Array.from(emB.data)).toEqual(Array.from(emA.data));
    expect(gradB.loss).toBe(gradA.loss);
    expect(Array.from(gradB.gradScaled.data)).toEqual(Array.from(gradA.gradScaled.data));
  });
});

describe('buffers reused across data sizes', () => {
  it('EM after GD on other data of the same K and d equals EM on a fresh backend, bit for bit', async () => {
    // The lane kernel caps the DDPM partial count, so N = 4000 and N = 40000 share it while EM's grid differs.
    const small = noiseMatrix(5, 0, 4000, 8, 1);
    const large = noiseMatrix(6, 0, 40000, 8, 1);
    const centres = matrix(2, 8, Float64Array.from({ length: 16 }, (_, i) => (i % 3) - 1));
    const used = await createGpuBackend();
    const fresh = await createGpuBackend();
    try {
      await used.gdSteps(small, centres, { noiseScale: 0.5, tied: false, lr: 0.1, steps: 2, noise: { kind: 'seed', seed: 1, mode: 'fresh' } });
      const after = await used.emStep(large, centres);
      const alone = await fresh.emStep(large, centres);
      expect(Array.from(after.data)).toEqual(Array.from(alone.data));
    } finally {
      used.dispose();
      fresh.dispose();
    }
  });
});

describe('both backends number the steps the same way', () => {
  it('history steps count from startStep on the GPU and on the CPU', async () => {
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const options = { noiseScale: c.t, tied: false, lr: 0.05, steps: 4, logEvery: 2, startStep: 10, noise: { kind: 'seed', seed: 2, mode: 'fresh' } } as const;
    const onGpu = await backends[2].gdSteps(data, centres, options);
    const onCpu = await cpu.gdSteps(data, centres, options);
    expect(onGpu.history.map((h) => h.step)).toEqual([11, 13]);
    expect(onCpu.history.map((h) => h.step)).toEqual([11, 13]);
  });
});

describe("the lane kernel's plans", () => {
  it('software adapters run the lane kernel at every shape, its plan by size; hardware adapters the tiled kernel', async () => {
    const auto = await createGpuBackend();
    try {
      if (!auto.isSoftware) {
        expect(auto.kernelFor(64, 64)).toBe('tiled');
        expect(auto.lanePlanOf(64, 64)).toBeUndefined();
        return;
      }
      expect(auto.kernelFor(64, 64)).toBe('lanes');
      expect(auto.lanePlanOf(16, 64)).toBe('unrolled'); // 16 x 16 = 256 pairs
      expect(auto.lanePlanOf(24, 64)).toBe('unrolled'); // 384
      expect(auto.lanePlanOf(32, 64)).toBe('paced'); // 512
      expect(auto.lanePlanOf(2, 1024)).toBe('paced'); // tied d = 1024: 2 x 256
      expect(auto.lanePlanOf(64, 64)).toBe('paced'); // 1024 at K <= 128, d <= 128
      expect(auto.lanePlanOf(16, 256)).toBe('centre-loop'); // 1024 at d = 256: paced code crashed SwiftShader's compiler
      expect(auto.lanePlanOf(256, 16)).toBe('centre-loop'); // 1024 at K = 256: so did this
      expect(auto.lanePlanOf(128, 64)).toBe('centre-loop'); // 2048: and this
    } finally {
      auto.dispose();
    }
  });

  it('a forced plan that would crash the compiler is an InputError, not a crash', async () => {
    const gpu = await createGpuBackend({ kernel: 'lanes', lanePlan: 'paced' });
    try {
      expect(() => gpu.lanePlanOf(16, 256)).toThrow(/lanePlan 'paced' unrolls K x d\/4 = 16 x 64 = 1024 .* use lanePlan 'centre-loop' or leave lanePlan unset/);
      const data = matrix(300, 256, new Float64Array(300 * 256).fill(0.5));
      const centres = matrix(16, 256, new Float64Array(16 * 256).fill(0.1));
      await expect(gpu.lossAndGradient(data, centres, { noiseScale: 0.5, tied: false, noise: { kind: 'seed', seed: 1, mode: 'fixed' } })).rejects.toThrow(InputError);
    } finally {
      gpu.dispose();
    }
  });

  it('the plans give the same bits: loss, gradient, GD steps with fresh noise, EM steps', async () => {
    // The plans change where the half norms live, whether the loops over K run at run time and whether the rows
    // are paced by a barrier, never the order of any sum, so their float32 results are identical, not merely close.
    // K = 20 is more centres than a workgroup has invocations (16), so some invocations share out two half norms;
    // N = 600 is not a multiple of the 256 invocations, so the paced plan's last round has idle invocations.
    const problems = [makeProblem(caseById('K3-d5-N1000-t0.05')), { data: noiseMatrix(7, 0, 600, 9, 1), centres: noiseMatrix(8, 0, 20, 9, 1) }];
    const results = [];
    for (const lanePlan of LANE_PLANS) {
      const gpu = await createGpuBackend({ kernel: 'lanes', lanePlan });
      try {
        const perProblem = [];
        for (const { data, centres } of problems) {
          const lg = await gpu.lossAndGradient(data, centres, { noiseScale: 0.3, tied: false, noise: { kind: 'seed', seed: 4, mode: 'fixed' } });
          const gd = await gpu.gdSteps(data, centres, { noiseScale: 0.3, tied: false, lr: 0.05, steps: 3, logEvery: 3, noise: { kind: 'seed', seed: 4, mode: 'fresh' } });
          const em = await gpu.emStep(data, centres);
          perProblem.push({ loss: lg.loss, grad: [...lg.gradScaled.data], gd: [...gd.centres.data], em: [...em.data] });
        }
        results.push(perProblem);
      } finally {
        gpu.dispose();
      }
    }
    expect(results[0]![1]!.grad.some((v) => v !== 0)).toBe(true);
    for (let i = 1; i < LANE_PLANS.length; i++) expect(results[i]).toEqual(results[0]);
  });
});

describe('failures become DeviceErrors that say what to do', () => {
  it('no adapter at all: says how to get one', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu: noAdapter })).rejects.toThrow(DeviceError);
    await expect(acquireDevice({ gpu: noAdapter })).rejects.toThrow(/No WebGPU adapter was found.*apt-get install chromium libvulkan1.*--backend cpu/);
  });

  it('a device lost during training rejects the run instead of hanging', async () => {
    const gpu = await createGpuBackend();
    const c = caseById('K3-d5-N1000-t0.05');
    const { data, centres } = makeProblem(c);
    const run = gpu.gdSteps(data, centres, { noiseScale: c.t, tied: false, lr: 0.05, steps: 200, logEvery: 100, noise: { kind: 'seed', seed: 1, mode: 'fresh' } });
    gpu.device.destroy();
    await expect(run).rejects.toThrow(DeviceError);
    await expect(gpu.lossAndGradient(data, centres, { noiseScale: 0.5, tied: false, noise: { kind: 'seed', seed: 1, mode: 'fixed' } })).rejects.toThrow(DeviceError);
  });

  it('a problem whose one sample exceeds workgroup memory: the tiled and EM passes name the limit and the size', async () => {
    const gpu = backends[0];
    const d = 20000; // 2 x 5000 vec4 per sample in workgroup memory: 160 kB, over any device's limit
    const data = noiseMatrix(1, 0, 4, d, 1);
    const centres = matrix(1, d, data.data.slice(0, d));
    const error = /need \d+ bytes of workgroup memory for one sample, but this device allows \d+/;
    await expect(gpu.lossAndGradient(data, centres, { noiseScale: 0.5, tied: false, noise: { kind: 'seed', seed: 1, mode: 'fixed' } })).rejects.toThrow(error);
    await expect(gpu.emStep(data, centres)).rejects.toThrow(DeviceError);
  });
});

describe('bindings by name, checked against the WGSL when a pipeline is built', () => {
  const dir = new URL('../../shaders/', import.meta.url);
  const sources = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.wgsl')).map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]));
  const limits = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxComputeWorkgroupsPerDimension: 65535 };
  const shape = shapeFor(3, 5, limits);
  const check = <B extends string, P>(program: Program<B, P>, params: P): void => {
    const spec = program.specialise(params);
    checkBindings(program, spec.flags, specialiseFiles(program.files, sources, spec));
  };

  it("every engine program's bindings agree with its WGSL under each specialisation", () => {
    for (const explicitNoise of [false, true]) {
      for (const subgroups of [false, true]) {
        check(ddpmTiled, { shape, explicitNoise, subgroups });
        for (const plan of LANE_PLANS) check(ddpmLanes, { shape, explicitNoise, subgroups, plan });
      }
    }
    for (const tied of [false, true]) for (const project of [false, true]) check(gdUpdate, { shape, tied, project });
    check(emPass, { shape, subgroups: true });
    for (const plan of LANE_PLANS) check(emLanes, { shape, subgroups: true, plan });
    check(emUpdate, shape);
    check(reducePartials, shape);
  });

  it('the parser takes @group and @binding in either order and skips commented-out declarations', () => {
    const text = '// @group(0) @binding(9) var<uniform> old: P;\n@binding(2) @group(1) var<storage, read_write> out: array<f32>;\n' +
      '/* @group(0) @binding(3) var<uniform> gone: P; */\n@group(0) @binding(0)\nvar image: texture_2d<f32>;';
    expect(wgslBindings([{ file: 'a.wgsl', text }])).toEqual([
      { name: 'out', group: 1, binding: 2, file: 'a.wgsl' },
      { name: 'image', group: 0, binding: 0, file: 'a.wgsl' },
    ]);
  });

  it('a wrong number, a name the WGSL lacks, a binding the program lacks, a flag-gated binding: ShaderBindingErrors naming program, binding and file', () => {
    const wrongNumber = { ...reducePartials, bindings: { ...reducePartials.bindings, totals: slot(0, 4) } };
    expect(() => check(wrongNumber, shape)).toThrow(ShaderBindingError);
    expect(() => check(wrongNumber, shape)).toThrow(/program reducePartials .*binding 'totals' is @group\(0\) @binding\(4\) in the program but @group\(0\) @binding\(1\) in reduce\.wgsl/);
    const renamed = { ...reducePartials, bindings: { partials: slot(0, 0), sums: slot(0, 1), params: slot(0, 2) } };
    expect(() => check(renamed, shape)).toThrow(/binding 'sums' \(@group\(0\) @binding\(1\)\) is declared by the program but by none of its files \(reduce\.wgsl\)/);
    expect(() => check(renamed, shape)).toThrow(/reduce\.wgsl declares @group\(0\) @binding\(1\) var totals, which the program does not name/);
    const ungated = { ...ddpmTiled, bindings: { ...ddpmTiled.bindings, noise: slot(0, 5) } };
    expect(() => check(ungated, { shape, explicitNoise: false, subgroups: false })).toThrow(/program ddpmPass .*binding 'noise' \(@group\(0\) @binding\(5\)\) is declared by the program but by none of its files \(philox\.wgsl, pass_io\.wgsl/);
    const unknownFlag = { ...reducePartials, bindings: { ...reducePartials.bindings, totals: slot(0, 1, 'TOTALS') } };
    expect(() => check(unknownFlag, shape)).toThrow(/binding 'totals' depends on flag TOTALS, which this program's specialisation does not set/);
  });

  it('binding a name the program does not have throws before anything reaches the GPU', async () => {
    await backends[0]!.withInternals(async ({ device, pipelines }) => {
      const reduce = pipelines.get(reducePartials, shape);
      const pass = device.createCommandEncoder().beginComputePass();
      const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      expect(() => pipelines.bind(pass, reduce, { sums: buffer } as never)).toThrow(/program reducePartials has no binding named 'sums': bind one of partials, totals, params/);
      pass.end();
      buffer.destroy();
    });
  });

  it("the benchmark's FMA peak (bench/fma-peak.ts) runs through the internal hook", async () => {
    expect(await measureFmaCeiling(backends[0]!, 1, 64, 16)).toBeGreaterThan(0);
  });
});
