// Gradient and update (docs/math.md sections 5 and 6), one workgroup: from the
// reduced sums, dL/dM = (2/N) (W^T R + C^T X - diag(colsum C) M); then
// m <- m - eta dL/dm, the optional projection onto the ball of radius a_t R,
// the loss and gradient norm into the step's history slot, and the step
// counter (which fresh noise reads) advanced. The centres never leave the GPU.

@group(0) @binding(0) var<storage, read> totals: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> centres: array<vec4<f32>>;   // KP x D4, scaled m
@group(0) @binding(2) var<storage, read_write> gradient: array<vec4<f32>>;  // KP x D4 (tied: row 0)
@group(0) @binding(3) var<storage, read_write> history: array<f32>;         // [loss, gradNorm] per local step
@group(0) @binding(4) var<storage, read_write> stepState: array<u32>;       // [global step, local step]
@group(0) @binding(5) var<uniform> params: UpdateParams;

var<workgroup> scratch: array<f32, UPDATE_WG>;
var<workgroup> rowScale: array<f32, KP>;

fn untiedGradient(item: u32) -> vec4<f32> {
  let j = item / D4;
  let colsumC = totals[KP * D4 + j / 4u][j % 4u];
  return params.twoOverN * (totals[item] - colsumC * centres[item]);
}

// Fixed-order sum over the workgroup (deterministic).
fn updateSum(lid: u32, value: f32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < UPDATE_WG; i++) {
    total += scratch[i];
  }
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(UPDATE_WG)
fn gdUpdate(@builtin(local_invocation_index) lid: u32) {
  var squared = 0.0;
#if ${TIED}
  // dL/dm = dL/dm_1 - dL/dm_2 at m_2 = -m_1 (docs/math.md section 5).
  for (var c = lid; c < D4; c += UPDATE_WG) {
    let g = untiedGradient(c) - untiedGradient(D4 + c);
    gradient[c] = g;
    squared += dot(g, g);
  }
#else
  for (var item = lid; item < KP * D4; item += UPDATE_WG) {
    let g = untiedGradient(item);
    gradient[item] = g;
    squared += dot(g, g);
  }
#endif
  let gradNormSquared = updateSum(lid, squared);
  storageBarrier();
  if (params.apply != 0u) {
#if ${TIED}
    for (var c = lid; c < D4; c += UPDATE_WG) {
      let m = centres[c] - params.lr * gradient[c];
      centres[c] = m;
      centres[D4 + c] = -m;
    }
#else
    for (var item = lid; item < KP * D4; item += UPDATE_WG) {
      centres[item] -= params.lr * gradient[item];
    }
#endif
#if ${PROJECT}
    // Project each m_i onto the ball of radius a_t R (docs/math.md section 6).
    storageBarrier();
    for (var j = lid; j < KP; j += UPDATE_WG) {
      var norm2 = 0.0;
      for (var c = 0u; c < D4; c++) {
        let m = centres[j * D4 + c];
        norm2 += dot(m, m);
      }
      let norm = sqrt(norm2);
      rowScale[j] = select(1.0, params.radius / norm, norm > params.radius);
    }
    workgroupBarrier();
    for (var item = lid; item < KP * D4; item += UPDATE_WG) {
      centres[item] *= rowScale[item / D4];
    }
#endif
  }
  if (lid == 0u) {
    let local = stepState[1];
    history[2u * local] = totals[KP * D4 + K4].x * params.invN;
    history[2u * local + 1u] = sqrt(gradNormSquared);
    stepState[0] = stepState[0] + 1u;
    stepState[1] = local + 1u;
  }
}

// EM (mode 0: mu_i <- S_i / n_i, a component with no weight keeps its centre)
// or gradient EM (mode 1: mu_i <- mu_i + eta (1/N) (S_i - n_i mu_i)), docs/math.md section 9.
@compute @workgroup_size(UPDATE_WG)
fn emUpdate(@builtin(local_invocation_index) lid: u32) {
  for (var item = lid; item < KP * D4; item += UPDATE_WG) {
    let j = item / D4;
    let count = totals[KP * D4 + j / 4u][j % 4u];
    let mu = centres[item];
    if (params.emMode == 0u) {
      centres[item] = select(mu, totals[item] / count, count > 0.0);
    } else {
      centres[item] = mu + params.lr * params.invN * (totals[item] - count * mu);
    }
  }
}
