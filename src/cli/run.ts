// The CLI's error boundary: typed errors become one line on stderr and an exit code.
import { DeviceError, DivergenceError, InputError } from '../errors.ts';

/** Exit codes: 0 success, 1 internal error, 2 bad input, 3 device problem, 4 divergence. */
export const EXIT = { ok: 0, internal: 1, input: 2, device: 3, divergence: 4 } as const;

/** One line: user-facing messages must not spill over several lines of stderr. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Maps an error to its stderr line and exit code. */
export function describeError(e: unknown): { line: string; code: number } {
  if (e instanceof InputError) return { line: `ddpm-gmm: error: ${oneLine(e.message)}`, code: EXIT.input };
  if (e instanceof DeviceError) return { line: `ddpm-gmm: error: ${oneLine(e.message)}`, code: EXIT.device };
  if (e instanceof DivergenceError) return { line: `ddpm-gmm: error: ${oneLine(e.message)}`, code: EXIT.divergence };
  const msg = e instanceof Error ? e.message : String(e);
  return {
    line: `ddpm-gmm: internal error: ${oneLine(msg)} (set DDPM_GMM_DEBUG=1 for the stack trace)`,
    code: EXIT.internal,
  };
}

/** Re-raises a divergence with advice in the CLI's flags: the step size that diverged, when the run had one. */
export function divergenceAdvice(e: DivergenceError, lr: number | undefined): DivergenceError {
  const what = 'the loss or the centres became NaN or infinite';
  const advice = lr !== undefined ? ` with --lr ${lr}: ${what}; use a smaller --lr, e.g. ${Number((lr / 10).toPrecision(6))}` : `: ${what}; give a smaller step size with --lr`;
  return new DivergenceError(e.step, `training diverged at step ${e.step} (0-based)${advice}`);
}

/** Writes to a stream and resolves once the data is flushed, so process.exit loses nothing. */
export function writeFlushed(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text.length === 0) resolve();
    else stream.write(text, () => resolve());
  });
}

/** Runs the CLI body, reports any error, and exits with the matching code. */
export async function runCli(body: () => Promise<void>): Promise<never> {
  // A reader that closed the pipe (| head) wants no more: end quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    process.stderr.write(`ddpm-gmm: error: cannot write to standard output (${e.message}); check where the output goes\n`);
    process.exit(EXIT.input);
  });
  let code: number = EXIT.ok;
  try {
    await body();
  } catch (e) {
    const { line, code: c } = describeError(e);
    code = c;
    if (process.env['DDPM_GMM_DEBUG'] === '1' && e instanceof Error && e.stack) {
      await writeFlushed(process.stderr, `${e.stack}\n`);
    }
    await writeFlushed(process.stderr, `${line}\n`);
  }
  await writeFlushed(process.stdout, '');
  // Exit explicitly: a WebGPU device can keep the event loop alive after dispose.
  process.exit(code);
}
