// The package carries the WGSL inside host/shader-sources.ts: it must be exactly what shaders/ holds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { renderShaderModule, SHADER_MODULES } from '../../scripts/embed-shaders.mjs';

describe('embedded WGSL', () => {
  it.each(SHADER_MODULES.map((m) => [m.target, m.dir] as const))('the generated %s matches %s*.wgsl', (target, dir) => {
    const current = readFileSync(new URL(`../../${target}`, import.meta.url), 'utf8');
    expect(current).toBe(renderShaderModule(dir));
  });

  it('ships no test probe or benchmark kernel', () => {
    expect(Object.keys(WGSL_SOURCES).filter((n) => /^probe_|fma_peak/.test(n))).toEqual([]);
  });

  it('holds every kernel file the engine loads', () => {
    for (const name of ['philox.wgsl', 'pass_io.wgsl', 'ddpm_pass.wgsl', 'ddpm_lanes.wgsl', 'tile.wgsl', 'reduce.wgsl', 'update.wgsl', 'em_pass.wgsl']) {
      expect(WGSL_SOURCES[name], name).toMatch(/fn /);
    }
  });
});
