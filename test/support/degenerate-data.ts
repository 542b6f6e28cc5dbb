// Data like raw digits in miniature for the general student's floors (docs/math.md section 14, 'Floors'): a constant
// column, a nearly constant one, and a class with zero variance in one coordinate, beside well-separated classes.
import { noiseMatrix, STREAM_DATA_GENERATOR } from '../../src/math/philox.ts';
import { initialStudent, type Covariance, type StudentParams } from '../../src/training/student.ts';
import { studentEmStep, studentLogLikelihood } from '../../src/training/student-mixture.ts';
import { matrix, type Matrix } from '../../src/types.ts';

/** N rows in d = 6, K = 3 classes of equal size (labels n mod 3), separated by 8 standard deviations in columns 4-6. */
export function degenerateData(N: number): { X: Matrix; labels: Int32Array } {
  const d = 6;
  const z = noiseMatrix(3, 0, N, d, STREAM_DATA_GENERATOR);
  const X = matrix(N, d);
  const labels = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const i = n % 3;
    labels[n] = i;
    const row = X.data.subarray(n * d, (n + 1) * d);
    row[0] = 7;
    row[1] = 7 + 1e-9 * z.data[n * d + 1]!;
    // Class 0 is exactly 2 in column 3 (zero variance there); the others spread around 0 and 4.
    row[2] = i === 0 ? 2 : 4 * (i - 1) + z.data[n * d + 2]!;
    for (let j = 3; j < d; j++) row[j] = 8 * (i === j - 3 ? 1 : 0) + z.data[n * d + j]!;
  }
  return { X, labels };
}

/** Whether two labellings are the same partition (equal up to renaming the labels). */
export function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let n = 0; n < a.length; n++) {
    if ((ab.get(a[n]!) ?? b[n]!) !== b[n]! || (ba.get(b[n]!) ?? a[n]!) !== a[n]!) return false;
    ab.set(a[n]!, b[n]!);
    ba.set(b[n]!, a[n]!);
  }
  return true;
}

/** The labels of the most responsible component under the general student at t = 0 (what predict returns). */
export function studentLabels(X: Matrix, means: Matrix, s: StudentParams): Int32Array {
  const K = means.rows;
  const proba = new Float64Array(X.rows * K);
  studentLogLikelihood(X, means, s, proba);
  const out = new Int32Array(X.rows);
  for (let n = 0; n < X.rows; n++) for (let i = 1; i < K; i++) if (proba[n * K + i]! > proba[n * K + out[n]!]!) out[n] = i;
  return out;
}

/** The class means, then `steps` EM steps of the general student from them (a class without spread ends at the floor). */
export function emStart(X: Matrix, labels: Int32Array, covariance: Covariance, steps: number, gammaMin?: number): { centres: Matrix; student: StudentParams } {
  const d = X.cols;
  const centres = matrix(3, d);
  const counts = new Float64Array(3);
  for (let n = 0; n < X.rows; n++) {
    counts[labels[n]!]++;
    for (let j = 0; j < d; j++) centres.data[labels[n]! * d + j] += X.data[n * d + j]!;
  }
  for (let q = 0; q < centres.data.length; q++) centres.data[q] = centres.data[q]! / counts[Math.floor(q / d)]!;
  let now = { centres, student: initialStudent(covariance, 'learned', 3, d, 1, gammaMin) };
  for (let i = 0; i < steps; i++) now = studentEmStep(X, now.centres, now.student);
  return now;
}
