// Known-answer vectors of the counter-based generators (docs/math.md section 7), shared by the CPU and GPU tests.
// Known answers: Random123 tests/kat_vectors, rows "philox4x32 7" and "philox4x32 10" (the 10-round rows as cut and
// pasted into DEShawResearch/Random123-Boost libs/random/test/test_philox.cpp, commit 916db91a, and checked there).
const ONES = 0xffffffff;
const PI_COUNTER = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
const PI_KEY = [0xa4093822, 0x299f31d0];
/** Random123 known answers for Philox4x32 (key 2 words). */
export const PHILOX_KAT: { rounds: number; counter: number[]; key: number[]; expected: string[] }[] = [
  { rounds: 7, counter: [0, 0, 0, 0], key: [0, 0], expected: ['5f6fb709', '0d893f64', '4f121f81', '4f730a48'] },
  { rounds: 7, counter: [ONES, ONES, ONES, ONES], key: [ONES, ONES], expected: ['5207ddc2', '45165e59', '4d8ee751', '8c52f662'] },
  { rounds: 7, counter: PI_COUNTER, key: PI_KEY, expected: ['4dfccaba', '190a87f0', 'c47362ba', 'b6b5242a'] },
  { rounds: 10, counter: [0, 0, 0, 0], key: [0, 0], expected: ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8'] },
  { rounds: 10, counter: [ONES, ONES, ONES, ONES], key: [ONES, ONES], expected: ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd'] },
  { rounds: 10, counter: PI_COUNTER, key: PI_KEY, expected: ['d16cfe09', '94fdcceb', '5001e420', '24126ea1'] },
];

const PI_KEY4 = [0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89];
/** Random123 tests/kat_vectors, rows "threefry4x32 13" and "threefry4x32 20" (key 4 words): a measured candidate. */
export const THREEFRY_KAT: { rounds: 13 | 20; counter: number[]; key: number[]; expected: string[] }[] = [
  { rounds: 13, counter: [0, 0, 0, 0], key: [0, 0, 0, 0], expected: ['531c7e4f', '39491ee5', '2c855a92', '3d6abf9a'] },
  { rounds: 13, counter: [ONES, ONES, ONES, ONES], key: [ONES, ONES, ONES, ONES], expected: ['c4189358', '1c9cc83a', 'd5881c67', '6a0a89e0'] },
  { rounds: 13, counter: PI_COUNTER, key: PI_KEY4, expected: ['4aa71d8f', '734738c2', '431fc6a8', 'ae6debf1'] },
  { rounds: 20, counter: [0, 0, 0, 0], key: [0, 0, 0, 0], expected: ['9c6ca96a', 'e17eae66', 'fc10ecd4', '5256a7d8'] },
  { rounds: 20, counter: [ONES, ONES, ONES, ONES], key: [ONES, ONES, ONES, ONES], expected: ['2a881696', '57012287', 'f6c7446e', 'a16a6732'] },
  { rounds: 20, counter: PI_COUNTER, key: PI_KEY4, expected: ['59cd1dbb', 'b8879579', '86b5d00c', 'ac8b6d84'] },
];
