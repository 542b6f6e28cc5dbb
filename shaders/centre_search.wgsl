// The nearest centre of a sample (Euclidean, float32), shared by the mode weights' counts (mode_weights.wgsl) and
// the hard assignments (nearest_centres.wgsl), so that both pick the same centre for the same row. The samples and
// centres are declared here, at the slots both entry points bind them to.

@group(0) @binding(0) var<storage, read> samples: array<vec4<f32>>;     // this chunk, rows x D4; padding 0
@group(0) @binding(1) var<storage, read> centres: array<vec4<f32>>;     // K x D4; padding 0

// argmin_j ||x - mu_j||^2 over j < k for sample `row` of the chunk. A later centre wins only when strictly nearer,
// so ties go to the lower index as on the CPU (src/metrics/cpu.ts nearestCentres).
fn nearestCentre(row: u32, k: u32) -> u32 {
  var best = 0u;
  var bestSq = 0.0;
  for (var j = 0u; j < k; j++) {
    var squares = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) {
      let diff = samples[row * D4 + c] - centres[j * D4 + c];
      squares += diff * diff;
    }
    let sq = (squares.x + squares.y) + (squares.z + squares.w);
    if (j == 0u || sq < bestSq) {
      bestSq = sq;
      best = j;
    }
  }
  return best;
}
