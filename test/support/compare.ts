// Comparing a result with its reference: norms, relative differences and the worst entry against a bound.

export function frobenius(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

/** ||a - b|| / ||b||. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** The largest |a_i - b_i| / bound_i and the index where it occurs. */
export function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, bound: ArrayLike<number>): { ratio: number; index: number } {
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < b.length; i++) {
    const q = Math.abs(a[i]! - b[i]!) / bound[i]!;
    if (Number.isNaN(q)) return { ratio: Infinity, index: i }; // a NaN on either side fails every bound
    if (q > ratio) {
      ratio = q;
      index = i;
    }
  }
  return { ratio, index };
}
