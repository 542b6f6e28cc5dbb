// The default fit for K > 2 against scikit-learn's EM (docs/experiments.md, 'The default for K > 2'): on
// familyMixture test mixtures (src/mixtures.ts), each variant of the ddpm fit and GaussianMixture(spherical,
// n_init 1 and 10), success (every true centre within a third of the separation), wall time and steps side by
// side. A variant is a JSON object of DdpmGmm options (default: none, the estimator's defaults).
//
//   node bin/run-ts.js research/default-fit.ts [--families crowded,separated --seeds 101,102 --backends cpu,gpu
//     --variants '[{}, {"screenStarts": 10}]' --no-sklearn --em]
// --em adds the project's own EM from one k-means++ seed, with its iteration count (the steps' yardstick).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGpuBackend } from '../host/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { DdpmGmm, type DdpmGmmOptions } from '../src/estimator.ts';
import { serializeNpy } from '../src/io/npy.ts';
import { centresFound, familyMixture, type MixtureFamily } from '../src/mixtures.ts';
import { matrix, type Matrix } from '../src/types.ts';
import type { Backend } from '../src/backend.ts';

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'crowded,separated' },
    seeds: { type: 'string', default: '101,102,103' },
    backends: { type: 'string', default: 'cpu' },
    variants: { type: 'string', default: '[{}]' },
    'no-sklearn': { type: 'boolean', default: false },
    em: { type: 'boolean', default: false },
  },
});
const families = values.families.split(',') as MixtureFamily[];
const seeds = values.seeds.split(',').map(Number);
const variants = JSON.parse(values.variants) as Partial<DdpmGmmOptions>[];
const backends: [string, Backend][] = [];
for (const b of values.backends.split(',')) backends.push([b, b === 'gpu' ? await createGpuBackend() : new CpuBackend()]);

function sklearn(path: string, k: number, nInit: number): { means: Matrix; seconds: number; nIter: number } | undefined {
  if (values['no-sklearn']) return undefined;
  const out = execFileSync('/usr/bin/python3', ['bench/sklearn_gmm.py', String(k), String(nInit), '0', path], { encoding: 'utf8' });
  const r = JSON.parse(out.trim()) as { means: number[][]; seconds: number; nIter: number };
  return { means: matrix(r.means.length, r.means[0]!.length, Float64Array.from(r.means.flat())), seconds: r.seconds, nIter: r.nIter };
}

const dir = mkdtempSync(join(tmpdir(), 'default-fit-'));
const totals = new Map<string, { ok: number; n: number; seconds: number }>();
const add = (key: string, ok: boolean, seconds: number): void => {
  const t = totals.get(key) ?? { ok: 0, n: 0, seconds: 0 };
  totals.set(key, { ok: t.ok + (ok ? 1 : 0), n: t.n + 1, seconds: t.seconds + seconds });
};
console.log('family\tseed\tK\td\tsep\tmethod\tok\tseconds\tsteps\tratio_to_em10');
try {
  for (const family of families) {
    for (const seed of seeds) {
      const { data, truth, spec } = familyMixture(family, seed);
      const path = join(dir, `${family}-${seed}.npy`);
      writeFileSync(path, serializeNpy(data));
      const head = `${family}\t${seed}\t${spec.k}\t${spec.d}\t${spec.separation.toFixed(2)}`;
      const em10 = sklearn(path, spec.k, 10);
      for (const [name, r] of [['sklearn n_init 1', sklearn(path, spec.k, 1)], ['sklearn n_init 10', em10]] as const) {
        if (!r) continue;
        const ok = centresFound(r.means, truth, spec.separation);
        add(name, ok, r.seconds);
        console.log(`${head}\t${name}\t${ok ? 1 : 0}\t${r.seconds.toFixed(2)}\t${r.nIter}\t`);
      }
      for (const [bname, backend] of backends) {
        if (values.em) {
          const em = new DdpmGmm({ nComponents: spec.k, method: 'em', backend });
          const start = performance.now();
          const out = await em.fit(data);
          const s = (performance.now() - start) / 1000;
          console.log(`${head}\tem x1 ${bname}\t${centresFound(out.means, truth, spec.separation) ? 1 : 0}\t${s.toFixed(2)}\t${out.nIter}\t`);
        }
        for (const v of variants) {
          const model = new DdpmGmm({ nComponents: spec.k, backend, ...v });
          const start = performance.now();
          const out = await model.fit(data);
          const s = (performance.now() - start) / 1000;
          const ok = centresFound(out.means, truth, spec.separation);
          const key = `${JSON.stringify(v)} ${bname}`;
          add(key, ok, s);
          console.log(`${head}\t${key}\t${ok ? 1 : 0}\t${s.toFixed(2)}\t${out.nIter}\t${em10 ? (s / em10.seconds).toFixed(2) : ''}`);
        }
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const [, b] of backends) b.dispose();
}
console.log('\nmethod\tsuccess\tseconds (total)');
for (const [key, t] of totals) console.log(`${key}\t${t.ok}/${t.n}\t${t.seconds.toFixed(1)}`);
