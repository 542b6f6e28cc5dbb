// The step loop of every sampler kernel (docs/math.md section 11): a sample is held in registers over
// params.stepCount steps and written back once per dispatch. Every step is an increment,
// y <- y + (cy y + cs s + cxi xi), so that float32 keeps a small step (src/sampling/grid.ts). The score file
// before this one defines STEP_VEC4 (vec4 per step in the table, the first two (a, aNext, cy, cs), (cxi, h/2)) and
// flow(y, tableRow, next) = y + s_t(y) at t_k, or at t_{k+1} when next (Heun's corrector).

@compute @workgroup_size(WG)
fn sampleSteps(@builtin(local_invocation_index) lid: u32,
               @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let lanes = laneOf(lid, wid, nwg);
  let key = vec2<u32>(params.seedLo, params.seedHi);
  var firstBad = NO_STEP;
  var y: array<vec4<f32>, D4>;
  for (var row = lanes.x; row < params.rows; row += lanes.y) {
    let sample = params.chunkBase + row;
#unroll c D4
    y[{c}] = samples[row * D4 + {c}];
#endunroll
    for (var i = 0u; i < params.stepCount; i++) {
      let step = params.firstStep + i;
      let ca = stepTable[STEP_VEC4 * (params.tableRow + i)];       // a, aNext, cy, cs
      let cb = stepTable[STEP_VEC4 * (params.tableRow + i) + 1u];  // cxi, h / 2
      let f = flow(y, params.tableRow + i, false);
#if ${HEUN}
      // Heun: p = y + (cy y + cs s) with s = f - y, y <- y + (h/2)(f(y, t_k) + f(p, t_{k+1})).
      var p: array<vec4<f32>, D4>;
#unroll c D4
      p[{c}] = y[{c}] + (ca.z * y[{c}] + ca.w * (f[{c}] - y[{c}]));
#endunroll
      let fp = flow(p, params.tableRow + i, true);
#unroll c D4
      y[{c}] = y[{c}] + cb.y * (f[{c}] + fp[{c}]);
#endunroll
#else
      // xi_k: Philox counter step k + 1 (the start took step 0). A run-time loop even where the rest is unrolled:
      // on SwiftShader an unrolled generator compiled slower and ran no faster (docs/performance.md, 'Compile times').
      let noise = noiseRowState(key, sample, step + 1u, STREAM);
      for (var c = 0u; c < D4; c++) {
        let xi = samplePadding(c, noiseBlockFromRow(noise, key, c));
        y[c] = y[c] + (ca.z * y[c] + ca.w * (f[c] - y[c]) + cb.x * xi);
      }
#endif
      var bad = false;
#unroll c D4
      bad = bad | nonFinite(y[{c}]);
#endunroll
      firstBad = select(firstBad, min(firstBad, step), bad);
    }
#unroll c D4
    samples[row * D4 + {c}] = y[{c}];
#endunroll
  }
  if (firstBad != NO_STEP) {
    atomicMin(&status[0], firstBad);
  }
}
