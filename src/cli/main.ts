// The ddpm-gmm command line: dispatches to one file per command inside the error boundary of run.ts.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { demoCommand, DEMO_USAGE } from './demo.ts';
import { experimentCommand, EXPERIMENT_USAGE } from './experiment.ts';
import { fitCommand, FIT_USAGE } from './fit.ts';
import { generateCommand, GENERATE_USAGE } from './generate.ts';
import { gradCommand, GRAD_USAGE } from './grad.ts';
import { printLines } from './output.ts';
import { runCli } from './run.ts';

const USAGE = `Usage: ddpm-gmm <command> [flags]

Learns Gaussian-mixture centres by gradient descent on the DDPM objective (WebGPU,
with a float64 CPU reference: --backend cpu).

Commands:
  demo       learn a default synthetic mixture from a warm start and report the error (npm start)
  generate   write a seeded synthetic mixture and its true centres
  grad       evaluate the DDPM loss and gradient at given centres
  fit        run gradient descent on the DDPM objective (the paper's Algorithm 1), its schedules or EM
  experiment run the reproduction suite (two-stage, small-separation, warm-start, connections, annealed)
  help [command]   show this text or a command's flags

Flags common to grad, fit and demo: --backend gpu|cpu (default gpu), --json.
Files are .npy (float32/float64, 2-D, C order) or numeric CSV. Exit codes: 0 ok,
1 internal error, 2 bad input, 3 device problem, 4 training diverged.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  demo: { run: demoCommand, usage: DEMO_USAGE },
  generate: { run: generateCommand, usage: GENERATE_USAGE },
  grad: { run: gradCommand, usage: GRAD_USAGE },
  fit: { run: fitCommand, usage: FIT_USAGE },
  experiment: { run: experimentCommand, usage: EXPERIMENT_USAGE },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf-8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined) {
      const entry = COMMANDS[topic];
      if (!entry) throw new InputError(`unknown command '${topic}'; the commands are ${Object.keys(COMMANDS).join(', ')}`);
      return printLines([entry.usage]);
    }
    return printLines([USAGE]);
  }
  if (command === '--version' || command === '-V' || command === 'version') return printLines([version()]);
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    throw new InputError(
      `unknown command '${command}'; the commands are ${Object.keys(COMMANDS).join(', ')} (see 'ddpm-gmm --help')`,
    );
  }
  await entry.run(rest);
}

await runCli(() => main(process.argv.slice(2)));
