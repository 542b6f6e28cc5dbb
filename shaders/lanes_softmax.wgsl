// The responsibilities of one sample in the lane kernels (ddpm_lanes.wgsl, em_lanes.wgsl), unrolled over the K
// centres and the d/4 blocks so every index is a constant (docs/math.md section 3):
//   w_j = softmax_j(m_j . x - ||m_j||^2 / 2), the largest logit subtracted first, so nothing overflows.

// The half norms live in one of two places, by the lane plan (host/train/kernel-plan.ts). 'unrolled' and 'paced': a
// private array filled once per invocation (laneHalfNorms), read at constant indices. 'centre-loop': workgroup
// memory (shareHalfNorms), read at the centre loop's run-time index.
#if ${SHARED_NORMS}
var<workgroup> sharedHalfNorms: array<f32, KP>;

// The workgroup's invocations share the K half norms out, then wait for all of them. Call in uniform control flow.
fn shareHalfNorms(local: u32) {
  for (var j = local; j < K; j += WG) {
    var h = 0.0;
#unroll c D4
    h += dot(centres[j * D4 + {c}], centres[j * D4 + {c}]);
#endunroll
    sharedHalfNorms[j] = 0.5 * h;
  }
  workgroupBarrier();
}
#endif

// The lane kernels walk the rows in rounds: in each, every invocation of the dispatch takes one row (or none, in
// the last). With ROW_BARRIER (the 'paced' plan) the workgroup meets a barrier at the start of each round; on
// SwiftShader this cuts the first compilation of the unrolled code, at some cost per sample
// (docs/performance.md, 'Compile times'). A barrier needs uniform control flow, hence whole rounds for everyone.
fn laneRounds(lanes: u32) -> u32 {
  return (params.rows + lanes - 1u) / lanes;
}

fn paceRound() {
#if ${ROW_BARRIER}
  workgroupBarrier();
#endif
}

// ||m_j||^2 / 2 for every centre, once per invocation. With SHARED_NORMS they go to workgroup memory instead and
// the array returned stays 0 (not read). Call in uniform control flow.
fn laneHalfNorms(local: u32) -> array<f32, KP> {
  var halfNorm: array<f32, KP>;
#if ${SHARED_NORMS}
  shareHalfNorms(local);
#else
#unroll j K
  {
    var h = 0.0;
#unroll c D4
    h += dot(centres[{j} * D4 + {c}], centres[{j} * D4 + {c}]);
#endunroll
    halfNorm[{j}] = 0.5 * h;
  }
#endunroll
#endif
  return halfNorm;
}

// One invocation's partial, in the layout reduce.wgsl adds: the KP x D4 sums, the K column sums, then one scalar
// (the loss or the log-likelihood).
fn writeLanePartial(lane: u32, sums: ptr<function, array<vec4<f32>, KP * D4>>, colsum: ptr<function, array<f32, KP>>, scalar: f32) {
  let base = (params.partialBase + lane) * PARTIAL_STRIDE4;
  for (var e = 0u; e < KP * D4; e++) {
    partials[base + e] = (*sums)[e];
  }
  for (var jb = 0u; jb < K4; jb++) {
    partials[base + KP * D4 + jb] = vec4<f32>((*colsum)[4u * jb], (*colsum)[4u * jb + 1u], (*colsum)[4u * jb + 2u], (*colsum)[4u * jb + 3u]);
  }
  partials[base + KP * D4 + K4] = vec4<f32>(scalar, 0.0, 0.0, 0.0);
}

// w <- the softmax of x's logits; returns log sum_j exp(logit_j) (EM's log-likelihood term). With SHARED_NORMS,
// halfNorm is not read (the norms are in sharedHalfNorms).
fn laneResponsibilities(x: ptr<function, array<vec4<f32>, D4>>, halfNorm: ptr<function, array<f32, KP>>,
                        w: ptr<function, array<f32, KP>>) -> f32 {
  var mx = -3.0e38;
#unroll j K
  {
#if ${SHARED_NORMS}
    var logit = -sharedHalfNorms[{j}];
#else
    var logit = -(*halfNorm)[{j}];
#endif
#unroll c D4
    logit += dot(centres[{j} * D4 + {c}], (*x)[{c}]);
#endunroll
    (*w)[{j}] = logit;
    mx = max(mx, logit);
  }
#endunroll
  var total = 0.0;
#unroll j K
  (*w)[{j}] = exp((*w)[{j}] - mx);
  total += (*w)[{j}];
#endunroll
  let inv = 1.0 / total;
#unroll j K
  (*w)[{j}] *= inv;
#endunroll
  return mx + log(total);
}
