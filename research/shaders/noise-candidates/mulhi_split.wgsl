// The high word of a * b from four 16-bit products (today's shaders/philox.wgsl).
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let mid = ((a_lo * b_lo) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return a_hi * b_hi + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
