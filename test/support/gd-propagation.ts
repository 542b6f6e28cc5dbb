// Propagating per-step gradient bounds through gradient descent (docs/math.md section 6), under the rules of bounds.ts.
import { OP, U } from './bounds.ts';

export interface GdPropagation {
  /** The float64 iterates m_0 .. m_H (scaled), flattened K x d. */
  readonly iterates: Float64Array[];
  /** Entrywise bounds on |m_gpu - m_ref| after each step (index s: after s steps). */
  readonly bounds: Float64Array[];
}

/**
 * Linearised propagation of the GPU's per-step errors along the float64 trajectory m_{s+1} = m_s - lr g_s(m_s):
 *   b_{s+1} = |J_s| b_s + lr gradBound_s + 3u lr |g_s| + 2u |m_{s+1}|
 * with J_s = I - lr H_s, the Jacobian of one step, measured by central differences of the float64 gradient
 * (the GPU's lr is rounded (u), lr * g is one product (2u), the subtraction 2u); b_0 = u |m_0| (upload rounding).
 * With a projection radius (scaled), a row projected onto the ball gets the projection's Jacobian
 * (radius / |m|)(I - m m^T / |m|^2) and the rounding of the GPU's projection: the norm (d terms: 2d u relative,
 * halved by the sqrt), the sqrt (9u), radius / norm (5u, radius rounded: u), the product (2u): (d + 17) u |m|.
 * First order: valid while the bounds stay far below the distance to the projection's kink (checked).
 */
export function propagateGd(options: {
  readonly m0: Float64Array;
  readonly rows: number;
  readonly steps: number;
  readonly lr: number;
  readonly gradient: (m: Float64Array, step: number) => Float64Array;
  readonly gradientBound: (m: Float64Array, step: number) => Float64Array;
  readonly projectRadius?: number;
}): GdPropagation {
  const { rows, steps, lr } = options;
  const p = options.m0.length;
  const d = p / rows;
  let m = Float64Array.from(options.m0);
  let b = m.map((v) => U * Math.abs(v));
  const iterates = [Float64Array.from(m)];
  const bounds = [Float64Array.from(b)];
  const jac = new Float64Array(p * p);
  for (let s = 0; s < steps; s++) {
    const g = options.gradient(m, s);
    const gb = options.gradientBound(m, s);
    // J = I - lr H with H's columns by central differences (h = 1e-5: truncation ~1e-10, rounding ~1e-11 relative).
    for (let col = 0; col < p; col++) {
      const h = 1e-5 * Math.max(1, Math.abs(m[col]!));
      const plus = Float64Array.from(m);
      const minus = Float64Array.from(m);
      plus[col] += h;
      minus[col] -= h;
      const gp = options.gradient(plus, s);
      const gm = options.gradient(minus, s);
      for (let row = 0; row < p; row++) jac[row * p + col] = (row === col ? 1 : 0) - (lr * (gp[row]! - gm[row]!)) / (2 * h);
    }
    const next = new Float64Array(p);
    const nb = new Float64Array(p);
    for (let row = 0; row < p; row++) {
      next[row] = m[row]! - lr * g[row]!;
      let acc = 0;
      for (let col = 0; col < p; col++) acc += Math.abs(jac[row * p + col]!) * b[col]!;
      nb[row] = acc + lr * gb[row]! + 3 * U * lr * Math.abs(g[row]!) + OP * Math.abs(next[row]!);
    }
    if (options.projectRadius !== undefined) {
      const radius = options.projectRadius;
      for (let j = 0; j < rows; j++) {
        let norm2 = 0;
        let boundNorm2 = 0;
        for (let i = 0; i < d; i++) {
          norm2 += next[j * d + i]! ** 2;
          boundNorm2 += nb[j * d + i]! ** 2;
        }
        const norm = Math.sqrt(norm2);
        if (Math.abs(norm - radius) <= 10 * Math.sqrt(boundNorm2)) {
          throw new Error(`propagateGd: step ${s} row ${j} lies within the error bound of the projection's kink`);
        }
        if (norm <= radius) continue;
        const f = radius / norm;
        const projected = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          let acc = 0;
          for (let l = 0; l < d; l++) {
            const jpl = f * ((i === l ? 1 : 0) - (next[j * d + i]! * next[j * d + l]!) / norm2);
            acc += Math.abs(jpl) * nb[j * d + l]!;
          }
          projected[i] = acc + (d + 17) * U * Math.abs(f * next[j * d + i]!);
        }
        for (let i = 0; i < d; i++) {
          next[j * d + i] = f * next[j * d + i]!;
          nb[j * d + i] = projected[i]!;
        }
      }
    }
    m = next;
    b = nb;
    iterates.push(Float64Array.from(m));
    bounds.push(Float64Array.from(b));
  }
  return { iterates, bounds };
}
