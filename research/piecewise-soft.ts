// The measurement behind the soft assignment of the piecewise model (docs/experiments.md, 'The piecewise score
// model'): hard against soft cells (gate width rule, cell count, degree), through research/piecewise-study.ts.
//
//   node bin/run-ts.js research/piecewise-soft.ts [N, default 16000] [mixtures, default abc] [variants filter regex]
import type { PiecewiseFitOptions } from '../src/piecewise/fit.ts';
import { runStudy } from './piecewise-study.ts';

await runStudy(
  {
    variants: (K) => {
      const variants: [string, PiecewiseFitOptions][] = [];
      for (const degree of [1, 2] as const) {
        variants.push([`hard J=4K deg ${degree}`, { cells: 4 * K, degree }]);
        variants.push([`soft J=4K deg ${degree} within-cell`, { cells: 4 * K, degree, assignment: 'soft' }]);
        variants.push([`soft J=K deg ${degree} within-cell`, { cells: K, degree, assignment: 'soft' }]);
        for (const tau of [0, 0.25, 1]) variants.push([`soft J=4K deg ${degree} s0^2=${tau}`, { cells: 4 * K, degree, assignment: 'soft', tau }]);
      }
      return variants;
    },
    extra: (fit) => {
      const tau = fit.model.levels.at(-1)!.tau;
      return tau === undefined ? '' : `tau(tMin) ${tau.toFixed(3)}, lambdas ${[...new Set(fit.reports.map((r) => r.lambda))].join('/')}`;
    },
  },
  process.argv.slice(2),
);
