// Comments say why; figures live in docs/performance.md, docs/experiments.md and docs/decisions/, where they
// carry their date, machine and command and do not go stale unseen. This test fails when a comment in src/,
// host/ or shaders/ carries a measurement: a time, a throughput, a speed-up, a share of a ceiling or a load average.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** Generated from shaders/*.wgsl (scripts/); the WGSL comments are not TypeScript comments. */
const GENERATED = new Set(['host/shader-sources.ts']);

function sources(dir: string, ext = '.ts'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p, ext);
    return p.endsWith(ext) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

export interface CommentLine {
  readonly line: number;
  readonly text: string;
}

/** The comment text of each line of a TypeScript source: `//` comments and block comments, strings skipped. */
export function commentLines(source: string): CommentLine[] {
  const out: CommentLine[] = [];
  let inBlock = false;
  source.split('\n').forEach((line, index) => {
    let text = '';
    let quote: string | null = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (inBlock) {
        if (c === '*' && line[i + 1] === '/') {
          inBlock = false;
          i++;
        } else text += c;
      } else if (quote !== null) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
      } else if (c === '/' && line[i + 1] === '/') {
        text += line.slice(i + 2);
        break;
      } else if (c === '/' && line[i + 1] === '*') {
        inBlock = true;
        i++;
      } else if (c === "'" || c === '"' || c === '`') quote = c;
    }
    if (text.trim() !== '') out.push({ line: index + 1, text });
  });
  return out;
}

const NUMBER = String.raw`\d+(?:\.\d+)?(?:\s?-\s?\d+(?:\.\d+)?)?`;
/** What a measurement looks like in prose. Each needs a number with a unit or a comparison, so that math
 * constants (1e-8, 2^17, 1/sqrt(d)), section numbers and bounds such as "K <= 128" pass. */
export const MEASUREMENT: ReadonlyArray<readonly [string, RegExp]> = [
  ['a time', new RegExp(String.raw`(?<![\w.^])${NUMBER}\s?(?:ms|us|µs|ns|s|secs?|seconds?|minutes?|mins|hours?)\b`)],
  ['a throughput', new RegExp(String.raw`(?<![\w.^])${NUMBER}(?:e[+-]?\d+)?\s?(?:[GMT]?FLOP\/?s|GFLOPS)\b`, 'i')],
  ['a speed-up', new RegExp(String.raw`(?<![\w.^])${NUMBER}\s?(?:x|times)\s+(?:faster|slower|quicker|the time)\b`, 'i')],
  ['a share of a ceiling', new RegExp(String.raw`(?<![\w.^])${NUMBER}\s?%\s+of\s+(?:the\s+|its\s+|a\s+)?(?:\w+\s+)?(?:ceiling|peak|step|time)\b`, 'i')],
  ['a load average', /\bload average\b/i],
];

export function measurementIn(text: string): string | undefined {
  return MEASUREMENT.find(([, pattern]) => pattern.test(text))?.[0];
}

describe('comments', () => {
  it('flag measurements and pass constants', () => {
    for (const text of [
      'about 10 s of compilation at 384 pairs',
      'a step takes 1.76 s on SwiftShader',
      'each invocation costs about 9 us',
      '0.2-0.6 ms per call',
      'reaches 5.28 GFLOP/s here',
      '1.6-3x faster with 64 invocations',
      'made steps 10x slower',
      'at 1.1-1.4x the time per sample',
      '54% of the ceiling',
      'run with a load average of 2',
    ]) expect(measurementIn(text), text).toBeDefined();
    for (const text of [
      '1 - |cos| <= 1e-8 between iterates; 100 iterations bound the cost',
      'up to 1024 pairs while K <= 128 and d <= 128',
      'docs/math.md section 13; sections 8.2 and 9',
      'rows x steps, at most 2^17 sample-steps',
      'the 95% t interval of b (NaN with fewer than 3 points)',
      'a redraw at most every REDRAW_MS',
      'x_t = a_t x0 + sigma_t z',
      'a fixed eta converges K times slower',
    ]) expect(measurementIn(text), text).toBeUndefined();
  });

  it('in src/, host/ and shaders/ carry no measurements', () => {
    const found: string[] = [];
    // WGSL comments are `//` lines too, which commentLines reads.
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'host')), ...sources(join(ROOT, 'shaders'), '.wgsl')]) {
      const name = relative(ROOT, file).split('\\').join('/');
      if (GENERATED.has(name)) continue;
      for (const { line, text } of commentLines(readFileSync(file, 'utf8'))) {
        const kind = measurementIn(text);
        if (kind !== undefined) found.push(`${name}:${line}: ${kind}: ${text.trim()}`);
      }
    }
    // Say why in the comment and cite the figure's home (docs/performance.md, docs/experiments.md, docs/decisions/).
    expect(found).toEqual([]);
  });
});
