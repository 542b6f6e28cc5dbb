// The package carries the WGSL inside host/shader-sources.ts: it must be exactly what shaders/ holds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { renderShaderModule } from '../../scripts/embed-shaders.mjs';

describe('embedded WGSL', () => {
  it('the generated host/shader-sources.ts matches shaders/*.wgsl', () => {
    const current = readFileSync(new URL('../../host/shader-sources.ts', import.meta.url), 'utf8');
    expect(current).toBe(renderShaderModule());
  });

  it('holds every kernel file the engine loads', () => {
    for (const name of ['philox.wgsl', 'pass_io.wgsl', 'ddpm_pass.wgsl', 'ddpm_lanes.wgsl', 'tile.wgsl', 'reduce.wgsl', 'update.wgsl', 'em_pass.wgsl']) {
      expect(WGSL_SOURCES[name], name).toMatch(/fn /);
    }
  });
});
