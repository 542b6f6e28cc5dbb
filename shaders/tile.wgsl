// A tile of T samples held in workgroup memory, and the student's pieces of
// math on it (docs/math.md section 3). Shared by the DDPM training pass, the EM
// pass and the probe entry points, so that a probe test tests the fused pass.
//
// Specialisation constants come from the host's header: K (components), KP =
// 4 * K4 (K padded to a multiple of 4), D (dimension), DP = 4 * D4, T (samples
// per tile), WG (workgroup size). Rows of `centres` beyond K and coordinates
// beyond D are zero, so padded lanes contribute nothing to any sum. The
// bindings (data, centres, params) are declared in pass_io.wgsl.

var<workgroup> xs: array<vec4<f32>, T * D4>;   // the tile's points: noisy x_t (DDPM) or clean x (EM)
var<workgroup> rs: array<vec4<f32>, T * D4>;   // z / sigma_t, then the residual r (docs/math.md section 4)
var<workgroup> ws: array<vec4<f32>, T * K4>;   // logits, then responsibilities w (docs/math.md section 3)
var<workgroup> cs: array<vec4<f32>, T * K4>;   // m_j . r, then C = w * P (docs/math.md section 5)
var<workgroup> halfNorms: array<vec4<f32>, K4>; // ||m_j||^2 / 2
var<workgroup> reduceScratch: array<f32, WG>;

// ||m_j||^2 / 2 for the logits m_j . x - ||m_j||^2 / 2, once per workgroup.
fn computeHalfNorms(lid: u32) {
  for (var jb = lid; jb < K4; jb += WG) {
    var h = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) {
      let m0 = centres[(4u * jb) * D4 + c];
      let m1 = centres[(4u * jb + 1u) * D4 + c];
      let m2 = centres[(4u * jb + 2u) * D4 + c];
      let m3 = centres[(4u * jb + 3u) * D4 + c];
      h += vec4<f32>(dot(m0, m0), dot(m1, m1), dot(m2, m2), dot(m3, m3));
    }
    halfNorms[jb] = 0.5 * h;
  }
}

// Four dot products centres[4*jb .. 4*jb+3] . xs[row] (WGSL has no generic
// pointer parameters to workgroup memory without an extension, hence two twins).
fn centreDotsX(jb: u32, rowBase: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < D4; c++) {
    let x = xs[rowBase + c];
    acc += vec4<f32>(
      dot(centres[(4u * jb) * D4 + c], x),
      dot(centres[(4u * jb + 1u) * D4 + c], x),
      dot(centres[(4u * jb + 2u) * D4 + c], x),
      dot(centres[(4u * jb + 3u) * D4 + c], x));
  }
  return acc;
}

// The same four dot products against the residuals rs[row].
fn centreDotsR(jb: u32, rowBase: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < D4; c++) {
    let r = rs[rowBase + c];
    acc += vec4<f32>(
      dot(centres[(4u * jb) * D4 + c], r),
      dot(centres[(4u * jb + 1u) * D4 + c], r),
      dot(centres[(4u * jb + 2u) * D4 + c], r),
      dot(centres[(4u * jb + 3u) * D4 + c], r));
  }
  return acc;
}

// logit_j(x) = m_j . x - ||m_j||^2 / 2 (docs/math.md section 3), for every sample of the tile.
fn tileLogits(lid: u32) {
  for (var item = lid; item < T * K4; item += WG) {
    let n = item / K4;
    let jb = item % K4;
    ws[item] = centreDotsX(jb, n * D4) - halfNorms[jb];
  }
}

// Max-subtracted softmax over the K logits of sample n (never overflows);
// returns log sum_j exp(logit_j), the log-likelihood up to constants.
fn softmaxRow(n: u32) -> f32 {
  var mx = ws[n * K4].x;
  for (var j = 1u; j < K; j++) {
    mx = max(mx, ws[n * K4 + j / 4u][j % 4u]);
  }
  var total = 0.0;
  for (var jb = 0u; jb < K4; jb++) {
    let lane = vec4<u32>(4u * jb) + vec4<u32>(0u, 1u, 2u, 3u);
    let e = select(vec4<f32>(0.0), exp(ws[n * K4 + jb] - mx), lane < vec4<u32>(K));
    ws[n * K4 + jb] = e;
    total += e.x + e.y + e.z + e.w;
  }
  let inv = 1.0 / total;
  for (var jb = 0u; jb < K4; jb++) {
    ws[n * K4 + jb] *= inv;
  }
  return mx + log(total);
}

// Responsibilities of the tile's valid samples; invalid rows (past the end of the data) get w = 0.
// Returns, for the thread that owns sample `lid`, its log sum exp (0 when it owns none).
fn tileSoftmax(lid: u32, valid: u32) -> f32 {
  var logSumExp = 0.0;
  for (var n = lid; n < T; n += WG) {
    if (n < valid) {
      logSumExp += softmaxRow(n);
    } else {
      for (var jb = 0u; jb < K4; jb++) {
        ws[n * K4 + jb] = vec4<f32>(0.0);
      }
    }
  }
  return logSumExp;
}

// Sum of one f32 per thread over the workgroup, valid in thread 0. Deterministic:
// with subgroups, each subgroup adds its own values and thread 0 adds the subgroup
// totals in order; without, thread 0 adds every value in order.
// (subgroup_invocation_id, subgroup_size), set by the entry point when the adapter has subgroups.
var<private> subgroupLane: vec2<u32>;

#if ${SUBGROUPS}
fn workgroupSum(lid: u32, value: f32) -> f32 {
  let sgid = subgroupLane.x;
  let sgsize = subgroupLane.y;
  let partial = subgroupAdd(value);
  if (sgid == 0u) {
    reduceScratch[lid / sgsize] = partial;
  }
  workgroupBarrier();
  var total = 0.0;
  if (lid == 0u) {
    for (var i = 0u; i < (WG + sgsize - 1u) / sgsize; i++) {
      total += reduceScratch[i];
    }
  }
  return total;
}
#else
fn workgroupSum(lid: u32, value: f32) -> f32 {
  reduceScratch[lid] = value;
  workgroupBarrier();
  var total = 0.0;
  if (lid == 0u) {
    for (var i = 0u; i < WG; i++) {
      total += reduceScratch[i];
    }
  }
  return total;
}
#endif

// One workgroup's partial, in vec4 (the layout reduce.wgsl and update.wgsl read): KP rows x D4 block sums,
// then K4 column sums, then one scalar (the loss or log-likelihood sum, valid in thread 0).
fn writePartial(lid: u32, base: u32, sums: array<mat4x4<f32>, BPT>, columnSums: array<vec4<f32>, BPT>, scalar: f32) {
  for (var i = 0u; i < BPT; i++) {
    let b = lid + i * WG;
    if (b < K4 * D4) {
      let jb = b / D4;
      let kb = b % D4;
      for (var jj = 0u; jj < 4u; jj++) {
        partials[base + (4u * jb + jj) * D4 + kb] = sums[i][jj];
      }
      if (kb == 0u) {
        partials[base + KP * D4 + jb] = columnSums[i];
      }
    }
  }
  if (lid == 0u) {
    partials[base + KP * D4 + K4] = vec4<f32>(scalar, 0.0, 0.0, 0.0);
  }
}
