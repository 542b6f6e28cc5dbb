// The ARI of fit + predict for DdpmGmm variants on every X_npy / y_npy pair in a folder (research/held-out-sets.py
// writes some; docs/decisions/2026-12-06-default-student.md), CPU backend, one column per seed, then seconds per fit.
//
//   SEEDS=0,1,2,3,4 node bin/run-ts.js research/judge-sets.ts DIR '[{}, {"covariance": "identity", "weights": "equal"}]' [wine,bcancer]
import { readFileSync, readdirSync } from 'node:fs';
import { DdpmGmm } from '../src/estimator.ts';
import { parseNpy } from '../src/io/npy.ts';
import { adjustedRandIndex, denseLabels } from '../src/experiments/real-data-sets.ts';
const dir = process.argv[2]!;
const variants = JSON.parse(process.argv[3]!) as Record<string, unknown>[];
const only = process.argv[4]?.split(',');
const seeds = (process.env.SEEDS ?? '0').split(',').map(Number);
for (const f of readdirSync(dir).filter((f) => f.endsWith('_X.npy')).sort()) {
  const name = f.replace('_X.npy', '');
  if (only && !only.includes(name)) continue;
  const X = parseNpy(readFileSync(`${dir}/${f}`), f);
  const y = parseNpy(readFileSync(`${dir}/${name}_y.npy`), name);
  const { labels, k } = denseLabels(y.data);
  for (const v of variants) {
    const aris: string[] = []; let secs = 0;
    for (const seed of seeds) {
      const m = new DdpmGmm({ nComponents: k, backend: 'cpu', seed, ...v } as never);
      const t = performance.now();
      try { const p = await m.fitPredict(X); aris.push(adjustedRandIndex(labels, p).toFixed(3)); }
      catch (e) { aris.push('ERR:' + String((e as Error).message).slice(0, 50)); }
      secs += (performance.now() - t) / 1000; m.dispose();
    }
    console.log(`${name.padEnd(12)} ${JSON.stringify(v).padEnd(70)} ${aris.join(' ')}  ${(secs / seeds.length).toFixed(2)}s`);
  }
}
