// The browser benchmark's per-step wall time (src/page/bench-run.ts): read-backs of several steps share their interval.
import { describe, expect, it } from 'vitest';
import { perStepWall } from '../../src/page/bench-run.ts';

describe('perStepWall', () => {
  it('one report per read-back: the gaps between reports', () => {
    expect(perStepWall(100, [110, 125, 131])).toEqual([10, 15, 6]);
  });

  it('reports that arrive together share the interval of their read-back', () => {
    // Steps 1-3 came in one read-back at 112 (0.1 ms apart), step 4 alone at 130.
    const wall = perStepWall(100, [112, 112.1, 112.2, 130]);
    expect(wall.slice(0, 3)).toEqual([4, 4, 4]);
    expect(wall[3]).toBeCloseTo(17.8, 12);
  });
});
