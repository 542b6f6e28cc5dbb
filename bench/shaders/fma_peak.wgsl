// The adapter's own float32 FMA ceiling: independent multiply-add chains with
// no memory traffic in the loop (the benchmark's denominator, docs/math.md section 12).

@group(0) @binding(0) var<storage, read_write> sink: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> peak: PeakParams;

@compute @workgroup_size(64)
fn fmaPeak(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seed = f32(gid.x) * 1e-7;
  var a0 = vec4<f32>(seed, seed + 1.0, seed + 2.0, seed + 3.0);
  var a1 = a0 + 0.5;
  var a2 = a0 + 0.25;
  var a3 = a0 + 0.125;
  var a4 = a0 + 0.0625;
  var a5 = a0 + 0.03125;
  var a6 = a0 + 0.015625;
  var a7 = a0 + 0.0078125;
  let m = vec4<f32>(peak.multiplier);
  let c = vec4<f32>(peak.addend);
  for (var i = 0u; i < peak.iterations; i++) {
    a0 = a0 * m + c;
    a1 = a1 * m + c;
    a2 = a2 * m + c;
    a3 = a3 * m + c;
    a4 = a4 * m + c;
    a5 = a5 * m + c;
    a6 = a6 * m + c;
    a7 = a7 * m + c;
  }
  sink[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
