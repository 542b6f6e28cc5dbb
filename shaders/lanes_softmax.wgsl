// The responsibilities of one sample in the lane kernels (ddpm_lanes.wgsl, em_lanes.wgsl), unrolled over the K
// centres and the d/4 blocks so every index is a constant (docs/math.md section 3):
//   w_j = softmax_j(m_j . x - ||m_j||^2 / 2), the largest logit subtracted first, so nothing overflows.

// ||m_j||^2 / 2 for every centre, once per invocation.
fn laneHalfNorms() -> array<f32, KP> {
  var halfNorm: array<f32, KP>;
#unroll j K
  {
    var h = 0.0;
#unroll c D4
    h += dot(centres[{j} * D4 + {c}], centres[{j} * D4 + {c}]);
#endunroll
    halfNorm[{j}] = 0.5 * h;
  }
#endunroll
  return halfNorm;
}

// w <- the softmax of x's logits; returns log sum_j exp(logit_j) (EM's log-likelihood term).
fn laneResponsibilities(x: ptr<function, array<vec4<f32>, D4>>, halfNorm: ptr<function, array<f32, KP>>,
                        w: ptr<function, array<f32, KP>>) -> f32 {
  var mx = -3.0e38;
#unroll j K
  {
    var logit = -(*halfNorm)[{j}];
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
