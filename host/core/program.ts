// What a kernel program declares: WGSL files, entry point, the specialisation
// that changes the generated code, and the bindings by name. Each feature
// declares its programs beside the runner that dispatches them; the pipeline
// cache checks the names and numbers against the WGSL's own declarations
// (host/core/wgsl-bindings.ts), so the host never binds by bare number.
import type { Specialisation } from './specialise.ts';

/** Where a binding sits; `when` names the flag under whose `#if` the WGSL declares it. */
export interface BindingSlot {
  readonly group: number;
  readonly binding: number;
  readonly when?: string;
}

export type Bindings<B extends string> = Readonly<Record<B, BindingSlot>>;

export interface Program<B extends string, P> {
  /** The entry point; it also names the program in errors. */
  readonly entry: string;
  readonly files: readonly string[];
  /** WGSL files that are not the engine's (shaders/), by name: a test probe's or a benchmark's kernel, which the package does not ship. */
  readonly sources?: Readonly<Record<string, string>>;
  /** Uniform struct declarations the files use (host/core/struct-layout.ts). */
  readonly structs: readonly string[];
  readonly bindings: Bindings<B>;
  specialise(params: P): Specialisation;
  /** Logged before a compilation that takes long enough for the user to wonder. */
  compileNote?(params: P): string | undefined;
}

export function slot(group: number, binding: number, when?: string): BindingSlot {
  return when === undefined ? { group, binding } : { group, binding, when };
}
/** From this many unrolled pairs (K d/4), or coordinate blocks (d = 256, the sampler), a first compilation on SwiftShader is long enough to warn of (docs/performance.md, 'Compile times'). */
export const SLOW_COMPILE_PAIRS = 384;
export const SLOW_COMPILE_D4 = 64;
