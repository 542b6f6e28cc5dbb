// The CLI's side of --backend auto|gpu|cpu. The choice itself lives in src/backend-choice.ts; here the
// Node GPU engine is registered (by importing src/node.ts) only when a run may use it, so that CPU runs,
// generate and help do not load WebGPU.
import { describeBackend, openBackend, type BackendChoice, type BackendInfo } from '../backend-choice.ts';
import { DeviceError } from '../errors.ts';
import type { Backend } from '../backend.ts';

/** Registers the Node GPU engine for 'auto' and 'gpu'; returns the choice to open ('cpu' when auto cannot load it). */
export async function prepareBackend(choice: BackendChoice, log: (message: string) => void): Promise<BackendChoice> {
  if (choice === 'cpu') return choice;
  try {
    await import('../node.ts');
    return choice;
  } catch (e) {
    const why = `the WebGPU engine could not be loaded (${e instanceof Error ? e.message : String(e)})`;
    if (choice === 'gpu') throw new DeviceError(`${why}; run with --backend cpu instead`);
    log(`Using the CPU reference: ${why}.`);
    return 'cpu';
  }
}

/** Opens the backend a command asked for. */
export async function openCliBackend(choice: BackendChoice, log: (message: string) => void): Promise<Backend> {
  return openBackend(await prepareBackend(choice, log), log);
}

/** Messages about the backend go to stderr, except under --json where stderr stays quiet. */
export function stderrLog(json: boolean): (message: string) => void {
  return (message) => {
    if (!json) process.stderr.write(`${message}\n`);
  };
}

/** "gpu (NVIDIA H100 (vulkan))", "gpu (SwiftShader ... (software adapter))" or "cpu (CPU float64 reference)". */
export function backendText(info: BackendInfo): string {
  const note = info.software && !/software adapter/i.test(info.adapter) ? ', a software adapter' : '';
  return `${info.kind} (${info.adapter}${note})`;
}

/** The backend fields of a command's JSON output. */
export function backendJson(info: BackendInfo): { backend: 'gpu' | 'cpu'; adapter: string; software: boolean } {
  return { backend: info.kind, adapter: info.adapter, software: info.software };
}
