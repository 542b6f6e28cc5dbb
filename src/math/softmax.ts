// The shifted exponentials of a softmax, shared by the CPU reference's passes and the samplers' float64 scores.

/** out[i] = exp(logits[i] - max) for i < k (out may be logits); returns their sum. `max` is the logits' largest. */
export function shiftedExps(logits: Float64Array, k: number, max: number, out: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  return sum;
}
