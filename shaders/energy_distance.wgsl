// The sum of all pairwise distances sum_ij ||a_i - b_j|| behind the energy distance (docs/math.md
// section 11). A workgroup takes WG x ROWS rows of A (ROWS per invocation, in registers) against one
// segment of B's rows and writes one partial: each row's chain, then the invocation's rows, then the
// threads' sums, each added in a fixed order. The host adds the partials in float64 in a fixed order
// (src/metrics/gpu-energy-distance.ts), so the same inputs give the same bits.
// TILED (GPUs): B's rows pass through workgroup memory in tiles of TB rows. Otherwise (software
// adapters, where a workgroup-memory load at a run-time index is a per-lane gather and a barrier a
// coroutine switch) each invocation reads B's rows from storage, once per ROWS rows of A.

@group(0) @binding(0) var<storage, read> rowsA: array<vec4<f32>>;       // this chunk of A, rows x D4
@group(0) @binding(1) var<storage, read> rowsB: array<vec4<f32>>;       // this chunk of B, rows x D4
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;    // one per workgroup
@group(0) @binding(3) var<uniform> params: PairParams;

#if ${TILED}
var<workgroup> tileB: array<vec4<f32>, TB * D4>;
#endif
var<workgroup> threadSums: array<f32, WG>;

@compute @workgroup_size(WG)
fn pairDistanceSums(@builtin(local_invocation_index) lid: u32,
                    @builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
  // Dispatches over 65,535 workgroups are folded into 2-D grids by the host.
  let group = wid.x + wid.y * nwg.x;
  if (group >= params.blocks * params.segments) {
    return;
  }
  let segment = group % params.segments;
  // Row r of this invocation is first + r * WG: a block is WG x ROWS consecutive rows.
  let first = params.firstRowA + (group / params.segments) * (WG * ROWS) + lid;
  var a: array<vec4<f32>, ROWS * D4>;
  var rowTotals: array<f32, ROWS>;
#unroll r ROWS
  {
    let source = min(first + {r} * WG, params.rowsA - 1u);
#unroll c D4
    a[{r} * D4 + {c}] = rowsA[source * D4 + {c}];
#endunroll
  }
#endunroll
  let start = segment * params.segmentRows;
  let end = min(start + params.segmentRows, params.rowsB);
  var b: array<vec4<f32>, D4>;
  for (var tileStart = start; tileStart < end; tileStart += TB) {
    let count = min(TB, end - tileStart);
#if ${TILED}
    workgroupBarrier();
    for (var item = lid; item < count * D4; item += WG) {
      tileB[item] = rowsB[tileStart * D4 + item];
    }
    workgroupBarrier();
#endif
    for (var j = 0u; j < count; j++) {
#unroll c D4
#if ${TILED}
      b[{c}] = tileB[j * D4 + {c}];
#else
      b[{c}] = rowsB[(tileStart + j) * D4 + {c}];
#endif
#endunroll
#unroll r ROWS
      {
        var squares = vec4<f32>(0.0);
#unroll c D4
        {
          let diff = a[{r} * D4 + {c}] - b[{c}];
          squares += diff * diff;
        }
#endunroll
        rowTotals[{r}] += sqrt(squares.x + squares.y + squares.z + squares.w);
      }
#endunroll
    }
  }
  var total = 0.0;
#unroll r ROWS
  total += select(0.0, rowTotals[{r}], first + {r} * WG < params.rowsA);
#endunroll
  threadSums[lid] = total;
  workgroupBarrier();
  if (lid == 0u) {
    var sum = 0.0;
    for (var i = 0u; i < WG; i++) {
      sum += threadSums[i];
    }
    partials[params.partialBase + group] = sum;
  }
}
