// The first pass of the piecewise moments (src/piecewise/gpu-moments.ts; src/piecewise/moments.ts): per data row n
// of the chunk, the noisy point x_t = a x0 + sigma z with z from Philox (stream STREAM, counter step
// params.step, row chunkBase + n: the CPU's noiseRowInto), its nearest cell j, and the row the Gram pass
// multiplies out, in vec4 blocks of EW per row:
//   [u (D4), u * u (D4, QUADRATIC only), (1, ||y||^2, 0, 0), y (D4), zeros up to EW]   u = x_t - c_j, y = -z / sigma.
// The first PF4 blocks are phi(u) (with ||y||^2 riding in the constant block, so that the same outer products
// give the sum of ||y||^2); the cell j goes to `assignment`, which the host sorts rows by.

@group(0) @binding(0) var<storage, read> data: array<vec4<f32>>;              // this chunk, rows x D4
@group(0) @binding(2) var<storage, read_write> points: array<vec4<f32>>;      // rows x EW
@group(0) @binding(3) var<storage, read_write> assignment: array<u32>;        // rows
@group(0) @binding(4) var<uniform> params: PiecewisePointParams;

// Rows lane, lane + lanes, ...: one per invocation on GPUs, a few invocations walking all rows on software
// adapters (a fixed set-up per invocation there; src/sampling/gpu-sampler.ts). Folded 2-D grids count as one.
@compute @workgroup_size(WG)
fn piecewisePoints(@builtin(local_invocation_index) lid: u32,
                   @builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
  let lanes = nwg.x * nwg.y * WG;
  let key = vec2<u32>(params.seedLo, params.seedHi);
  for (var row = (wid.x + wid.y * nwg.x) * WG + lid; row < params.rows; row += lanes) {
    let noise = noiseRowState(key, params.chunkBase + row, params.step, STREAM);
    var x: array<vec4<f32>, D4>;
    var y: array<vec4<f32>, D4>;
    var yy = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) {  // not unrolled: see the noise loop of ddpm_lanes.wgsl
      let z = cellPadding(c, noiseBlockFromRow(noise, key, c));
      x[c] = params.a * data[row * D4 + c] + params.sigma * z;
      y[c] = -z * params.invSigma;
      yy += y[c] * y[c];
    }
    let j = nearestCell(x, 0u, params.cells);
    assignment[row] = j;
    let base = row * EW;
#unroll c D4
    {
      let u = x[{c}] - cells[j * D4 + {c}];
      points[base + {c}] = u;
#if ${QUADRATIC}
      points[base + D4 + {c}] = u * u;
#endif
      points[base + PF4 + {c}] = y[{c}];
    }
#endunroll
    points[base + PF4 - 1u] = vec4<f32>(1.0, (yy.x + yy.y) + (yy.z + yy.w), 0.0, 0.0);
    for (var c = PF4 + D4; c < EW; c++) {
      points[base + c] = vec4<f32>(0.0);
    }
  }
}
