// The layering of docs/architecture.md, checked on the sources: no import cycles, and no upward imports
// (the core never reaches the front doors; the page and the experiments never reach the CLI).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'host'))];
const graph = new Map<string, string[]>(
  files.map((f) => {
    const text = readFileSync(f, 'utf8');
    // Value and type imports alike: a type-only cycle still ties two files together for a reader.
    const deps = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => resolve(dirname(f), m[1]!));
    return [relative(ROOT, f), deps.map((d) => relative(ROOT, d))];
  }),
);

describe('source layout', () => {
  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) visit(d);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f);
    expect(cycles).toEqual([]);
  });

  it('imports only downward: the core reaches no front door, the page and experiments no CLI', () => {
    const upward: string[] = [];
    const frontDoors = ['src/cli/', 'src/page/', 'src/experiments/'];
    for (const [f, deps] of graph) {
      for (const d of deps) {
        const fromCore = !frontDoors.some((p) => f.startsWith(p)) && !['src/node.ts', 'src/browser.ts'].includes(f);
        if (fromCore && frontDoors.some((p) => d.startsWith(p))) upward.push(`${f} -> ${d}`);
        if ((f.startsWith('src/page/') || f.startsWith('src/experiments/')) && d.startsWith('src/cli/')) upward.push(`${f} -> ${d}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps the base types and host/core free of features', () => {
    // A feature is a folder that declares a capability (its types, its CPU twin, its GPU side); src/backend.ts composes them.
    const features = ['src/training/', 'src/sampling/', 'src/metrics/', 'src/piecewise/', 'src/backend.ts', 'src/cpu/', 'host/train/', 'host/tune/', 'host/features.ts', 'host/engine.ts'];
    const base = (f: string) => ['src/types.ts', 'src/matrix.ts', 'src/errors.ts'].includes(f) || f.startsWith('src/math/');
    const wrong: string[] = [];
    for (const [f, deps] of graph) {
      if (!base(f) && !f.startsWith('host/core/')) continue;
      for (const d of deps) if (features.some((p) => d.startsWith(p))) wrong.push(`${f} -> ${d}`);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps node: imports out of the runtime-neutral layers, directly and through an import', () => {
    // Node-only by design: the CLI, the Node entry point and file helpers, and the GPU backend's Node
    // factory (Dawn's adapter and the autotuner's file store). Everything else runs in a browser too.
    const nodeOnly = (f: string): boolean =>
      f.startsWith('src/cli/') || f.startsWith('src/ranks/') || ['src/node.ts', 'src/io/files.ts', 'src/data/files.ts', 'src/data/parquet.ts', 'src/data/open.ts', 'host/index.ts', 'host/core/node-gpu.ts', 'host/tune/tune-store.ts'].includes(f);
    const nodeImports = new Map(files.map((f) => [relative(ROOT, f), /^(?:import|export)\s[^;]*?from\s+'node:/m.test(readFileSync(f, 'utf8'))]));
    // Only imports that load a module at run time: `import type` is erased (host/browser.ts takes its
    // options type from the Node factory).
    const runtimeGraph = new Map<string, string[]>(
      files.map((f) => {
        const text = readFileSync(f, 'utf8');
        const deps = [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => relative(ROOT, resolve(dirname(f), m[1]!)));
        return [relative(ROOT, f), deps];
      }),
    );
    const offenders: string[] = [];
    for (const f of runtimeGraph.keys()) {
      if (nodeOnly(f)) continue;
      // Breadth-first through the imports: the first path to a file that imports node: names the offence.
      const seen = new Map<string, string[]>([[f, [f]]]);
      const queue = [f];
      while (queue.length > 0) {
        const g = queue.shift()!;
        if (nodeImports.get(g)) {
          offenders.push(`${seen.get(g)!.join(' -> ')} -> node:`);
          break;
        }
        for (const d of runtimeGraph.get(g) ?? []) {
          if (seen.has(d)) continue;
          seen.set(d, [...seen.get(g)!, d]);
          queue.push(d);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('reaches no research, bench or test code from what ships (src/ and host/ but the page)', () => {
    // research/ holds the studies and generator candidates, bench/ the benchmarks and the FMA peak, test/ the probes.
    // The page (src/page/, built by Vite, not packed) may run the benchmark's FMA peak.
    const outside = ['research/', 'bench/', 'test/', 'scripts/'];
    const wrong: string[] = [];
    for (const [f, deps] of graph) {
      if (f.startsWith('src/page/')) continue;
      for (const d of deps) if (outside.some((p) => d.startsWith(p))) wrong.push(`${f} -> ${d}`);
    }
    expect(wrong).toEqual([]);
    // Also dynamic imports and URLs, which the graph above does not read.
    const dynamic = files.filter((f) => !relative(ROOT, f).startsWith('src/page/') && /(?:import\(|new URL\()\s*['"`](?:\.\.\/)+(?:research|bench|test)\//.test(readFileSync(f, 'utf8')));
    expect(dynamic.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('keeps src/ and host/ files small (about 400 lines, or a reason here)', () => {
    const allowed: Record<string, { lines: number; why: string }> = {
      'host/shader-sources.ts': { lines: Infinity, why: 'generated: the WGSL files as strings' },
      'src/io/csv.ts': { lines: 460, why: 'one reader: dialect, header and index detection work on the same lines as the parse' },
    };
    const long = files
      .map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([f, n]) => n > (allowed[f]?.lines ?? 420)); // about 400: a file past that should split
    expect(long).toEqual([]);
  });
});
