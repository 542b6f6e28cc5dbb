// Threefry4x32, the measured candidate generator (research/threefry.ts; docs/performance.md, 'The noise generator').
import { describe, expect, it } from 'vitest';
import { threefry4x32 } from '../../research/threefry.ts';
import { THREEFRY_KAT } from '../support/kat-vectors.ts';

const hex = (w: Uint32Array): string[] => Array.from(w, (v) => v.toString(16).padStart(8, '0'));

describe('threefry4x32', () => {
  for (const v of THREEFRY_KAT) {
    it(`matches the Random123 known-answer vector for ${v.rounds} rounds, counter ${v.counter[0]!.toString(16)}...`, () => {
      expect(hex(threefry4x32(v.counter, v.key, v.rounds))).toEqual(v.expected);
    });
  }
});
