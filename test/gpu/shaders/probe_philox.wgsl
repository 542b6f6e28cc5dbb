// Raw Philox4x32 words for given counters, keys and round counts: the known-answer test
// on the GPU. Compiled together with philox.wgsl.

@group(0) @binding(0) var<storage, read> philoxInput: array<vec4<u32>>;   // pairs: counter, (key.x, key.y, rounds, 0)
@group(0) @binding(1) var<storage, read_write> philoxOutput: array<vec4<u32>>;

@compute @workgroup_size(64)
fn philoxProbe(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&philoxOutput)) {
    return;
  }
  let keyRounds = philoxInput[2u * i + 1u];
  philoxOutput[i] = philox4x32(philoxInput[2u * i], keyRounds.xy, keyRounds.z);
}
