// The DDPM training pass (docs/math.md sections 4 and 5): per sample noise, noisy
// point, responsibilities, residual, loss and gradient contributions, reduced
// per workgroup in the matrix form
//     sum_n W^T R + C^T X   and   colsum(C)   and   sum_n ||r_n||^2
// like a tall-skinny matrix multiply. Each workgroup walks tiles of T samples
// and keeps its K x d sums in registers; it writes one partial at the end.
// A second pass (reduce.wgsl) adds the partials in a fixed order.

// x_t = a_t x0 + sigma_t z into xs, and z / sigma_t into rs (docs/math.md sections 2 and 4).
fn loadNoisyTile(lid: u32, tileStart: u32, valid: u32) {
  for (var item = lid; item < T * D4; item += WG) {
    let n = item / D4;
    let c4 = item % D4;
    if (n < valid) {
      let row = tileStart + n;
      let z = sampleNoise(row, c4);
      xs[item] = params.a * data[row * D4 + c4] + params.sigma * z;
      rs[item] = params.invSigma * z;
    } else {
      xs[item] = vec4<f32>(0.0);
      rs[item] = vec4<f32>(0.0);
    }
  }
}

// r = mbar(x) - x + z / sigma_t with mbar = sum_j w_j m_j (docs/math.md sections 3 and 4).
fn tileResiduals(lid: u32) {
  for (var item = lid; item < T * D4; item += WG) {
    let n = item / D4;
    let c4 = item % D4;
    var mbar = vec4<f32>(0.0);
    for (var jb = 0u; jb < K4; jb++) {
      let w = ws[n * K4 + jb];
      mbar += w.x * centres[(4u * jb) * D4 + c4] + w.y * centres[(4u * jb + 1u) * D4 + c4]
            + w.z * centres[(4u * jb + 2u) * D4 + c4] + w.w * centres[(4u * jb + 3u) * D4 + c4];
    }
    rs[item] = mbar - xs[item] + rs[item];
  }
}

// q_j = m_j . r, then C_j = w_j (m_j - mbar) . r = w_j (q_j - sum_i w_i q_i) (docs/math.md section 5).
fn tileCoefficients(lid: u32) {
  for (var item = lid; item < T * K4; item += WG) {
    cs[item] = centreDotsR(item % K4, (item / K4) * D4);
  }
  workgroupBarrier();
  for (var n = lid; n < T; n += WG) {
    var mr = 0.0;
    for (var jb = 0u; jb < K4; jb++) {
      mr += dot(ws[n * K4 + jb], cs[n * K4 + jb]);
    }
    for (var jb = 0u; jb < K4; jb++) {
      cs[n * K4 + jb] = ws[n * K4 + jb] * (cs[n * K4 + jb] - mr);
    }
  }
}

// ||r_n||^2 for the samples this thread owns (docs/math.md section 4).
fn tileSquaredResiduals(lid: u32) -> f32 {
  var total = 0.0;
  for (var n = lid; n < T; n += WG) {
    for (var c = 0u; c < D4; c++) {
      let r = rs[n * D4 + c];
      total += dot(r, r);
    }
  }
  return total;
}

@compute @workgroup_size(WG)
fn ddpmPass(@builtin(local_invocation_index) lid: u32,
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
  // Each thread owns BPT blocks of 4 centres x 4 coordinates of the K x d sums.
  var acc: array<mat4x4<f32>, BPT>;
  var colsum: array<vec4<f32>, BPT>;
  var squaredResiduals = 0.0;
  let tiles = (params.rows + T - 1u) / T;
  for (var tile = wid.x; tile < tiles; tile += nwg.x) {
    let tileStart = tile * T;
    let valid = min(T, params.rows - tileStart);
    workgroupBarrier();
    loadNoisyTile(lid, tileStart, valid);
    workgroupBarrier();
    tileLogits(lid);
    workgroupBarrier();
    tileSoftmax(lid, valid);
    workgroupBarrier();
    tileResiduals(lid);
    workgroupBarrier();
    tileCoefficients(lid);
    squaredResiduals += tileSquaredResiduals(lid);
    workgroupBarrier();
    // W^T R + C^T X over the tile, 4 x 4 blocks per thread (docs/math.md section 5, matrix form).
    for (var i = 0u; i < BPT; i++) {
      let b = lid + i * WG;
      if (b < K4 * D4) {
        let jb = b / D4;
        let kb = b % D4;
        var block = acc[i];
        var cSum = colsum[i];
        for (var n = 0u; n < valid; n++) {
          let w = ws[n * K4 + jb];
          let cc = cs[n * K4 + jb];
          let r = rs[n * D4 + kb];
          let x = xs[n * D4 + kb];
          block[0] += w.x * r + cc.x * x;
          block[1] += w.y * r + cc.y * x;
          block[2] += w.z * r + cc.z * x;
          block[3] += w.w * r + cc.w * x;
          cSum += cc;
        }
        acc[i] = block;
        colsum[i] = cSum;
      }
    }
  }
  let loss = workgroupSum(lid, squaredResiduals);
  writePartial(lid, (params.partialBase + wid.x) * PARTIAL_STRIDE4, acc, colsum, loss);
}
