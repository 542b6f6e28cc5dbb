// The GPU's normals against the CPU's: per-entry bounds on |z_gpu - z_cpu| from the accuracy rules of bounds.ts.
import { philoxInto, seedKey, STREAM_TRAINING_NOISE, uniformFromWord } from '../../src/math/philox.ts';
import { FTZ, U } from './bounds.ts';

/** f32 ULP of |x| (normal range): 2^(floor(log2 |x|) - 23). */
export function ulp32(x: number): number {
  const ax = Math.abs(x);
  if (ax < FTZ) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(ax)) - 23);
}

/**
 * Bound on |angle_gpu - angle| for angle = 2 pi u2 - pi: the literals 2 pi and pi become f32 values within 1 ULP
 * (conversion may pick either neighbour), the product and the difference are each within 1 ULP of their result.
 */
function angleError(u2: number, angle: number): number {
  return ulp32(2 * Math.PI) * u2 + ulp32(2 * Math.PI * u2) + ulp32(Math.PI) + ulp32(angle);
}

/**
 * |cos_gpu(x) - cos(x)| (and sin) for the engine's own cosSin (shaders/philox.wgsl), |x| <= pi: the reduction
 * y = ((x - q P1) - q P2) - q P3 with q <= 2 has an exact first step (Sterbenz) and two roundings of values below
 * pi/4 + (2u each under WGSL's either-way rounding: 3.2u) plus the three-part pi/2's own error (below 1e-14);
 * Cephes' minimax polynomials are within 2u on [-pi/4, pi/4]; their evaluation adds at most 4u (the leading term
 * y or 1 - z/2 rounds once, the small tail a few times at < 0.1 of the size). Under 10u; 16u leaves margin.
 */
const COS_SIN_ERROR = 16 * U;

/**
 * The bound on |z_gpu - z_cpu| for one normal z = r cos(theta) (or r sin) with r = sqrt(v), v = -2 log u1:
 *   log u1: WGSL's log, absolute 2^-21 for u1 in [0.5, 2], 3 ULP below 0.5, so dv = 2 dlog (-2.0 * is exact);
 *   sqrt = 1 / inverseSqrt: 2 ULP then 2.5 ULP, 4.5 ULP (9u) relative, after
 *     |sqrt(v + dv) - sqrt(v)| <= min(dv / sqrt(v), sqrt(dv)) (exact, not first order: r is tiny when u1 ~ 1);
 *   cos, sin: the engine's cosSin, COS_SIN_ERROR absolute; the angle's own error dtheta moves them by <= dtheta;
 *   the product r * cos: < 1 ULP.
 *   |dz| <= (r + dr) COS_SIN_ERROR + |cos or sin| dr + (r + dr) dtheta + 1 ULP(|z|).
 */
export function normalBound(u1: number, u2: number, trig: 'cos' | 'sin'): number {
  const v = -2 * Math.log(u1);
  const r = Math.sqrt(v);
  const dLog = u1 >= 0.5 ? 2 ** -21 : 3 * ulp32(Math.log(u1));
  const dv = 2 * dLog;
  const sqrtMoved = Math.min(dv / r, Math.sqrt(dv));
  const dr = sqrtMoved + 9 * U * (r + sqrtMoved);
  const angle = 2 * Math.PI * u2 - Math.PI;
  const t = trig === 'cos' ? Math.cos(angle) : Math.sin(angle);
  const rr = r + dr;
  return rr * COS_SIN_ERROR + Math.abs(t) * dr + rr * angleError(u2, angle) + ulp32(rr * (Math.abs(t) + COS_SIN_ERROR));
}

/** Per-entry spec bounds (normalBound) on |z_gpu - z_cpu| of the N x d noise of (seed, step) on `stream` (the training noise by default). */
export function noiseBound(seed: number, step: number, rows: number, cols: number, stream = STREAM_TRAINING_NOISE): Float64Array {
  const [k0, k1] = seedKey(seed);
  const out = new Float64Array(rows * cols);
  const words = new Uint32Array(4);
  for (let n = 0; n < rows; n++) {
    for (let c4 = 0; 4 * c4 < cols; c4++) {
      philoxInto(n, c4, step, stream, k0, k1, words);
      for (let lane = 0; lane < 4 && 4 * c4 + lane < cols; lane++) {
        const pair = lane >> 1;
        const u1 = uniformFromWord(words[2 * pair]!);
        const u2 = uniformFromWord(words[2 * pair + 1]!);
        out[n * cols + 4 * c4 + lane] = normalBound(u1, u2, lane % 2 === 0 ? 'cos' : 'sin');
      }
    }
  }
  return out;
}
