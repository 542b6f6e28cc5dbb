// The exports map's promises, checked on the built dist/ (npm test builds it first): '.' and
// './browser' reach no Node built-in and no Dawn binding, so browser bundles and other runtimes can load them.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = resolve(import.meta.dirname, '..', '..', 'dist');

/** Every module reachable from `entry` by static or dynamic import, and the bare specifiers they name. */
function importGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) todo.push(join(dirname(file), spec));
      else bare.add(spec);
    }
  }
  return { files, bare };
}

describe('package entry points (dist/)', () => {
  it('dist/ is built', () => {
    expect(existsSync(join(DIST, 'src', 'index.js')), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
  });

  it("'ddpm-gmm' is runtime-neutral: no node: built-ins, no webgpu binding", () => {
    const { bare, files } = importGraph(join(DIST, 'src', 'index.js'));
    expect(files.size).toBeGreaterThan(10);
    expect([...bare].filter((s) => s.startsWith('node:') || s === 'webgpu')).toEqual([]);
  });

  it("'ddpm-gmm/browser' reaches no node: built-ins and no webgpu binding", () => {
    const { bare } = importGraph(join(DIST, 'src', 'browser.js'));
    expect([...bare].filter((s) => s.startsWith('node:') || s === 'webgpu')).toEqual([]);
  });

  it("'ddpm-gmm/node' brings the Dawn binding", () => {
    const { bare } = importGraph(join(DIST, 'src', 'node.js'));
    expect(bare.has('webgpu')).toBe(true);
  });
});
