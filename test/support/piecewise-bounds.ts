// Derived float32 error bounds of the GPU piecewise moments (src/piecewise/gpu-moments.ts) against the float64
// cellMoments (src/piecewise/moments.ts), entry by entry, and the check that every noisy point's nearest cell is
// decided with a margin larger than float32 can move it (so both sides assign every point alike).
//
// Per row the GPU computes e = [phi(u), y] and ||y||^2 from its own z, which differs from the CPU's by at most
// dz_c = normalBound (test/support/noise-bounds.ts: log, sqrt and cosSin rounding). With u = 2^-24:
//   x_c = a x0_c + sigma z_c:   |dx_c| <= sigma dz_c (1 + u) + 5u (|a x0_c| + sigma |z_c|)  (x0, a, sigma rounded; two products, one sum)
//   u_c = x_c - c_c:            |du_c| <= (1 + u) |dx_c| + 2u (|x_c| + |c_c|)               (c rounded; the difference)
//   u_c^2:                      2 |u_c| |du_c| + du_c^2 + u (|u_c| + |du_c|)^2
//   y_c = -z_c (1 / sigma):     |dy_c| <= (1 + u) dz_c / sigma + 3u |y_c|                   (1/sigma rounded twice, the product)
//   ||y||^2 (a chain of <= d + 3 adds): sum (2 |y_c| |dy_c| + dy_c^2) + (d + 3) u sum (|y_c| + |dy_c|)^2.
// An entry sum_rows e_f e_h then differs by at most
//   sum_rows (|de_f| |e_h| + |e_f| |de_h| + |de_f| |de_h|) + (gamma_L + 2u) sum_rows (|e_f| + |de_f|)(|e_h| + |de_h|)
// where gamma_L = L u / (1 - L u) covers one float32 chain of L = min(SEGMENT_ROWS, rows of the cell) fused
// multiply-adds (one rounding each), and 2u the host's float64 sum of the partials with room to spare.
import { SEGMENT_ROWS } from '../../src/piecewise/gpu-moments.ts';
import { noiseRowInto, philoxInto, seedKey, uniformFromWord } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import type { Matrix } from '../../src/matrix.ts';
import type { MomentOptions } from '../../src/piecewise/moments.ts';
import { featureCount, nearestCell } from '../../src/piecewise/model.ts';
import { U } from './bounds.ts';
import { normalBound } from './noise-bounds.ts';

export interface MomentBounds {
  readonly gram: Float64Array;
  readonly cross: Float64Array;
  readonly targetSquares: Float64Array;
  /** Noisy points whose nearest cell float32 could change (must be 0 for an entrywise comparison). */
  readonly ambiguous: number;
  /** The smallest (second-nearest - nearest) squared distance over (its float32 bound): > 1 when nothing is ambiguous. */
  readonly marginRatio: number;
}

/** Row n's normals z (float64, as the CPU) and their bounds dz on stream `stream` at counter step `step`. */
export function normalsWithBounds(seed: number, step: number, n: number, d: number, stream: number): { z: Float64Array; dz: Float64Array } {
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  const padded = new Float64Array(((d + 3) >>> 2) * 4);
  noiseRowInto(k0, k1, step, n, d, stream, words, padded);
  const dz = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    if (c % 4 === 0) philoxInto(n, c >> 2, step, stream, k0, k1, words);
    const pair = (c % 4) >> 1;
    dz[c] = normalBound(uniformFromWord(words[2 * pair]!), uniformFromWord(words[2 * pair + 1]!), c % 2 === 0 ? 'cos' : 'sin');
  }
  return { z: padded.slice(0, d), dz };
}

