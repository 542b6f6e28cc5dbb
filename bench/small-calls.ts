// The small-call benchmark (docs/performance.md, 'Small calls'): the quick suite's schedules, whose many
// small Backend calls (5-step GD chunks, single EM steps) cost more per call than per step, timed per table
// row; and the full warm-start K = 64 row, per GD chunk (a whole run takes most of an hour on a software
// adapter). With --backend gpu,cpu the backends take turns experiment by experiment (which goes first
// alternates), so that both see the same load on a shared machine. Prints medians over --repeats runs, after
// --warmup untimed runs (the pipelines compile once per process), and writes them as JSON.
//
//   node bin/run-ts.js bench/small-calls.ts --backend gpu,cpu [--warmup 1] [--repeats 3] [--experiments two-stage,...]
//   node bin/run-ts.js bench/small-calls.ts --backend gpu,cpu --warm64 [--max-n 40960] [--chunks 4]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fitSchedule } from '../src/algorithms/index.ts';
import { warmStart } from '../src/algorithms/seeding.ts';
import { openBackend, requireBackendChoice } from '../src/backend-choice.ts';
import { EXPERIMENTS } from '../src/experiments/suite.ts';
import { generateMixture } from '../src/mixtures.ts';
import type { Backend } from '../src/backend.ts';
import '../src/node.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'gpu,cpu' },
    repeats: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    experiments: { type: 'string', default: 'two-stage,small-separation,warm-start,connections,annealed' },
    warm64: { type: 'boolean', default: false },
    'max-n': { type: 'string', default: '128000' },
    chunks: { type: 'string', default: '4' },
    out: { type: 'string' },
  },
});
const backends: Backend[] = [];
for (const choice of values.backend.split(',')) {
  requireBackendChoice(choice);
  backends.push(await openBackend(choice, (m) => console.error(m)));
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** The backends in turn, the first one alternating with the round. */
const inTurn = (round: number): Backend[] => backends.map((_, i) => backends[(((i + round) % backends.length) + backends.length) % backends.length]!);
const repeats = Number(values.repeats);
const result: Record<string, unknown> = { adapters: backends.map((b) => `${b.name}: ${b.adapter}`), date: new Date().toISOString(), argv: process.argv.slice(2) };
/** Seconds per key and backend name. */
const times = new Map<string, Map<string, number[]>>();
const record = (key: string, be: Backend, seconds: number): void => {
  const byBackend = times.get(key) ?? new Map<string, number[]>();
  byBackend.set(be.name, [...(byBackend.get(be.name) ?? []), seconds]);
  times.set(key, byBackend);
};

if (values.warm64) {
  // The suite's warm-start row at K = 64 (src/experiments/suite.ts, full settings): d = 64, N = 2000 K, C = 2.
  const k = 64, d = 64, sep = 2 * Math.sqrt(Math.log(k));
  const n = Math.min(2000 * k, Number(values['max-n']));
  const { data, truth } = generateMixture({ k, d, n, separation: sep, seed: 13 });
  const init = warmStart(truth, sep / 3, 5);
  const chunks = Number(values.chunks);
  for (let round = 0; round < repeats; round++) {
    for (const be of inTurn(round)) {
      // One chunk = the loop's one gdSteps call of logEvery = 5 steps; the first includes compiling the pipelines.
      let last = performance.now();
      let first = true;
      await fitSchedule(be, data, 'warm', { k, init, maxSteps: 5 * chunks, averageSteps: 0, tol: 1e-12 }, truth, {
        onProgress: () => {
          const now = performance.now();
          if (!first || round > 0) record(`warm-start K=64 d=64 N=${n}, one 5-step chunk`, be, (now - last) / 1000);
          first = false;
          last = now;
        },
      });
    }
  }
} else {
  const names = values.experiments.split(',');
  for (let round = -Number(values.warmup); round < repeats; round++) {
    for (const name of names) {
      for (const be of inTurn(round)) {
        const t0 = performance.now();
        const out = await EXPERIMENTS[name]!(be, { quick: true }, () => undefined);
        if (round < 0) continue;
        record(`${name} (whole experiment)`, be, (performance.now() - t0) / 1000);
        for (const row of out.rows) if (Number.isFinite(row.seconds)) record(`${row.experiment} | ${row.setting} | ${row.method}`, be, row.seconds);
      }
    }
  }
}
const table = [...times].map(([key, byBackend]) => ({
  key,
  medians: Object.fromEntries([...byBackend].map(([name, s]) => [name, median(s)])),
  runs: Object.fromEntries(byBackend),
}));
for (const t of table) console.log(`${t.key}: ${Object.entries(t.medians).map(([name, s]) => `${name} ${s.toFixed(3)} s`).join(', ')}`);
result['rows'] = table;
backends.forEach((b) => b.dispose());
mkdirSync('bench/results', { recursive: true });
const out = values.out ?? `bench/results/small-calls${values.warm64 ? '-warm64' : ''}.json`;
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
