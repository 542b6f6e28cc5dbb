// Direct draws from the balanced spherical mixture (docs/math.md section 11): the reference that the samplers
// are measured against, and DdpmGmm.sampleDirect's draw.
import { seededUniform } from './algorithms/seeding.ts';
import { STREAMS } from './math/streams.ts';
import { philoxNormals } from './mixtures.ts';
import { matrix, type Matrix } from './types.ts';

/**
 * n draws from (1/K) sum_i N(mu_i, I) (K x d means): component floor(K u_i) with u_i the Philox uniform of
 * draw i, then mu_comp + z_i, both on STREAMS.sample (docs/math.md section 11). The reference that the
 * samplers are measured against.
 */
export function mixtureSamples(means: Matrix, n: number, seed: number): Matrix {
  const { rows: k, cols: d } = means;
  const out = matrix(n, d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const comp = Math.min(k - 1, Math.floor(seededUniform(seed, i, STREAMS.sample, 1) * k));
    philoxNormals(seed, 0, i, STREAMS.sample, z);
    for (let c = 0; c < d; c++) out.data[i * d + c] = means.data[comp * d + c]! + z[c]!;
  }
  return out;
}
