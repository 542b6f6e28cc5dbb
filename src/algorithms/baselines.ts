// The baselines of docs/math.md section 9 on the same engine: EM and gradient EM as loop stages (each step one
// Backend call), and power iteration on the host in float64 (a d x d problem, matrix-free: two passes of
// N d per iteration, no covariance stored).
import { InputError } from '../errors.ts';
import { matrix, type Matrix } from '../types.ts';
import { centred, norm, radiusEstimate, sampleMean, symmetricMeans } from './matrix-math.ts';
import type { Problem, Stage } from './loop.ts';
import { randomDirection } from './seeding.ts';
import type { Covariance, Weights } from '../training/student.ts';

export interface EmOptions {
  readonly maxSteps?: number;
  /** Stop when the centres move less than tol per step. */
  readonly tol?: number;
  /** Gradient EM's step size eta (Fact 6). */
  readonly lr?: number;
  readonly logEvery?: number;
  /** EM's general student (docs/math.md section 14): the M-step learns these variances and weights. */
  readonly covariance?: Covariance;
  readonly weights?: Weights;
  /** The smallest variance the M-step may give (ScheduleOptions.varianceFloor). */
  readonly varianceFloor?: number;
}

export const EM_DEFAULTS = { maxSteps: 300, tol: 1e-4, gradientEmLr: 1 } as const;

/** One stage of EM (Fact 5) or gradient EM (Fact 6) on the clean data. */
export function emPlan(kind: 'em' | 'gradient-em', data: Matrix, o: EmOptions): { problem: Problem; stages: Stage[] } {
  const maxSteps = o.maxSteps ?? EM_DEFAULTS.maxSteps;
  const tol = o.tol ?? EM_DEFAULTS.tol;
  const stop = { kind: 'change', tol } as const;
  const problem: Problem = { data, tied: false };
  if (kind === 'em') return { problem, stages: [{ kind: 'em', name: 'em', maxSteps, stop }] };
  // Gradient EM moves centre i by eta * (1/N) sum w_i (x - mu_i), about eta/K of the EM step: eta = K matches EM's pace.
  return { problem, stages: [{ kind: 'gradient-em', name: 'gradient-em', lr: o.lr ?? EM_DEFAULTS.gradientEmLr, maxSteps, stop }] };
}

export interface PowerResult {
  /** xbar +/- R v (2 x d). */
  readonly means: Matrix;
  /** The unit top eigenvector v of (1/N) sum x x^T - I on the centred data. */
  readonly direction: Float64Array;
  readonly radius: number;
  readonly nIter: number;
  readonly converged: boolean;
  /** 1 - |cos| between successive iterates, per iteration. */
  readonly history: number[];
}

/**
 * Power iteration (docs/math.md section 9) on the centred K = 2 data: v <- (1/N) X^T X v, normalised; the top
 * eigenvector of the covariance is also that of covariance - I. The length is R (docs/math.md section 6).
 */
export function powerIteration(data: Matrix, o: { maxSteps?: number; tol?: number; seed?: number } = {}): PowerResult {
  const { rows: n, cols: d } = data;
  if (n < 2) throw new InputError('power iteration needs at least 2 samples');
  const mean = sampleMean(data);
  const x = centred(data, mean);
  const radius = radiusEstimate(data, mean);
  let v = randomDirection(d, 1, o.seed ?? 0).data;
  const maxSteps = o.maxSteps ?? 500;
  const tol = o.tol ?? 1e-10;
  const history: number[] = [];
  let converged = false;
  let it = 0;
  const next = new Float64Array(d);
  while (it < maxSteps && !converged) {
    next.fill(0);
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let c = 0; c < d; c++) p += x.data[i * d + c]! * v[c]!;
      for (let c = 0; c < d; c++) next[c] += p * x.data[i * d + c]!;
    }
    const len = norm(next);
    const w = next.map((u) => u / len);
    let cos = 0;
    for (let c = 0; c < d; c++) cos += w[c]! * v[c]!;
    v = w;
    it++;
    history.push(1 - Math.abs(cos));
    converged = 1 - Math.abs(cos) <= tol;
  }
  const m = matrix(1, d, v.map((u) => u * radius));
  return { means: symmetricMeans(m, mean), direction: v, radius, nIter: it, converged, history };
}
