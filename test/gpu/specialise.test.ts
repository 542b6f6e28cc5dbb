// The #unroll expansion of host/core/specialise.ts: whole, as one run-time loop (UNROLL = 0), and in blocks (BLOCK_<COUNT>).
import { describe, expect, it } from 'vitest';
import { expandUnroll } from '../../host/core/specialise.ts';

const text = 'a;\n#unroll j K\nw[{j}] += 1.0;\n#endunroll\nb;\n';
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('#unroll expansion', () => {
  it('unrolls whole by default, with constant indices', () => {
    expect(squash(expandUnroll('f.wgsl', text, { K: 3 }))).toBe('a; w[0u] += 1.0; w[1u] += 1.0; w[2u] += 1.0; b;');
  });

  it('becomes one run-time loop with UNROLL = 0', () => {
    expect(squash(expandUnroll('f.wgsl', text, { K: 3, UNROLL: 0 }))).toBe(
      'a; for (var unroll_j = 0u; unroll_j < 3u; unroll_j++) { w[unroll_j] += 1.0; } b;',
    );
  });

  it('unrolls in blocks of BLOCK_K inside a run-time loop; a block of COUNT or more unrolls whole', () => {
    expect(squash(expandUnroll('f.wgsl', text, { K: 4, BLOCK_K: 2 }))).toBe(
      'a; for (var block_j = 0u; block_j < 4u; block_j += 2u) { w[(block_j + 0u)] += 1.0; w[(block_j + 1u)] += 1.0; } b;',
    );
    expect(expandUnroll('f.wgsl', text, { K: 4, BLOCK_K: 4 })).toBe(expandUnroll('f.wgsl', text, { K: 4 }));
  });

  it('nests: an inner block keeps its own count', () => {
    const nested = '#unroll j K\n#unroll c D4\ns[{j} * D4 + {c}] = 0.0;\n#endunroll\n#endunroll\n';
    expect(squash(expandUnroll('f.wgsl', nested, { K: 2, D4: 2, BLOCK_K: 1 }))).toBe(
      'for (var block_j = 0u; block_j < 2u; block_j += 1u) { s[(block_j + 0u) * D4 + 0u] = 0.0; s[(block_j + 0u) * D4 + 1u] = 0.0; }',
    );
  });

  it('refuses a block that does not divide its count, and an unknown count', () => {
    expect(() => expandUnroll('f.wgsl', text, { K: 5, BLOCK_K: 2 })).toThrow(/f\.wgsl: BLOCK_K = 2 does not divide K = 5/);
    expect(() => expandUnroll('f.wgsl', text, {})).toThrow(/f\.wgsl: #unroll count K is not a specialisation constant/);
  });
});
