// The stopping rules of the loop's stages (loop.ts): when a stage ends before its step limit, decided at each
// chunk's end from the centres (and a general student's spreads and weights) before and after it (docs/experiments.md, 'Stopping rules and averaging').
import { forwardCoefficients } from '../math/forward.ts';
import { logWeightsOf, variancesOf, type StudentParams } from '../training/student.ts';
import type { Matrix } from '../types.ts';
import { cosine, maxRelativeNormChange, maxRowChange, minRowAbsCosine, row } from './matrix-math.ts';

/** When a stage ends before its step limit. */
export type StopRule =
  /** Largest centre-row change per step, averaged over a chunk, at most tol (unscaled units). */
  | { readonly kind: 'change'; readonly tol: number }
  /**
   * The power-iteration plateau (stage 1, docs/math.md section 8.2): after minSteps, every row kept its direction
   * (1 - |cos| with one chunk ago at most tol) and its norm (relative change at most normTol). The norm
   * saturates only once the m* component dominates: near ||m|| = ||m*|| for docs/math.md section 4's L
   * (section 9; the paper's constants put it at sqrt(2/3) ||m*||, Lemma 8).
   */
  | { readonly kind: 'direction'; readonly tol: number; readonly normTol: number; readonly minSteps: number }
  /**
   * Stage 1 against the spectral estimate (docs/math.md sections 8.2 and 9): `direction` is the unit top
   * eigenvector v of the centred data's covariance - I (power iteration on the host), which stage 1
   * approaches because its step is a power-iteration step (Lemma 8). The gap is sin(angle(m, v)). After
   * minSteps the stage stops once the gap is at most tol (the statistical error of v itself, so going
   * further cannot improve the estimate of mu*'s direction), or once the gap fell by less than SPECTRAL_PROGRESS
   * over the last `patience` chunks (the fresh-noise fluctuation or Lemma 8's bias dominates); with changeTol, also only
   * once the centre moves by at most changeTol per step (stage-1-only schedules must settle the norm too).
   */
  | {
      readonly kind: 'spectral';
      readonly direction: Float64Array;
      readonly tol: number;
      readonly patience: number;
      readonly minSteps: number;
      readonly changeTol?: number;
    }
  | { readonly kind: 'none' };

/** sin(angle) between row 0 of m and a unit vector v: the gap of the spectral stop rule. */
export function directionGap(m: Matrix, v: ArrayLike<number>): number {
  const c = cosine(row(m, 0), v);
  return Math.sqrt(Math.max(0, 1 - c * c));
}

/**
 * The least relative fall of the gap over `patience` chunks that counts as progress: real stage-1 progress
 * is orders of magnitude faster (schedules.ts, stage1Lr; docs/experiments.md, 'Stopping rules and
 * averaging'), so a smaller fall is the fresh-noise fluctuation.
 */
export const SPECTRAL_PROGRESS = 0.05;

/**
 * Whether the spectral rule holds, given the gaps of the stage's chunks so far (oldest first, the current
 * one last): a gap at most tol, or no new low over the last `patience` chunks.
 */
export function spectralStop(gaps: readonly number[], tol: number, patience: number): boolean {
  const now = gaps[gaps.length - 1];
  if (now === undefined) return false;
  if (now <= tol) return true;
  if (gaps.length <= patience) return false;
  const earlier = Math.min(...gaps.slice(0, gaps.length - patience));
  return Math.min(...gaps.slice(gaps.length - patience)) > (1 - SPECTRAL_PROGRESS) * earlier;
}

/**
 * A general student's change between two chunk ends, per component and in units of its fresh-noise floor
 * (docs/math.md section 14, 'Stopping'): component k's centre moves by ||delta mu_k||; with c = exp(gamma), a
 * change dgamma_kj moves its one-sigma point along coordinate j by sqrt(c_kj) dgamma_kj / 2; a change delta of
 * log pi_k changes its logit at one standard deviation from its centre as much as moving the centre by
 * sqrt(c_k) delta (c_k the mean over j). The largest of the three is divided by sqrt(mean_j c_kj v_kj), v = a_t^2 c
 * + sigma_t^2, by which the fresh-noise jitter of the curvature-scaled step exceeds the paper's student's (1 there,
 * so the centres' noise-floor tolerance applies to every component). The largest over k.
 */
