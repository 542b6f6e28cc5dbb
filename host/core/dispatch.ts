// Dispatches over the per-dimension limit (65,535 by default) folded into
// 2-D grids; the shaders compute the linear index as x + y * num_workgroups.x.

export function foldWorkgroups(count: number, maxPerDimension: number): [number, number] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`workgroup count ${count} must be a positive integer`);
  if (count <= maxPerDimension) return [count, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RangeError(`${count} workgroups exceed a ${maxPerDimension} x ${maxPerDimension} grid`);
  }
  return [Math.ceil(count / y), y];
}
