// The score error eps_sc^2(t) of docs/math.md section 11, one Monte Carlo draw per invocation
// (src/metrics/cpu.ts scoreError is the float64 reference). Draw n belongs to true component
// n mod K*, x = a mu*_c + z with z the Philox normals (row n, step 0, the metrics stream), and
// e_n = ||s_model(x) - s_true(x)||^2 = a^2 ||mbar_model(x) - mbar_true(x)||^2: the -x of both scores
// cancels exactly. Each draw's e_n is written out; the host combines them in float64 (src/metrics/gpu-score-error.ts).

@group(0) @binding(0) var<storage, read> model: array<vec4<f32>>;     // K x D4, unscaled mu; padding 0
@group(0) @binding(1) var<storage, read> truth: array<vec4<f32>>;     // K* x D4, unscaled mu*; padding 0
@group(0) @binding(2) var<storage, read_write> errors: array<f32>;    // e_n for draws firstDraw ..
@group(0) @binding(3) var<uniform> params: ScoreErrorParams;

// Row j, block c of the model's (set 0) or the truth's (set 1) centres.
fn centreBlock(which: u32, j: u32, c: u32) -> vec4<f32> {
  if (which == 0u) {
    return model[j * D4 + c];
  }
  return truth[j * D4 + c];
}

// mbar(x) = sum_j w_j mu_j (unscaled) with w = softmax_j(-||x - a mu_j||^2 / 2), one pass with a running
// maximum (docs/math.md section 3): the sum is rescaled whenever a larger logit appears, so nothing overflows.
fn meanCentre(which: u32, count: u32, x: array<vec4<f32>, D4>, a: f32) -> array<vec4<f32>, D4> {
  var acc: array<vec4<f32>, D4>;
  var mx = -0x1.fffffep+127f;  // the lowest f32
  var total = 0.0;
  for (var j = 0u; j < count; j++) {
    var squares = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) {
      let diff = x[c] - a * centreBlock(which, j, c);
      squares += diff * diff;
    }
    let logit = -0.5 * ((squares.x + squares.y) + (squares.z + squares.w));
    if (logit > mx) {
      let shrink = exp(mx - logit);
      total *= shrink;
      for (var c = 0u; c < D4; c++) {
        acc[c] *= shrink;
      }
      mx = logit;
    }
    let w = exp(logit - mx);
    total += w;
    for (var c = 0u; c < D4; c++) {
      acc[c] += w * centreBlock(which, j, c);
    }
  }
  let inv = 1.0 / total;
  for (var c = 0u; c < D4; c++) {
    acc[c] *= inv;
  }
  return acc;
}

@compute @workgroup_size(WG)
fn scoreErrors(@builtin(global_invocation_id) gid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  // Dispatches over 65,535 workgroups are folded into 2-D grids by the host.
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.draws) {
    return;
  }
  let n = params.firstDraw + i;
  let key = vec2<u32>(params.seedLo, params.seedHi);
  let state = noiseRowState(key, n, 0u, STREAM);
  let comp = n % params.kTrue;
  var x: array<vec4<f32>, D4>;
  for (var c = 0u; c < D4; c++) {
    // Coordinates beyond d are padding: their noise is zeroed, so x there is 0 like the centres'.
    let lane = vec4<u32>(4u * c) + vec4<u32>(0u, 1u, 2u, 3u);
    let z = select(vec4<f32>(0.0), noiseBlockFromRow(state, key, c), lane < vec4<u32>(D));
    x[c] = params.a * truth[comp * D4 + c] + z;
  }
  let learned = meanCentre(0u, params.k, x, params.a);
  let exact = meanCentre(1u, params.kTrue, x, params.a);
  var squares = vec4<f32>(0.0);
  for (var c = 0u; c < D4; c++) {
    let diff = params.a * (learned[c] - exact[c]);
    squares += diff * diff;
  }
  errors[i] = (squares.x + squares.y) + (squares.z + squares.w);
}
