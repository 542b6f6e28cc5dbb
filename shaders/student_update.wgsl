// The general student's gradient and step (docs/math.md section 14), one workgroup, one component per invocation:
// from the reduced sums of student_lanes.wgsl, dL/dm = (2/N) S_m, dL/dv = (2/N) S_v, dL/dbeta = (2/N) colsum h;
// dL/dgamma = a_t^2 exp(gamma) dL/dv (spherical: summed over the coordinates). With `apply`, each step scaled by its
// inverse curvature (v, pi and gamma before the step; f = min(1, 1 / (K pi_k)), n = d spherical, 1 diag):
//   m <- m - clamp(eta f v^2 dL/dm, +-mTrust sqrt(v)),
//   gamma <- max(gammaMin, gamma - clamp(eta f v^3 / (n (a_t^2 exp(gamma))^2) dL/dgamma, +-trust)),
//   beta <- beta - betaLr dL/dbeta,
// then the weight floor. Then, for the next pass, the precisions 1/v and logConst = log pi - (1/2) sum log v at
// the new parameters (deriveStudent, also the entry studentPrepare before a call's first pass), the loss and gradient norm into the step's history slot, and the step counter advanced.
// COLS is 0 (identity: v = 1), 1 (spherical) or D (diag); LEARN_WEIGHTS says whether beta moves.

@group(0) @binding(0) var<storage, read> totals: array<vec4<f32>>;                   // student_lanes.wgsl's layout
@group(0) @binding(1) var<storage, read_write> centres: array<vec4<f32>>;            // KP x D4, scaled m
@group(0) @binding(2) var<storage, read_write> gradient: array<vec4<f32>>;           // KP x D4, dL/dm
@group(0) @binding(3) var<storage, read_write> history: array<f32>;                  // [loss, gradNorm] per local step
@group(0) @binding(4) var<storage, read_write> stepState: array<u32>;                // [global step, local step]
@group(0) @binding(5) var<uniform> params: StudentUpdateParams;
@group(0) @binding(6) var<storage, read_write> gamma: array<f32>;                    // K x COLS
@group(0) @binding(7) var<storage, read_write> beta: array<f32>;                     // K
@group(0) @binding(8) var<storage, read_write> precisions: array<vec4<f32>>;         // KP x D4
@group(0) @binding(9) var<storage, read_write> logConst: array<f32>;                 // KP
@group(0) @binding(10) var<storage, read_write> studentGradient: array<f32>;         // dL/dgamma (K x COLS), dL/dbeta (K)

var<workgroup> scratch: array<f32, UPDATE_WG>;
var<workgroup> nextBeta: array<f32, KP>;   // beta after the step, then log pi

// Fixed-order sum over the workgroup (deterministic).
fn studentSum(lid: u32, value: f32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < UPDATE_WG; i++) {
    total += scratch[i];
  }
  workgroupBarrier();
  return total;
}

fn gammaIndex(i: u32, j: u32) -> u32 {
  return i * COLS + select(j, 0u, COLS == 1u);
}

// v_ij = a_t^2 c_ij + sigma_t^2 with c = floor + exp(gamma); exactly 1 for the identity covariance (COLS = 0).
fn varianceAt(i: u32, j: u32) -> f32 {
  if (COLS == 0u) {
    return 1.0;
  }
  return params.a2 * (params.varianceFloor + exp(gamma[gammaIndex(i, j)])) + params.sigma2;
}

// logsumexp(beta), the max subtracted first, summed in a fixed order (one invocation).
fn betaLogSumExp() -> f32 {
  var mx = -3.0e38;
  for (var i = 0u; i < K; i++) {
    mx = max(mx, beta[i]);
  }
  var total = 0.0;
  for (var i = 0u; i < K; i++) {
    total += exp(beta[i] - mx);
  }
  return mx + log(total);
}

// The pass's precisions 1/v (padding coordinates keep 1) and logConst = log pi - (1/2) sum_j log v at the current
// gamma and beta, with log pi = beta - logsumexp(beta) summed in a fixed order. Call in uniform control flow.
fn deriveStudent(lid: u32) {
  if (lid == 0u) {
    let lse = betaLogSumExp();
    for (var i = 0u; i < K; i++) {
      nextBeta[i] = beta[i] - lse;
    }
  }
  workgroupBarrier();
  for (var i = lid; i < K; i += UPDATE_WG) {
    var halfLogDet = 0.0;
    for (var c = 0u; c < D4; c++) {
      var p = vec4<f32>(1.0);
      for (var q = 0u; q < 4u; q++) {
        let j = 4u * c + q;
        if (j < D) {
          let v = varianceAt(i, j);
          p[q] = 1.0 / v;
          halfLogDet += 0.5 * log(v);
        }
      }
      precisions[i * D4 + c] = p;
    }
    logConst[i] = nextBeta[i] - halfLogDet;
  }
}

