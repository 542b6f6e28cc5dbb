// Threefry4x32 (Salmon et al., SC'11; Random123's threefry.h), the CPU reference of the measured candidate
// research/shaders/noise-candidates/threefry.wgsl. The engine's noise is Philox (philox.ts); see docs/performance.md.

/** Rotation amounts R[r mod 8] of round r: (word 1 or 3 in even rounds, word 3 or 1 in odd rounds). */
const ROTATIONS: readonly (readonly [number, number])[] = [
  [10, 26], [11, 21], [13, 27], [23, 5], [6, 20], [17, 11], [25, 10], [18, 20],
];
const PARITY = 0x1bd11bda;

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

/** Threefry4x32 with 13 or 20 rounds of a 4-word counter under a 4-word key. */
export function threefry4x32(ctr: ArrayLike<number>, key: ArrayLike<number>, rounds: 13 | 20): Uint32Array {
  const ks = [key[0]! >>> 0, key[1]! >>> 0, key[2]! >>> 0, key[3]! >>> 0, 0];
  ks[4] = (PARITY ^ ks[0]! ^ ks[1]! ^ ks[2]! ^ ks[3]!) >>> 0;
  let x0 = (ctr[0]! + ks[0]!) >>> 0;
  let x1 = (ctr[1]! + ks[1]!) >>> 0;
  let x2 = (ctr[2]! + ks[2]!) >>> 0;
  let x3 = (ctr[3]! + ks[3]!) >>> 0;
  for (let r = 0; r < rounds; r++) {
    const [a, b] = ROTATIONS[r % 8]!;
    if (r % 2 === 0) {
      x0 = (x0 + x1) >>> 0;
      x1 = (rotl(x1, a) ^ x0) >>> 0;
      x2 = (x2 + x3) >>> 0;
      x3 = (rotl(x3, b) ^ x2) >>> 0;
    } else {
      x0 = (x0 + x3) >>> 0;
      x3 = (rotl(x3, a) ^ x0) >>> 0;
      x2 = (x2 + x1) >>> 0;
      x1 = (rotl(x1, b) ^ x2) >>> 0;
    }
    if (r % 4 === 3) {
      // Key injection s after every fourth round: words s .. s+3 (mod 5) of the schedule, and s on the last word.
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 5]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 5]!) >>> 0;
      x2 = (x2 + ks[(s + 2) % 5]!) >>> 0;
      x3 = (x3 + ks[(s + 3) % 5]! + s) >>> 0;
    }
  }
  return Uint32Array.of(x0, x1, x2, x3);
}
