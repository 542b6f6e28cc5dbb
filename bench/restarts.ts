// Restarts one after another against restarts together (docs/performance.md, 'Restarts in one pass'): the
// estimator's fit with nInit = R on the default schedule, once with the backend's runsPerPass forced to 1 (R
// sequential restarts, today's path on a backend whose pass holds one run) and once as the backend allows (the
// CPU reference: all R in one pass per step). Both orders alternate over --repeats, and the kept means must
// agree bit for bit (the runs are the same numbers). Medians of wall seconds, written as JSON.
//
//   node bin/run-ts.js bench/restarts.ts [--backend cpu,gpu] [--k 8] [--d 6] [--n 8000] [--restarts 10] [--repeats 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openBackend, requireBackendChoice } from '../src/backend-choice.ts';
import { DdpmGmm } from '../src/estimator.ts';
import { generateMixture } from '../src/mixtures.ts';
import type { Backend } from '../src/backend.ts';
import '../src/node.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu,gpu' },
    k: { type: 'string', default: '8' },
    d: { type: 'string', default: '6' },
    n: { type: 'string', default: '8000' },
    restarts: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/restarts-latest.json' },
  },
});
const [k, d, n, R, repeats] = [values.k, values.d, values.n, values.restarts, values.repeats].map(Number) as [number, number, number, number, number];
const { data } = generateMixture({ k, d, n, separation: 5, seed: 7 });

/** The backend with its pass holding one run: the estimator then runs the restarts one after another. */
function oneAtATime(backend: Backend): Backend {
  return new Proxy(backend, {
    get: (t, key) => {
      if (key === 'runsPerPass') return () => 1;
      const v: unknown = Reflect.get(t, key, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Record<string, unknown>[] = [];
for (const choice of values.backend.split(',')) {
  requireBackendChoice(choice);
  const backend = await openBackend(choice, (m) => console.error(m));
  const fit = async (b: Backend): Promise<{ seconds: number; means: Float64Array; together: number }> => {
    const model = new DdpmGmm({ nComponents: k, backend: b, nInit: R, seed: 1, noiseSeed: 1 });
    const start = performance.now();
    const out = await model.fit(data);
    return { seconds: (performance.now() - start) / 1000, means: out.means.data, together: out.restarts?.together ?? 1 };
  };
  await fit(backend); // compiles the pipelines and warms the JIT
  const seq: number[] = [];
  const tog: number[] = [];
  let together = 1;
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 ? ['together', 'sequential'] : ['sequential', 'together'];
    const got: Record<string, Float64Array> = {};
    for (const which of order) {
      const out = await fit(which === 'sequential' ? oneAtATime(backend) : backend);
      (which === 'sequential' ? seq : tog).push(out.seconds);
      got[which] = out.means;
      if (which === 'together') together = out.together;
    }
    if (got['sequential']!.some((v, i) => !Object.is(v, got['together']![i]))) throw new Error(`${choice}: the kept means differ between the two paths`);
  }
  const row = { backend: choice, adapter: backend.adapter, k, d, n, restarts: R, together, sequentialSeconds: median(seq), togetherSeconds: median(tog), speedup: median(seq) / median(tog) };
  console.log(JSON.stringify(row));
  rows.push(row);
  backend.dispose();
}
const command = `node bin/run-ts.js bench/restarts.ts --backend ${values.backend} --k ${k} --d ${d} --n ${n} --restarts ${R} --repeats ${repeats}`;
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out, JSON.stringify({ command, rows }, null, 2) + '\n');
console.log(`| backend | K | d | N | R | together | R one after another (s) | R together (s) | speedup |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.backend} | ${k} | ${d} | ${n} | ${R} | ${r.together} | ${(r.sequentialSeconds as number).toFixed(2)} | ${(r.togetherSeconds as number).toFixed(2)} | ${(r.speedup as number).toFixed(2)}x |`);
