// The package carries the WGSL inside host/shader-sources.ts: it must be exactly what shaders/ holds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
// @ts-expect-error a plain .mjs build script without declarations
import { renderShaderModule } from '../../scripts/embed-shaders.mjs';

describe('embedded WGSL', () => {
  it('host/shader-sources.ts is up to date with shaders/*.wgsl (else: npm run embed-shaders)', () => {
    const current = readFileSync(new URL('../../host/shader-sources.ts', import.meta.url), 'utf8');
    expect(current).toBe((renderShaderModule as () => string)());
  });

  it('holds every kernel file the engine loads', () => {
    for (const name of ['philox.wgsl', 'pass_io.wgsl', 'ddpm_pass.wgsl', 'ddpm_lanes.wgsl', 'tile.wgsl', 'reduce.wgsl', 'update.wgsl', 'em_pass.wgsl']) {
      expect(WGSL_SOURCES[name], name).toMatch(/fn /);
    }
  });
});
