// The high word of a * b from four 16-bit products, the middle sum's carry found by comparison:
// (a_lo b_lo >> 16) + a_lo b_hi < 2^32 cannot overflow, adding a_hi b_lo can, once.
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let hl = a_hi * b_lo;
  let mid = ((a_lo * b_lo) >> 16u) + a_lo * b_hi + hl;
  return a_hi * b_hi + (mid >> 16u) + select(0u, 0x10000u, mid < hl);
}