export function studentChange(before: Matrix, after: Matrix, sBefore: StudentParams, sAfter: StudentParams, t: number): number {
  const d = after.cols;
  const { a, sigma } = forwardCoefficients(t);
  const c = variancesOf(sAfter, d).data;
  const cols = sAfter.gamma.cols;
  const logBefore = logWeightsOf(sBefore.beta);
  const logAfter = logWeightsOf(sAfter.beta);
  let most = 0;
  for (let k = 0; k < sAfter.beta.length; k++) {
    let centre = 0;
    let spread = 0;
    let mean = 0;
    let noise = 0;
    for (let j = 0; j < d; j++) {
      const q = k * d + j;
      const g = cols === 0 ? -1 : cols === 1 ? k : q;
      const dg = g < 0 ? 0 : sAfter.gamma.data[g]! - sBefore.gamma.data[g]!;
      centre += (after.data[q]! - before.data[q]!) ** 2;
      spread += (c[q]! * dg * dg) / 4;
      mean += c[q]! / d;
      noise += (c[q]! * (a * a * c[q]! + sigma * sigma)) / d;
    }
    const moved = Math.max(Math.sqrt(centre), Math.sqrt(spread), Math.sqrt(mean) * Math.abs(logAfter[k]! - logBefore[k]!));
    most = Math.max(most, moved / Math.sqrt(noise));
  }
  return most;
}

/** Whether the stage's rule holds at a chunk's end; `gaps` as in spectralStop; `studentMoved`: a general student's studentChange per step, in place of the centres' change. */
export function stopMet(rule: StopRule, before: Matrix, after: Matrix, chunk: number, stepInStage: number, gaps: readonly number[], studentMoved?: number): boolean {
  switch (rule.kind) {
    case 'spectral':
      return (
        stepInStage >= rule.minSteps &&
        spectralStop(gaps, rule.tol, rule.patience) &&
        (rule.changeTol === undefined || maxRowChange(before, after) / chunk <= rule.changeTol)
      );
    case 'change':
      return (studentMoved ?? maxRowChange(before, after) / chunk) <= rule.tol;
    case 'direction':
      return stepInStage >= rule.minSteps && 1 - minRowAbsCosine(before, after) <= rule.tol && maxRelativeNormChange(before, after) <= rule.normTol;
    case 'none':
      return false;
  }
}

/**
 * The rule's verdict at a chunk's end, and the field it adds to the history row (the spectral rule's gap).
 * `earlierGaps` gives the stage's earlier gaps, oldest first; they live in the history, which a checkpoint
 * keeps, so a resumed run decides alike.
 */
export function judgeStop(
  rule: StopRule,
  before: Matrix,
  after: Matrix,
  chunk: number,
  stepInStage: number,
  earlierGaps: () => number[],
  student?: { readonly before: StudentParams; readonly after: StudentParams; readonly noiseScale: number },
): { readonly met: boolean; readonly directionGap?: number; readonly studentChange?: number } {
  if (rule.kind !== 'spectral') {
    // The general student's spreads and weights must settle too (docs/math.md section 14, 'Stopping').
    const moved = student ? studentChange(before, after, student.before, student.after, student.noiseScale) / chunk : undefined;
    return { met: stopMet(rule, before, after, chunk, stepInStage, [], moved), ...(moved !== undefined ? { studentChange: moved } : {}) };
  }
  const gap = directionGap(after, rule.direction);
  return { met: stopMet(rule, before, after, chunk, stepInStage, [...earlierGaps(), gap]), directionGap: gap };
}
