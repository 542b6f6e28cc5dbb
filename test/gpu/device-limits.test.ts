// Device limits refused before they are hit, and the device's own words kept off stdout (issue 18): the lane
// kernel's private sums are checked against the shader compiler's limit up front; a pipeline the compiler rejects
// anyway reports its cause in the DeviceError on stderr, and `--json` keeps stdout clean.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapeFor } from '../../host/core/layout.ts';
import { PipelineCache } from '../../host/core/pipelines.ts';
import { lanePrivateBytes, MAX_PRIVATE_ARRAY_BYTES, resolveLanePlan } from '../../host/train/kernel-plan.ts';
import { DeviceError } from '../../src/errors.ts';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'dev.js');
const limits = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxComputeWorkgroupsPerDimension: 65535 };

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 1 << 26, env: { ...process.env, DDPM_GMM_DEBUG: '' } }, (e, stdout, stderr) => {
      done({ code: e ? Number((e as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('the lane kernel: private sums within the compiler limit', () => {
  it('K d/4 blocks of 16 bytes per centre row of 4: d = 5000 at K = 2, and K = 17000 at d = 1, are over the limit', () => {
    // The sums are KP x D4 vec4 of f32: 4 ceil(K/4) x ceil(d/4) x 16 bytes.
    expect(lanePrivateBytes(shapeFor(2, 5000, limits))).toBe(4 * 1250 * 16);
    expect(lanePrivateBytes(shapeFor(17000, 1, limits))).toBe(17000 * 1 * 16);
    for (const [k, d] of [[2, 5000], [17000, 1]] as const) {
      const shape = shapeFor(k, d, limits);
      expect(() => resolveLanePlan(shape)).toThrow(DeviceError);
      expect(() => resolveLanePlan(shape)).toThrow(new RegExp(`${MAX_PRIVATE_ARRAY_BYTES} bytes .* use --backend cpu`));
    }
  });

  it('a shape at the limit exactly runs its plan; one block more is refused', () => {
    // K = 4, d = 4096: 4 x 1024 vec4 = 65536 bytes.
    expect(lanePrivateBytes(shapeFor(4, 4096, limits))).toBe(MAX_PRIVATE_ARRAY_BYTES);
    expect(resolveLanePlan(shapeFor(4, 4096, limits))).toBe('centre-loop');
    expect(() => resolveLanePlan(shapeFor(4, 4100, limits))).toThrow(DeviceError);
  });
});

describe('on the GPU through the CLI: one line on stderr, nothing from the device on stdout', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-device-limits-'));
    const gen = await cli(['generate', '--k', '2', '--d', '5000', '--n', '20', '--out', 'x.npy', '--truth', 'mu.npy'], dir);
    expect(gen.code, gen.stderr).toBe(0);
    const means = Array.from({ length: 17000 }, (_, i) => [i / 100]);
    writeFileSync(join(dir, 'm17.json'), JSON.stringify({ format: 'ddpm-gmm-model', version: 1, createdBy: 'ddpm-gmm 0.1.0', nComponents: 17000, dimension: 1, means, method: 'ddpm', schedule: 'single', converged: true, nIter: 1, backendUsed: null }));
  });

  it('grad --backend gpu --json at d = 5000 is refused up front (exit 3), naming the limit and --backend cpu', async () => {
    const r = await cli(['grad', '--data', 'x.npy', '--means', 'mu.npy', '--t', '0.5', '--seed', '1', '--backend', 'gpu', '--json'], dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ddpm-gmm: error: K = 2 and d = 5000 .* need 80000 bytes .* over the 65536 bytes .* use --backend cpu/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the sampler at K = 17000 is refused up front (exit 3): its K weights need 68000 bytes, over the limit', async () => {
    const r = await cli(['sample', '--model', 'm17.json', '--n', '10', '--steps', '5', '--out', 's.npy', '--backend', 'gpu', '--json'], dir);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ddpm-gmm: error: the GPU sampler at K = 17000, d = 1 needs 68000 bytes .* over the 65536 bytes .* use --backend cpu/);
    expect(r.stderr.trim().split('\n').filter((l) => !/^sample/.test(l))).toHaveLength(1);
  });

  it("a pipeline the compiler rejects anyway keeps the compiler's cause for the DeviceError, off stdout", async () => {
    const { createGpuBackend } = await import('../../src/node.ts');
    const gpu = await createGpuBackend();
    try {
      // A kernel past the limit, built by hand: the checks above keep the library's kernels off this path.
      const cache = new PipelineCache(gpu.device, {}, () => {});
      const code = 'fn big() -> f32 { var a: array<f32, 17000>; a[0] = 1.0; return a[0]; }\n@compute @workgroup_size(1) fn bigArray() { _ = big(); }';
      cache.get({ entry: 'bigArray', files: ['big.wgsl'], sources: { 'big.wgsl': code }, structs: [], bindings: {}, specialise: () => ({ consts: {}, flags: {} }) }, {});
      expect((await cache.compilerErrors()).join(' ')).toMatch(/bigArray \(big\.wgsl\)[\s\S]*result type size \(68000\) exceeds maximum allowed \(65536\)/);
    } finally {
      gpu.dispose();
    }
  });
});
