// The EM pass (docs/math.md section 9): responsibilities on the clean data at the
// current centres mu, then per workgroup the sums W^T X (K x d), the counts
// colsum(W) and the log-likelihood sum, in the same partial layout as the
// DDPM pass so that the same reduction serves both. EM and gradient EM differ
// only in the update (update.wgsl).

fn loadCleanTile(lid: u32, tileStart: u32, valid: u32) {
  for (var item = lid; item < T * D4; item += WG) {
    let n = item / D4;
    if (n < valid) {
      xs[item] = data[(tileStart + n) * D4 + item % D4];
    } else {
      xs[item] = vec4<f32>(0.0);
    }
  }
}

@compute @workgroup_size(WG)
fn emPass(@builtin(local_invocation_index) lid: u32,
          @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>,
#if ${SUBGROUPS}
          @builtin(subgroup_invocation_id) sgid: u32,
          @builtin(subgroup_size) sgsize: u32,
#endif
      ) {
#if ${SUBGROUPS}
  subgroupLane = vec2<u32>(sgid, sgsize);
#endif
  computeHalfNorms(lid);
  var acc: array<mat4x4<f32>, BPT>;
  var counts: array<vec4<f32>, BPT>;
  var logLikelihood = 0.0;
  let tiles = (params.rows + T - 1u) / T;
  for (var tile = wid.x; tile < tiles; tile += nwg.x) {
    let tileStart = tile * T;
    let valid = min(T, params.rows - tileStart);
    workgroupBarrier();
    loadCleanTile(lid, tileStart, valid);
    workgroupBarrier();
    tileLogits(lid);
    workgroupBarrier();
    logLikelihood += tileSoftmax(lid, valid);
    workgroupBarrier();
    for (var i = 0u; i < BPT; i++) {
      let b = lid + i * WG;
      if (b < K4 * D4) {
        let jb = b / D4;
        let kb = b % D4;
        var block = acc[i];
        var count = counts[i];
        for (var n = 0u; n < valid; n++) {
          let w = ws[n * K4 + jb];
          let x = xs[n * D4 + kb];
          block[0] += w.x * x;
          block[1] += w.y * x;
          block[2] += w.z * x;
          block[3] += w.w * x;
          count += w;
        }
        acc[i] = block;
        counts[i] = count;
      }
    }
  }
  let total = workgroupSum(lid, logLikelihood);
  writePartial(lid, (params.partialBase + wid.x) * PARTIAL_STRIDE4, acc, counts, total);
}
