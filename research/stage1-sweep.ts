// The measurement behind the two-stage schedule's stage-1 constants c1 (t1 = c1 ln d) and gain (eta1 =
// gain / (a_t1^2 R_eff^2); docs/experiments.md, 'Measurements behind the defaults'): for each c1, gain, d and
// ||mu*||, stage 1 of the two-stage schedule on a seeded K = 2 mixture (stage 2 cut to one step and no
// averaging, so only stage 1 costs time), reporting the angle cosine with mu* at which stage 1 stopped, its
// steps, the spectral gap sin(m, v) and seconds. --full runs the whole schedule at its defaults instead and adds
// the final error (max matched centre error); --schedule projected (or unprojected: the projected schedule with
// R = 10^6, as in the suite's small-separation experiment) runs that schedule whole, with its final error.
// --data-seed takes a list: one row per seed. One row per run, printed as it finishes; --json prints them as
// JSON lines instead.
//
//   node bin/run-ts.js research/stage1-sweep.ts [--backend cpu] [--c1 0.25,0.5] [--gain 0.25] [--d 2,16,64,256,1024]
//        [--norm 2,3,5] [--n-per-d 400] [--min-n 20000] [--max-n 40960] [--data-seed 11] [--seed 1]
//        [--schedule two-stage|projected|unprojected] [--full] [--json]
import { parseArgs } from 'node:util';
import { fitSchedule } from '../src/algorithms/index.ts';
import { openBackend } from '../src/backend-choice.ts';
import '../src/node.ts';
import { generateMixture } from '../src/mixtures.ts';
import { centreError } from '../src/centre-error.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    c1: { type: 'string', default: '0.25,0.5' },
    gain: { type: 'string', default: '0.25' },
    schedule: { type: 'string', default: 'two-stage' },
    full: { type: 'boolean', default: false },
    d: { type: 'string', default: '2,16,64,256,1024' },
    norm: { type: 'string', default: '2,3,5' },
    'n-per-d': { type: 'string', default: '400' },
    'min-n': { type: 'string', default: '20000' },
    'max-n': { type: 'string', default: '40960' },
    'data-seed': { type: 'string', default: '11' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const list = (s: string): number[] => s.split(',').map(Number);
const [perD, minN, maxN] = [Number(values['n-per-d']), Number(values['min-n']), Number(values['max-n'])];
const backend = await openBackend(values.backend === 'gpu' ? 'gpu' : 'cpu', (m) => process.stderr.write(`${m}\n`));
const schedule = values.schedule!;
if (!['two-stage', 'projected', 'unprojected'].includes(schedule)) throw new Error(`--schedule must be two-stage, projected or unprojected, got ${schedule}`);
const whole = values.full || schedule !== 'two-stage';
if (!values.json) console.log(`c1     gain   d     N       |mu*|  seed  stage-1 cos  steps  gap     ${whole ? 'error    ' : ''}seconds`);
for (const c1 of list(values.c1!)) {
  for (const gain of list(values.gain!)) {
    for (const d of list(values.d!)) {
      for (const norm of list(values.norm!)) {
        for (const dataSeed of list(values['data-seed']!)) {
          const n = Math.min(maxN, Math.max(minN, perD * d));
          const { data, truth } = generateMixture({ k: 2, d, n, separation: 2 * norm, seed: dataSeed });
          const t0 = performance.now();
          const base = { k: 2, seed: Number(values.seed), c1, stage1Gain: gain };
          const r =
            schedule === 'two-stage'
              ? await fitSchedule(backend, data, 'two-stage', whole ? base : { ...base, maxSteps: 1, averageSteps: 0 }, truth)
              : await fitSchedule(backend, data, 'projected', schedule === 'unprojected' ? { ...base, radius: 1e6 } : base, truth);
          const seconds = (performance.now() - t0) / 1000;
          const stage1 = schedule === 'two-stage' ? 'stage 1' : 'projected';
          const s1 = r.history.filter((h) => h.stage === stage1);
          const last = s1[s1.length - 1]!;
          const error = whole ? centreError(r.means, truth).max : undefined;
          const row = { c1, gain, d, n, norm, dataSeed, cos: last.angle!, steps: r.stages[0]!.steps, gap: last.directionGap!, error, seconds };
          if (values.json) console.log(JSON.stringify(row));
          else {
            console.log(
              [
                c1.toFixed(2).padEnd(6),
                String(gain).padEnd(6),
                String(d).padEnd(5),
                String(n).padEnd(7),
                String(norm).padEnd(6),
                String(dataSeed).padEnd(5),
                row.cos.toFixed(4).padEnd(12),
                String(row.steps).padEnd(6),
                row.gap.toFixed(3).padEnd(7),
                ...(error !== undefined ? [error.toPrecision(4).padEnd(8)] : []),
                seconds.toFixed(1),
              ].join(' '),
            );
          }
        }
      }
    }
  }
}
backend.dispose();