// Before a call's first pass: the precisions and log-constants of the uploaded gamma and beta.
@compute @workgroup_size(UPDATE_WG)
fn studentPrepare(@builtin(local_invocation_index) lid: u32) {
  deriveStudent(lid);
}

var<workgroup> logSumBeta: f32;

// gamma_kj after its step scaled by the inverse curvature and the heavy-component factor, within the trust region and
// above gammaMin. gg / dv = dL/dv is passed as gv, so no (a_t^2 exp(gamma))^2 underflows f32; no gradient, no step.
fn gammaStep(v: f32, g: f32, gv: f32, sharing: f32, heavy: f32) -> f32 {
  let dv = params.a2 * exp(g);
  let step = select(params.lr * heavy * v * v * v / (sharing * dv) * gv, 0.0, gv == 0.0);
  return max(params.gammaMin, g - clamp(step, -params.gammaTrust, params.gammaTrust));
}

@compute @workgroup_size(UPDATE_WG)
fn studentUpdate(@builtin(local_invocation_index) lid: u32) {
  // log pi before the step, for f = min(1, 1 / (K pi_k)).
  if (lid == 0u) {
    logSumBeta = betaLogSumExp();
  }
  workgroupBarrier();
  var squared = 0.0;
  for (var i = lid; i < K; i += UPDATE_WG) {
    let heavy = min(1.0, 1.0 / (f32(K) * exp(beta[i] - logSumBeta)));
    var sphericalGrad = 0.0;
    var sphericalV = 1.0;
    for (var j = 0u; j < D; j++) {
      let item = i * D4 + j / 4u;
      let gm = params.twoOverN * totals[item][j % 4u];
      let gv = params.twoOverN * totals[KP * D4 + item][j % 4u];
      gradient[item][j % 4u] = gm;
      squared += gm * gm;
      let v = varianceAt(i, j);
      if (params.apply != 0u) {
        let r = params.mTrust * sqrt(v);
        centres[item][j % 4u] -= clamp(params.lr * heavy * v * v * gm, -r, r);
      }
      if (COLS == 1u) {
        sphericalGrad += gv;
        sphericalV = v;
      } else if (COLS > 1u) {
        let g = gamma[i * COLS + j];
        let gg = params.a2 * exp(g) * gv;
        studentGradient[i * COLS + j] = gg;
        squared += gg * gg;
        if (params.apply != 0u) {
          gamma[i * COLS + j] = gammaStep(v, g, gv, 1.0, heavy);
        }
      }
    }
    if (COLS == 1u) {
      let g = gamma[i];
      let gg = params.a2 * exp(g) * sphericalGrad;
      studentGradient[i] = gg;
      squared += gg * gg;
      if (params.apply != 0u) {
        gamma[i] = gammaStep(sphericalV, g, sphericalGrad, f32(D), heavy);
      }
    }
    var gb = 0.0;
#if ${LEARN_WEIGHTS}
    gb = params.twoOverN * totals[2u * KP * D4 + i / 4u][i % 4u];
    squared += gb * gb;
#endif
    studentGradient[K * COLS + i] = gb;
    nextBeta[i] = select(beta[i], beta[i] - params.betaLr * gb, params.apply != 0u);
  }
  let gradNormSquared = studentSum(lid, squared);
  // The weight floor: beta_i >= max beta + log floor (docs/math.md section 14).
  if (lid == 0u) {
    var mx = -3.0e38;
    for (var i = 0u; i < K; i++) {
      mx = max(mx, nextBeta[i]);
    }
    for (var i = 0u; i < K; i++) {
      beta[i] = max(nextBeta[i], mx + params.logWeightFloor);
    }
  }
  deriveStudent(lid);
  if (lid == 0u) {
    let local = stepState[1];
    history[2u * local] = totals[2u * KP * D4 + K4].x * params.invN;
    history[2u * local + 1u] = sqrt(gradNormSquared);
    stepState[0] = stepState[0] + 1u;
    stepState[1] = local + 1u;
  }
}
