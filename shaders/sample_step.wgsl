// The samplers of docs/math.md section 11 with the score of the mixture (1/K) sum_i N(a mu_i, I):
// reverse diffusion (exponential, Euler-Maruyama), Langevin, and Heun on the probability-flow ODE.
// A sample is held in registers over params.stepCount steps and written back once per dispatch; the host
// records many dispatches per submission (host/sampler.ts). The loops over K and
// d/4 are #unroll blocks: unrolled on software adapters, run-time loops elsewhere (UNROLL).
// Every step is an increment, y <- y + (cy y + cs s + cxi xi), so that float32 keeps a small step
// (src/sampling/grid.ts); s_t(y) = a mbar(y) - y with mbar the responsibility-weighted mean of mu.

@group(0) @binding(0) var<storage, read_write> samples: array<vec4<f32>>;    // rows x D4, this chunk
@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>, K * D4>;  // mu, unscaled; padding 0
@group(0) @binding(2) var<storage, read> stepTable: array<vec4<f32>>;       // 2 per step: (a, aNext, cy, cs), (cxi, h/2)
@group(0) @binding(3) var<uniform> params: SampleParams;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;  // [first non-finite step]
@group(0) @binding(5) var<storage, read> centreNorms: array<f32, K>;        // ||mu_j||^2, from the host in float64

const NO_STEP: u32 = 0xffffffffu;

// Coordinates of the last block beyond D are padding: their noise must stay 0, so y's padding does.
fn samplePadding(c4: u32, v: vec4<f32>) -> vec4<f32> {
  let lane = vec4<u32>(4u * c4) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), v, lane < vec4<u32>(D));
}

// Inf or NaN, read from the exponent bits: a compiler may assume float values are finite.
fn nonFinite(v: vec4<f32>) -> bool {
  return any((bitcast<vec4<u32>>(v) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u));
}

// mbar(y) = sum_j w_j mu_j, w = softmax_j(a mu_j . y - (a^2 / 2) ||mu_j||^2) with the largest logit
// subtracted: -||y - a mu_j||^2 / 2 without its -||y||^2 / 2, which every logit shares (docs/math.md section 3).
fn meanCentre(y: array<vec4<f32>, D4>, a: f32) -> array<vec4<f32>, D4> {
  let halfA2 = 0.5 * a * a;
  var w: array<f32, K>;
  var mx = -0x1.fffffep+127f;  // the lowest f32
#unroll j K
  {
    var dotY = 0.0;
#unroll c D4
    dotY += dot(centres[{j} * D4 + {c}], y[{c}]);
#endunroll
    w[{j}] = a * dotY - halfA2 * centreNorms[{j}];
    mx = max(mx, w[{j}]);
  }
#endunroll
  var total = 0.0;
#unroll j K
  w[{j}] = exp(w[{j}] - mx);
  total += w[{j}];
#endunroll
  let inv = 1.0 / total;
#unroll j K
  w[{j}] *= inv;
#endunroll
  var mbar: array<vec4<f32>, D4>;
#unroll c D4
  {
    var acc = vec4<f32>(0.0);
#unroll j K
    acc += w[{j}] * centres[{j} * D4 + {c}];
#endunroll
    mbar[{c}] = acc;
  }
#endunroll
  return mbar;
}

// Rows lane, lane + lanes, ...: one per invocation on GPUs; on software adapters a few invocations walk all the
// rows, since each invocation there costs a fixed set-up (host/sampler.ts). Folded 2-D grids count as one.
fn laneOf(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  return vec2<u32>((wid.x + wid.y * nwg.x) * WG + lid, nwg.x * nwg.y * WG);
}

// The start y_0 ~ N(0, I): Philox counter step 0 of the sampler stream (docs/math.md section 11), once per run.
@compute @workgroup_size(WG)
fn sampleStart(@builtin(local_invocation_index) lid: u32,
               @builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let lanes = laneOf(lid, wid, nwg);
  let key = vec2<u32>(params.seedLo, params.seedHi);
  for (var row = lanes.x; row < params.rows; row += lanes.y) {
    let start = noiseRowState(key, params.chunkBase + row, 0u, STREAM);
#unroll c D4
    samples[row * D4 + {c}] = samplePadding({c}, noiseBlockFromRow(start, key, {c}));
#endunroll
  }
}

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
      let ca = stepTable[2u * (params.tableRow + i)];       // a, aNext, cy, cs
      let cb = stepTable[2u * (params.tableRow + i) + 1u];  // cxi, h / 2
      let m = meanCentre(y, ca.x);
#if ${HEUN}
      // Heun: f(y, t) = y + s_t(y) = a mbar(y); p = y + (cy y + cs s), y <- y + (h/2)(f(y, t_k) + f(p, t_{k+1})).
      var f: array<vec4<f32>, D4>;
      var p: array<vec4<f32>, D4>;
#unroll c D4
      {
        f[{c}] = ca.x * m[{c}];
        p[{c}] = y[{c}] + (ca.z * y[{c}] + ca.w * (f[{c}] - y[{c}]));
      }
#endunroll
      let mp = meanCentre(p, ca.y);
#unroll c D4
      y[{c}] = y[{c}] + cb.y * (f[{c}] + ca.y * mp[{c}]);
#endunroll
#else
      // xi_k: Philox counter step k + 1 (the start took step 0).
      let noise = noiseRowState(key, sample, step + 1u, STREAM);
#unroll c D4
      {
        let xi = samplePadding({c}, noiseBlockFromRow(noise, key, {c}));
        y[{c}] = y[{c}] + (ca.z * y[{c}] + ca.w * (ca.x * m[{c}] - y[{c}]) + cb.x * xi);
      }
#endunroll
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
