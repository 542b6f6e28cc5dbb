// Small dense float64 linear algebra for the piecewise fit and the full-covariance mixtures (docs/math.md
// section 13): Cholesky factors of symmetric positive definite matrices, solves with them, log-determinants.

/**
 * The lower Cholesky factor L (L L^T = A) of the n x n row-major matrix A into `out` (upper triangle zeroed).
 * Returns false, leaving `out` partly written, when a pivot is not positive: A is not positive definite
 * to working precision.
 */
export function choleskyInto(A: Float64Array, n: number, out: Float64Array, aOff = 0): boolean {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[aOff + i * n + j]!;
      for (let k = 0; k < j; k++) s -= out[i * n + k]! * out[j * n + k]!;
      if (i === j) {
        // A pivot at or below the rounding level of the diagonal is singular for our purposes.
        if (!(s > 1e-14 * Math.abs(A[aOff + i * n + i]!)) || !(s > 0)) return false;
        out[i * n + i] = Math.sqrt(s);
      } else out[i * n + j] = s / out[j * n + j]!;
    }
    for (let j = i + 1; j < n; j++) out[i * n + j] = 0;
  }
  return true;
}

/** Solves L L^T X = B in place for the n x m row-major B (m right-hand sides as columns). */
export function choleskySolveInPlace(L: Float64Array, n: number, B: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = B[i * m + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * B[k * m + c]!;
      B[i * m + c] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = B[i * m + c]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * B[k * m + c]!;
      B[i * m + c] = s / L[i * n + i]!;
    }
  }
}

/** ln det A = 2 sum ln L_ii from A's Cholesky factor L. */
export function logDetFromCholesky(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return 2 * s;
}

/** Solves L v = b in place (forward substitution): ||v||^2 = b^T A^{-1} b is the Mahalanobis distance. */
export function forwardSolveInPlace(L: Float64Array, n: number, b: Float64Array, lOff = 0): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[lOff + i * n + k]! * b[k]!;
    b[i] = s / L[lOff + i * n + i]!;
  }
}

/** Solves L^T v = b in place (back substitution); with forwardSolveInPlace this applies A^{-1}. */
export function backSolveInPlace(L: Float64Array, n: number, b: Float64Array, lOff = 0): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= L[lOff + k * n + i]! * b[k]!;
    b[i] = s / L[lOff + i * n + i]!;
  }
}
