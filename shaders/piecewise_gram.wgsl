// The second pass of the piecewise moments (src/piecewise/gpu-moments.ts): for each segment of at most SEG rows of
// one cell (the host sorted the chunk's rows by cell into `order`), the outer-product sum
//   M = sum_rows e[0 .. 4 PF4) e[0 .. 4 EW)^T   of the rows piecewise_points.wgsl wrote,
// which holds the Gram sum phi phi^T, the cross sum phi y^T and (in the constant block) the count and sum ||y||^2.
// An invocation owns a 4 x 4 TH block of M (phi block fb, column blocks hb0 .. hb0 + TH) and adds its rows in order
// in float32, so each segment's partial is deterministic; the host adds the partials in float64.

@group(0) @binding(0) var<storage, read> points: array<vec4<f32>>;           // chunk rows x EW
@group(0) @binding(1) var<storage, read> order: array<u32>;                  // chunk rows, grouped by cell
@group(0) @binding(2) var<storage, read> segments: array<vec2<u32>>;         // (first index into order, rows)
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;   // per segment: PF4 x HQ invocations x 4 TH
@group(0) @binding(4) var<uniform> params: PiecewiseGramParams;

const HQ: u32 = EW / TH;             // column groups per phi block
const TILES: u32 = (PF4 * HQ + WG - 1u) / WG;  // workgroups per segment

@compute @workgroup_size(WG)
fn piecewiseGram(@builtin(local_invocation_index) lid: u32,
                 @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let group = wid.x + wid.y * nwg.x;
  let segment = group / TILES;
  let block = (group % TILES) * WG + lid;
  if (segment >= params.segments || block >= PF4 * HQ) {
    return;
  }
  let fb = block / HQ;
  let hb = (block % HQ) * TH;
  let s = segments[params.firstSegment + segment];
  // acc[4 k + r]: row r of the 4 x 4 block (fb, hb + k).
  var acc: array<vec4<f32>, 4u * TH>;
  for (var i = 0u; i < s.y; i++) {
    let base = order[s.x + i] * EW;
    let f = points[base + fb];
#unroll k TH
    {
      let h = points[base + hb + {k}];
      acc[4u * {k}] = fma(vec4<f32>(f.x), h, acc[4u * {k}]);
      acc[4u * {k} + 1u] = fma(vec4<f32>(f.y), h, acc[4u * {k} + 1u]);
      acc[4u * {k} + 2u] = fma(vec4<f32>(f.z), h, acc[4u * {k} + 2u]);
      acc[4u * {k} + 3u] = fma(vec4<f32>(f.w), h, acc[4u * {k} + 3u]);
    }
#endunroll
  }
  let out = (segment * PF4 * HQ + block) * 4u * TH;
#unroll k TH
  partials[out + 4u * {k}] = acc[4u * {k}];
  partials[out + 4u * {k} + 1u] = acc[4u * {k} + 1u];
  partials[out + 4u * {k} + 2u] = acc[4u * {k} + 2u];
  partials[out + 4u * {k} + 3u] = acc[4u * {k} + 3u];
#endunroll
}
