// The ddpm-gmm command line: dispatches to one file per command inside the error boundary of run.ts.
import { InputError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { demoCommand, DEMO_USAGE } from './demo.ts';
import { experimentCommand, EXPERIMENT_USAGE } from './experiment.ts';
import { fitCommand, FIT_USAGE } from './fit.ts';
import { generateCommand, GENERATE_USAGE } from './generate.ts';
import { gradCommand, GRAD_USAGE } from './grad.ts';
import { printLines } from './output.ts';
import { predictCommand, PREDICT_USAGE } from './predict.ts';
import { runCli } from './run.ts';
import { sampleCommand, SAMPLE_USAGE } from './sample.ts';

const USAGE = `Usage: ddpm-gmm <command> [flags]

Learns the centres of a Gaussian mixture by gradient descent on the DDPM objective, on WebGPU
or on a float64 CPU reference.

Commands:
  fit        learn K centres from a data file (ddpm-gmm fit --data X.npy --k 3 --out model.json),
             or the piecewise score model (ddpm-gmm fit --model piecewise --data X.npy --out model.json)
  predict    label new data with a fitted model (ddpm-gmm predict --model model.json --data X.npy)
  sample     draw samples from a fitted model by its score (ddpm-gmm sample --model model.json --n 1000 --out S.npy)
  generate   write a seeded synthetic mixture and its true centres
  grad       evaluate the DDPM loss and gradient at given centres
  demo       learn a default synthetic mixture from a warm start and report the error
  experiment run the reproduction suite (two-stage, small-separation, warm-start, connections, annealed)
             and the sampling experiments (sampler, learned-vs-true, langevin-vs-diffusion, sample-complexity)
  help [command]   show this text or a command's flags

--backend auto|gpu|cpu (fit, sample, grad, demo, experiment): auto (default) takes a hardware GPU, then a
software adapter, then the CPU reference; the output names the one used. --json prints JSON.
Files are .npy (float32/float64, 2-D, C order) or numeric CSV. Exit codes: 0 ok,
1 internal error, 2 bad input, 3 device problem, 4 training or sampling diverged.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  fit: { run: fitCommand, usage: FIT_USAGE },
  predict: { run: predictCommand, usage: PREDICT_USAGE },
  sample: { run: sampleCommand, usage: SAMPLE_USAGE },
  generate: { run: generateCommand, usage: GENERATE_USAGE },
  grad: { run: gradCommand, usage: GRAD_USAGE },
  demo: { run: demoCommand, usage: DEMO_USAGE },
  experiment: { run: experimentCommand, usage: EXPERIMENT_USAGE },
};

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined) {
      const entry = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
      if (!entry) throw new InputError(`unknown command '${topic}'; the commands are ${Object.keys(COMMANDS).join(', ')}`);
      return printLines([entry.usage]);
    }
    return printLines([USAGE]);
  }
  if (command === '--version' || command === '-V' || command === 'version') return printLines([VERSION]);
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    throw new InputError(
      `unknown command '${command}'; the commands are ${Object.keys(COMMANDS).join(', ')} (see 'ddpm-gmm --help')`,
    );
  }
  await entry.run(rest);
}

await runCli(() => main(process.argv.slice(2)));
