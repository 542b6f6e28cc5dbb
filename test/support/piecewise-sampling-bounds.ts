// One step of a piecewise-score sampler (src/piecewise/gpu-sampler.ts, shaders/piecewise_sample.wgsl) in float64, and the
// derived bound on the GPU's float32 step from the same input, entry by entry (first order in u = 2^-24; the rules
// of test/support/bounds.ts: +, -, * within u each, sums of n terms within n u of their absolute sum):
//   cell:   the nearest cell is the same when its margin exceeds both float32 distance errors (piecewise-bounds.ts);
//           rows where it might not are reported and left out;
//   u_c = y_c - c_c:  du_c = dy_c + 2u (|y_c| + |c_c|);  u_c^2: 2 |u_c| du_c + du_c^2 + u (|u_c| + du_c)^2;
//   s_l,c = sum_f phi_f B_fc over p features in blocks of 4 (at most p + 6 roundings in one chain, B rounded once):
//           ds_l,c = sum_f dphi_f |B_fc| + (p + 7) u sum_f |phi_f B_fc|;
//   s = s_lo + w (s_hi - s_lo):  ds = (1 - w) ds_lo + w ds_hi + 4u (|s_lo| + |s_hi|)   (w rounded, -, *, +);
//   the kernel reads s as f - y with f = y + s (sample_loop.wgsl): two more roundings, 2u (|y| + |s|) on s;
//   SDE:  y' = y + (cy y + cs s + cxi xi):  dy' = (1 + |cy|) dy + |cs| (ds + 2u (|y| + |s|)) + |cxi| dxi
//         + 5u (|cy y| + |cs s| + |cxi xi|) + u (|y| + |y'|)  (coefficients rounded, three products, two sums, the increment
//         added), dxi = normalBound;
//   Heun: p = y + (cy y + cs s) likewise without noise, then y' = y + (h/2)((y + s) + (p + sp)) with sp the score at p:
//         dy' = dy + (h/2)(dy + ds + dp + dsp) + 5u (h/2)(|y| + |s| + |p| + |sp|) + u (|y| + |y'|).
import { noiseRowInto, seedKey } from '../../src/math/philox.ts';
import { STREAMS } from '../../src/math/streams.ts';
import type { SamplerStep } from '../../src/sampling/grid.ts';
import { featureCount, featuresInto, levelWeights, nearestCell, type PiecewiseModel } from '../../src/piecewise/model.ts';
import { U } from './bounds.ts';
import { normalsWithBounds } from './piecewise-bounds.ts';

interface Scored {
  readonly s: Float64Array;
  readonly ds: Float64Array;
  /** Whether float32 might pick another cell at some level. */
  readonly ambiguous: boolean;
}

/** s_l(y) at one level, its bound given the input bound dy, and whether the cell is decided with margin. */
function levelScore(model: PiecewiseModel, l: number, y: Float64Array, dy: Float64Array): Scored {
  const { d, degree } = model;
  const p = featureCount(d, degree);
  const { cells, coef } = model.levels[l]!;
  const j = nearestCell(y, 0, cells);
  let dyNorm = 0;
  let yy = 0;
  for (let c = 0; c < d; c++) [dyNorm, yy] = [dyNorm + dy[c]! ** 2, yy + y[c]! ** 2];
  dyNorm = Math.sqrt(dyNorm);
  const dist = (k: number) => {
    let sq = 0;
    let cc = 0;
    for (let c = 0; c < d; c++) [sq, cc] = [sq + (y[c]! - cells.data[k * d + c]!) ** 2, cc + cells.data[k * d + c]! ** 2];
    return { sq, err: (2 * d + 8) * U * (yy + cc) + 2 * Math.sqrt(sq) * dyNorm + dyNorm ** 2 };
  };
  const best = dist(j);
  let ambiguous = false;
  for (let k = 0; k < cells.rows; k++) {
    if (k === j) continue;
    const other = dist(k);
    if (other.sq - best.sq <= other.err + best.err) ambiguous = true;
  }
  const phi = new Float64Array(p);
  featuresInto(y, 0, cells.data, j * d, d, degree, phi);
  const dphi = new Float64Array(p);
  for (let c = 0; c < d; c++) {
    const u = phi[c]!;
    const du = dy[c]! + 2 * U * (Math.abs(y[c]!) + Math.abs(cells.data[j * d + c]!));
    dphi[c] = du;
    if (degree === 2) dphi[d + c] = 2 * Math.abs(u) * du + du * du + U * (Math.abs(u) + du) ** 2;
  }
  const s = new Float64Array(d);
  const ds = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    let abs = 0;
    for (let f = 0; f < p; f++) {
      const b = coef.data[(j * p + f) * d + c]!;
      s[c] = s[c]! + phi[f]! * b;
      ds[c] = ds[c]! + dphi[f]! * Math.abs(b);
      abs += Math.abs(phi[f]! * b);
    }
    ds[c] = ds[c]! + (p + 7) * U * abs;
  }
  return { s, ds, ambiguous };
}

