// The standard step in PyTorch on the CPU (bench/pytorch_step.py), run from the Node bench so that both figures
// come from the same run. Skipped, with the reason, when python3 or its torch module is missing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export type PytorchFigure =
  | { readonly ran: true; readonly torch: string; readonly threads: number; readonly secondsPerStep: number; readonly sampleGradsPerSec: number }
  | { readonly ran: false; readonly reason: string };

export function pytorchStep(problem: { n: number; d: number; k: number; steps: number; warmup: number }): PytorchFigure {
  const script = join(import.meta.dirname, 'pytorch_step.py');
  const args = [script, '--n', problem.n, '--d', problem.d, '--k', problem.k, '--steps', problem.steps, '--warmup', problem.warmup].map(String);
  // $PYTHON if set; else python3 on the PATH, then Debian's, which is where apt-get install python3-torch puts torch.
  const pythons = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  let run = spawnSync(pythons[0]!, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  for (const python of pythons.slice(1)) {
    if (run.status === 0) break;
    run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  }
  if (run.error) return { ran: false, reason: `python3 could not be run (${run.error.message})` };
  if (run.status !== 0) {
    const why = run.stderr.includes("No module named 'torch'") ? 'no python3 with a torch module (apt-get install python3-torch, or set PYTHON)' : run.stderr.trim().split('\n').pop();
    return { ran: false, reason: why ?? `python3 exited with ${run.status}` };
  }
  const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; secondsPerStep: number; sampleGradsPerSec: number };
  return { ran: true, torch: out.torch, threads: out.threads, secondsPerStep: out.secondsPerStep, sampleGradsPerSec: out.sampleGradsPerSec };
}
