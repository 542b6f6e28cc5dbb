// The Voronoi cells of the piecewise score model (docs/math.md section 13; src/piecewise/types.ts): the
// nearest cell centre of a point, shared by the moment pass (piecewise_points.wgsl) and the sampler
// (piecewise_sample.wgsl). Loops over d/4 are #unroll blocks (UNROLL: unrolled on software adapters).

@group(0) @binding(1) var<storage, read> cells: array<vec4<f32>>;  // cell centres, rows of D4; padding 0

// Coordinates of the last block beyond D are padding: their noise must stay 0, so the point's padding does.
fn cellPadding(c4: u32, v: vec4<f32>) -> vec4<f32> {
  let lane = vec4<u32>(4u * c4) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), v, lane < vec4<u32>(D));
}

// argmin_j ||x - c_{first + j}||^2 over j < count in float32; a later cell wins only when strictly nearer, so
// ties go to the lower index as on the CPU (nearestCell). The index is relative to `first`.
fn nearestCell(x: array<vec4<f32>, D4>, first: u32, count: u32) -> u32 {
  var best = 0u;
  var bestSq = 0.0;
  for (var j = 0u; j < count; j++) {
    let row = (first + j) * D4;
    var squares = vec4<f32>(0.0);
#unroll c D4
    {
      let diff = x[{c}] - cells[row + {c}];
      squares += diff * diff;
    }
#endunroll
    let sq = (squares.x + squares.y) + (squares.z + squares.w);
    if (j == 0u || sq < bestSq) {
      bestSq = sq;
      best = j;
    }
  }
  return best;
}