/** The score at forward time t (levelWeights) and its bound. */
function pieceScore(model: PiecewiseModel, t: number, y: Float64Array, dy: Float64Array): Scored {
  const { lo, hi, w } = levelWeights(model.levels, t, model.interpolation);
  const a = levelScore(model, lo, y, dy);
  if (w === 0) return a;
  const b = levelScore(model, hi, y, dy);
  const s = a.s.map((v, c) => (1 - w) * v + w * b.s[c]!);
  const ds = a.ds.map((v, c) => (1 - w) * v + w * b.ds[c]! + 4 * U * (Math.abs(a.s[c]!) + Math.abs(b.s[c]!)));
  return { s, ds, ambiguous: a.ambiguous || b.ambiguous };
}

export interface StepCheck {
  /** The float64 step from the input, n x d. */
  readonly y: Float64Array;
  readonly bound: Float64Array;
  /** Rows left out: float32 might choose another cell. */
  readonly skipped: boolean[];
}

/** Step k of `method` from y (n x d, input bound dy) with the sampler's noise of seed (Philox step k + 1), and the GPU bound. */
export function pieceStep(model: PiecewiseModel, step: SamplerStep, k: number, heun: boolean, seed: number, y: Float64Array, dy: Float64Array): StepCheck {
  const d = model.d;
  const n = y.length / d;
  const out = new Float64Array(n * d);
  const bound = new Float64Array(n * d);
  const skipped: boolean[] = [];
  for (let r = 0; r < n; r++) {
    const yr = y.subarray(r * d, (r + 1) * d);
    const dyr = dy.subarray(r * d, (r + 1) * d);
    const now = pieceScore(model, step.t, yr, dyr);
    let ambiguous = now.ambiguous;
    if (heun) {
      const p = yr.map((v, c) => v + (step.cy * v + step.cs * now.s[c]!));
      const dp = yr.map((v, c) => (1 + Math.abs(step.cy)) * dyr[c]! + Math.abs(step.cs) * (now.ds[c]! + 2 * U * (Math.abs(v) + Math.abs(now.s[c]!))) + 5 * U * (Math.abs(step.cy * v) + Math.abs(step.cs * now.s[c]!)) + U * (Math.abs(v) + Math.abs(p[c]!)));
      const next = pieceScore(model, step.tNext, p, dp);
      ambiguous ||= next.ambiguous;
      const half = step.h / 2;
      for (let c = 0; c < d; c++) {
        const v = yr[c]! + half * (yr[c]! + now.s[c]! + (p[c]! + next.s[c]!));
        out[r * d + c] = v;
        bound[r * d + c] =
          dyr[c]! + half * (dyr[c]! + now.ds[c]! + dp[c]! + next.ds[c]!) + 5 * U * half * (Math.abs(yr[c]!) + Math.abs(now.s[c]!) + Math.abs(p[c]!) + Math.abs(next.s[c]!)) + U * (Math.abs(yr[c]!) + Math.abs(v));
      }
    } else {
      const { z: xi, dz: dxi } = normalsWithBounds(seed, k + 1, r, d, STREAMS.sampler);
      for (let c = 0; c < d; c++) {
        const [ty, ts, tx] = [step.cy * yr[c]!, step.cs * now.s[c]!, step.cxi * xi[c]!];
        const v = yr[c]! + (ty + ts + tx);
        out[r * d + c] = v;
        bound[r * d + c] =
          (1 + Math.abs(step.cy)) * dyr[c]! + Math.abs(step.cs) * (now.ds[c]! + 2 * U * (Math.abs(yr[c]!) + Math.abs(now.s[c]!))) + Math.abs(step.cxi) * dxi[c]! + 5 * U * (Math.abs(ty) + Math.abs(ts) + Math.abs(tx)) + U * (Math.abs(yr[c]!) + Math.abs(v));
      }
    }
    skipped.push(ambiguous);
  }
  return { y: out, bound, skipped };
}

/** The sampler's N(0, I) start of n rows (Philox step 0 of STREAMS.sampler) and the GPU's error bound on it. */
export function startWithBound(seed: number, n: number, d: number): { y: Float64Array; dy: Float64Array } {
  const y = new Float64Array(n * d);
  const dy = new Float64Array(n * d);
  const [k0, k1] = seedKey(seed);
  const padded = new Float64Array(((d + 3) >>> 2) * 4);
  for (let r = 0; r < n; r++) {
    noiseRowInto(k0, k1, 0, r, d, STREAMS.sampler, new Uint32Array(4), padded);
    y.set(padded.subarray(0, d), r * d);
    dy.set(normalsWithBounds(seed, 0, r, d, STREAMS.sampler).dz, r * d);
  }
  return { y, dy };
}