/** The bounds of the header for cellMomentsOnGpu(data, cells, options) against cellMoments. */
export function momentBounds(data: Matrix, cells: Matrix, options: MomentOptions): MomentBounds {
  const { rows: N, cols: d } = data;
  const J = cells.rows;
  const p = featureCount(d, options.degree);
  const q = p + d + 1; // e = [phi, y, ||y||^2]
  const a = Math.exp(-options.t);
  const sigma = Math.sqrt(-Math.expm1(-2 * options.t));
  const rows: { j: number; e: Float64Array; de: Float64Array }[] = [];
  let ambiguous = 0;
  let marginRatio = Infinity;
  const x = new Float64Array(d);
  const dx = new Float64Array(d);
  for (let r = 0; r < options.draws; r++) {
    for (let n = 0; n < N; n++) {
      const { z, dz } = normalsWithBounds(options.seed, options.firstStep + r, n, d, STREAMS.piecewise);
      let dxNorm = 0;
      for (let c = 0; c < d; c++) {
        const ax = a * data.data[n * d + c]!;
        x[c] = ax + sigma * z[c]!;
        dx[c] = sigma * dz[c]! * (1 + U) + 5 * U * (Math.abs(ax) + sigma * Math.abs(z[c]!));
        dxNorm += dx[c]! ** 2;
      }
      dxNorm = Math.sqrt(dxNorm);
      const j = nearestCell(x, 0, cells);
      // A float32 squared distance moves by at most (2d + 8) u (||x||^2 + ||c||^2) (test/gpu/metrics.test.ts) plus what
      // the GPU's own x moves it: 2 ||x - c|| ||dx|| + ||dx||^2.
      const dist = (k: number) => {
        let sq = 0;
        let xx = 0;
        let cc = 0;
        for (let c = 0; c < d; c++) {
          const v = cells.data[k * d + c]!;
          sq += (x[c]! - v) ** 2;
          xx += x[c]! ** 2;
          cc += v * v;
        }
        return { sq, err: (2 * d + 8) * U * (xx + cc) + 2 * Math.sqrt(sq) * dxNorm + dxNorm ** 2 };
      };
      const best = dist(j);
      for (let k = 0; k < J; k++) {
        if (k === j) continue;
        const other = dist(k);
        const ratio = (other.sq - best.sq) / (other.err + best.err);
        marginRatio = Math.min(marginRatio, ratio);
        if (ratio <= 1) ambiguous++;
      }
      const e = new Float64Array(q);
      const de = new Float64Array(q);
      let yy = 0;
      let dyy = 0;
      let yyChain = 0;
      for (let c = 0; c < d; c++) {
        const cv = cells.data[j * d + c]!;
        const u = x[c]! - cv;
        const du = (1 + U) * dx[c]! + 2 * U * (Math.abs(x[c]!) + Math.abs(cv));
        e[c] = u;
        de[c] = du;
        if (options.degree === 2) {
          e[d + c] = u * u;
          de[d + c] = 2 * Math.abs(u) * du + du * du + U * (Math.abs(u) + du) ** 2;
        }
        const y = -z[c]! / sigma;
        const dy = ((1 + U) * dz[c]!) / sigma + 3 * U * Math.abs(y);
        e[p + c] = y;
        de[p + c] = dy;
        yy += y * y;
        dyy += 2 * Math.abs(y) * dy + dy * dy;
        yyChain += (Math.abs(y) + dy) ** 2;
      }
      e[p - 1] = 1;
      e[q - 1] = yy;
      de[q - 1] = dyy + (d + 3) * U * yyChain;
      rows.push({ j, e, de });
    }
  }
  const counts = new Float64Array(J);
  for (const row of rows) counts[row.j]!++;
  const first = new Float64Array(J * p * q);
  const abs = new Float64Array(J * p * q);
  for (const { j, e, de } of rows) {
    for (let f = 0; f < p; f++) {
      const ef = Math.abs(e[f]!);
      const df = de[f]!;
      const at = j * p * q + f * q;
      for (let h = 0; h < q; h++) {
        const eh = Math.abs(e[h]!);
        const dh = de[h]!;
        first[at + h] = first[at + h]! + df * eh + ef * dh + df * dh;
        abs[at + h] = abs[at + h]! + (ef + df) * (eh + dh);
      }
    }
  }
  const gram = new Float64Array(J * p * p);
  const cross = new Float64Array(J * p * d);
  const targetSquares = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const L = Math.min(SEGMENT_ROWS, counts[j]!);
    const factor = (L * U) / (1 - L * U) + 2 * U;
    const bound = (f: number, h: number) => first[j * p * q + f * q + h]! + factor * abs[j * p * q + f * q + h]!;
    for (let f = 0; f < p; f++) {
      for (let h = 0; h < p; h++) gram[j * p * p + f * p + h] = bound(f, h);
      for (let c = 0; c < d; c++) cross[j * p * d + f * d + c] = bound(f, p + c);
    }
    // sum ||y||^2 rides in the constant feature's row (f = p - 1).
    targetSquares[j] = bound(p - 1, q - 1);
  }
  return { gram, cross, targetSquares, ambiguous, marginRatio };
}
