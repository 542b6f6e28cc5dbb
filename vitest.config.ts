import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { embedShaders } from './scripts/embed-shaders.mjs';

// The engine imports host/shader-sources.ts, generated from shaders/*.wgsl and not kept in git.
embedShaders();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // GPU tests run on a software adapter (SwiftShader) on 2 cores: give them room.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // One WebGPU device per file; files in parallel would fight for 2 cores.
    fileParallelism: false,
    // On a hardware adapter the engine tunes the tiled kernel under 'auto': keep the tests' choices out of the user's cache.
    env: { DDPM_GMM_TUNE_CACHE: join(tmpdir(), `ddpm-gmm-test-autotune-${process.pid}.json`) },
    // The JSON report lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
