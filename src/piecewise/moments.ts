// The per-cell normal equations of the piecewise score fit (docs/math.md section 13), in float64: the float64
// reference that the GPU reduction (src/piecewise/gpu-moments.ts) is checked against.
import { noiseRowInto, seedKey } from '../math/philox.ts';
import { STREAMS } from '../math/streams.ts';
import type { Matrix } from '../matrix.ts';
import { type CellMoments, featureCount, featuresInto, type MomentOptions, nearestCell } from './model.ts';
import { checkDegree } from './checks.ts';
import { InputError } from '../errors.ts';
import { requireFinite, requireNoiseScale, requirePositiveInteger, requireSameDimension, requireSeed } from '../validate.ts';
import type { CpuFeature } from '../cpu/context.ts';

export type { CellMoments, MomentOptions } from './model.ts';

/** The piecewise moments capability: the fit's per-cell sums over the noisy data at one level (docs/math.md section 13). */
export interface PiecewiseMoments {
  cellMoments(data: Matrix, cells: Matrix, options: MomentOptions): Promise<CellMoments>;
}

export function cellMoments(data: Matrix, cells: Matrix, options: MomentOptions): CellMoments {
  checkMomentRequest(data, cells, options);
  const { rows: N, cols: d } = data;
  const J = cells.rows;
  const { t, degree, draws, firstStep } = options;
  const p = featureCount(d, degree);
  const a = Math.exp(-t);
  const sigma = Math.sqrt(-Math.expm1(-2 * t));
  const [k0, k1] = seedKey(options.seed);
  const counts = new Float64Array(J);
  const gram = new Float64Array(J * p * p);
  const cross = new Float64Array(J * p * d);
  const targetSquares = new Float64Array(J);
  const words = new Uint32Array(4);
  const z = new Float64Array(((d + 3) >>> 2) * 4);
  const x = new Float64Array(d);
  const y = new Float64Array(d);
  const phi = new Float64Array(p);
  for (let r = 0; r < draws; r++) {
    for (let n = 0; n < N; n++) {
      noiseRowInto(k0, k1, firstStep + r, n, d, STREAMS.piecewise, words, z);
      let yy = 0;
      for (let c = 0; c < d; c++) {
        x[c] = a * data.data[n * d + c]! + sigma * z[c]!;
        y[c] = -z[c]! / sigma;
        yy += y[c]! * y[c]!;
      }
      const j = nearestCell(x, 0, cells);
      featuresInto(x, 0, cells.data, j * d, d, degree, phi);
      counts[j] = counts[j]! + 1;
      targetSquares[j] = targetSquares[j]! + yy;
      const g = j * p * p;
      const b = j * p * d;
      for (let f = 0; f < p; f++) {
        const pf = phi[f]!;
        for (let h = 0; h < p; h++) gram[g + f * p + h] = gram[g + f * p + h]! + pf * phi[h]!;
        for (let c = 0; c < d; c++) cross[b + f * d + c] = cross[b + f * d + c]! + pf * y[c]!;
      }
    }
  }
  return { counts, gram, cross, targetSquares };
}

/** The per-cell sums' inputs (the Backend's `cellMoments`): finite data and cells of one d, t > 0, a seed, R >= 1 draws, degree 1 or 2. */
export function checkMomentRequest(data: Matrix, cells: Matrix, options: MomentOptions): void {
  requireSameDimension(data, cells, 'the cells');
  requireFinite(data, 'the data');
  requireFinite(cells, 'the cells');
  requirePositiveInteger(data.rows, 'the number of data rows');
  requirePositiveInteger(cells.rows, 'the number of cells J');
  requireNoiseScale(options.t, 'the level time t');
  requireSeed(options.seed, 'the seed');
  requirePositiveInteger(options.draws, 'the noise draws per row');
  if (!Number.isSafeInteger(options.firstStep) || options.firstStep < 0 || options.firstStep + options.draws > 2 ** 32) {
    throw new InputError(`the first noise step must be an integer with 0 <= firstStep and firstStep + draws <= 2^32, got ${options.firstStep}`);
  }
  if (data.rows > 2 ** 32) throw new InputError(`the piecewise moments take at most 2^32 data rows (Philox's row counter), got ${data.rows}`);
  checkDegree(options.degree);
}

/** The piecewise moments' CPU twin, registered in src/cpu/features.ts. */
export const piecewiseOnCpu: CpuFeature<PiecewiseMoments> = () => ({
  cellMoments: async (data, cells, options) => cellMoments(data, cells, options),
});
