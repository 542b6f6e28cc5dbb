// The measurement behind the piecewise fit's shrinkage target (docs/experiments.md, 'The piecewise score model'):
// each level's ridge toward 0 against toward the level above's polynomials, and more noise draws R, through
// research/piecewise-study.ts.
//
//   node bin/run-ts.js research/piecewise-shrink.ts [N, default 16000] [mixtures, default abc] [variants filter regex]
import type { PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { runStudy } from './piecewise-study.ts';

await runStudy(
  {
    variants: (K) => {
      const variants: [string, PiecewiseFitOptions][] = [];
      for (const degree of [1, 2] as const) {
        for (const shrink of ['zero', 'level-above'] as const) {
          variants.push([`hard deg ${degree} ${shrink} R=4`, { cells: 4 * K, degree, shrink }]);
          variants.push([`hard deg ${degree} ${shrink} R=16`, { cells: 4 * K, degree, shrink, draws: 16 }]);
        }
      }
      for (const shrink of ['zero', 'level-above'] as const) variants.push([`soft deg 1 ${shrink} R=4`, { cells: 4 * K, assignment: 'soft', shrink }]);
      return variants;
    },
    extra: (fit) => `lambdas ${fit.reports.map((r) => r.lambda).join(' ')}`,
  },
  process.argv.slice(2),
);
