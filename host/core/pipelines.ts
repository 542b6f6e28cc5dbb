// The pipeline cache, keyed by the specialisation (docs/architecture.md, TF.js anchor), and
// bind groups built by binding name. A program's bindings are checked against
// its specialised WGSL when its pipeline is first built.
import type { Bindings, Program } from './program.ts';
import { moduleCode, specialisationKey, specialiseFiles } from './specialise.ts';
import { checkBindings, ShaderBindingError } from './wgsl-bindings.ts';

export interface CompiledProgram<B extends string> {
  readonly entry: string;
  readonly bindings: Bindings<B>;
  readonly pipeline: GPUComputePipeline;
}

export class PipelineCache {
  private readonly cache = new Map<string, CompiledProgram<string>>();
  /** Compiler errors of the modules built so far (filled asynchronously), to explain a rejected submission. */
  private readonly compileErrors: string[] = [];
  private readonly compilations: Promise<void>[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly sources: Readonly<Record<string, string>>,
    private readonly log: (message: string) => void,
  ) {}

  get<B extends string, P>(program: Program<B, P>, params: P): CompiledProgram<B> {
    const spec = program.specialise(params);
    const key = specialisationKey(program.entry, program.files, spec);
    const cached = this.cache.get(key);
    if (cached) return cached as CompiledProgram<B>;
    const note = program.compileNote?.(params);
    if (note !== undefined) this.log(note);
    const sections = specialiseFiles(program.files, program.sources ? { ...this.sources, ...program.sources } : this.sources, spec);
    checkBindings(program, spec.flags, sections);
    // In an error scope: a pipeline the compiler rejects (a private array over its limit) reports here, in
    // compilerErrors(), rather than as an uncaptured error that Dawn in Node prints on stdout.
    this.device.pushErrorScope('internal');
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: moduleCode(sections, spec, program.structs), label: key });
    this.compilations.push(module.getCompilationInfo().then((info) => {
      for (const m of info.messages) {
        if (m.type === 'error') this.compileErrors.push(`${program.entry} (${program.files.join(' + ')}), line ${m.lineNum}: ${m.message}`);
      }
    }, () => undefined));
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: program.entry }, label: key });
    const scopes = [this.device.popErrorScope(), this.device.popErrorScope()];
    this.compilations.push(Promise.all(scopes).then((errors) => {
      for (const e of errors) if (e) this.compileErrors.push(`${program.entry} (${program.files.join(' + ')}): ${e.message}`);
    }, () => undefined));
    const compiled: CompiledProgram<B> = { entry: program.entry, bindings: program.bindings, pipeline };
    this.cache.set(key, compiled);
    return compiled;
  }

  /**
   * Sets the bind groups of one dispatch from buffers by binding name. Give exactly the bindings the
   * entry point uses: the pipeline's layout is 'auto', which leaves out the ones it does not.
   */
  bind<B extends string>(pass: GPUComputePassEncoder, program: CompiledProgram<B>, buffers: Partial<Record<B, GPUBuffer>>): void {
    const groups = new Map<number, GPUBindGroupEntry[]>();
    for (const [name, buffer] of Object.entries(buffers) as [B, GPUBuffer | undefined][]) {
      if (buffer === undefined) continue;
      const slot = program.bindings[name];
      if (slot === undefined) throw new ShaderBindingError(`program ${program.entry} has no binding named '${name}': bind one of ${Object.keys(program.bindings).join(', ')}`);
      const entries = groups.get(slot.group) ?? [];
      entries.push({ binding: slot.binding, resource: { buffer } });
      groups.set(slot.group, entries);
    }
    for (const [group, entries] of groups) {
      pass.setBindGroup(group, this.device.createBindGroup({ layout: program.pipeline.getBindGroupLayout(group), entries }));
    }
  }

  /** The shader compiler's error messages so far, once every compilation has reported. */
  async compilerErrors(): Promise<readonly string[]> {
    await Promise.all(this.compilations);
    return this.compileErrors;
  }
}
