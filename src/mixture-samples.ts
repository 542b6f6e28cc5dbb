// Direct draws from a fitted mixture, the reference the samplers are measured against (docs/math.md section 11),
// for the paper's student and the general one (docs/math.md section 14).
import { seededUniform } from './algorithms/seeding.ts';
import { philoxNormals } from './mixtures.ts';
import { STREAMS } from './math/streams.ts';
import { variancesOf, weightsOf, type StudentParams } from './training/student.ts';
import { matrix, type Matrix } from './types.ts';

/**
 * n draws from (1/K) sum_i N(mu_i, I) (K x d means): component floor(K u_i) with u_i the Philox uniform of
 * draw i, then mu_comp + z_i, both on STREAMS.sample (docs/math.md section 11). The reference that the
 * samplers are measured against.
 */
export function mixtureSamples(means: Matrix, n: number, seed: number, student?: StudentParams): Matrix {
  const { rows: k, cols: d } = means;
  const out = matrix(n, d);
  const z = new Float64Array(d);
  // The general student (docs/math.md section 14): the component by inverting the cumulative weights, then mu + sqrt(c) z.
  const sd = student ? variancesOf(student, d).data.map(Math.sqrt) : undefined;
  const cumulative = student ? cumulativeSum(weightsOf(student.beta)) : undefined;
  for (let i = 0; i < n; i++) {
    const u = seededUniform(seed, i, STREAMS.sample, 1);
    const comp = cumulative ? Math.max(0, cumulative.findIndex((c) => u < c)) : Math.min(k - 1, Math.floor(u * k));
    philoxNormals(seed, 0, i, STREAMS.sample, z);
    if (sd) for (let c = 0; c < d; c++) out.data[i * d + c] = means.data[comp * d + c]! + sd[comp * d + c]! * z[c]!;
    else for (let c = 0; c < d; c++) out.data[i * d + c] = means.data[comp * d + c]! + z[c]!;
  }
  return out;
}

/** Running sums, the last set to 1 so that every u < 1 finds a component. */
function cumulativeSum(p: Float64Array): Float64Array {
  const out = new Float64Array(p.length);
  let s = 0;
  for (let i = 0; i < p.length; i++) out[i] = s += p[i]!;
  out[p.length - 1] = 1;
  return out;
}
