// The CLI as a user runs it, for the tests in test/cli: bin/dev.js (the sources through tsx; test/package runs the
// compiled bin) in a child process, with its exit code and both streams, never throwing.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'dev.js');
const run = promisify(execFile);

export async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, DDPM_GMM_DEBUG: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
