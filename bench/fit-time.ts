// Time to solution (docs/performance.md, 'Time to solution'): the default fit (DdpmGmm with nComponents alone)
// against scikit-learn's GaussianMixture(spherical, k-means++ init, n_init 1 and 10) on the same data, wall
// time and the matched centre error (centre-error.ts) side by side. The data: generateMixture(K, d, N,
// separation, seed 0). scikit-learn runs through bench/sklearn_gmm.py and is skipped, with a message, when
// /usr/bin/python3 cannot import it (apt-get install python3-sklearn).
//
//   npm run bench:fit -- [--sizes 1000,10000,100000 --large --k 8 --d 16 --separation 6 --backends cpu,gpu]
// --large adds N = 10^6.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGpuBackend } from '../host/index.ts';
import { centreError } from '../src/centre-error.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { DdpmGmm } from '../src/estimator.ts';
import { serializeNpy } from '../src/io/npy.ts';
import { generateMixture } from '../src/mixtures.ts';
import { matrix } from '../src/types.ts';
import type { Backend } from '../src/backend.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    large: { type: 'boolean', default: false },
    k: { type: 'string', default: '8' },
    d: { type: 'string', default: '16' },
    separation: { type: 'string', default: '6' },
    backends: { type: 'string', default: 'cpu,gpu' },
  },
});
const k = Number(values.k);
const d = Number(values.d);
const sizes = [...values.sizes.split(',').map(Number), ...(values.large ? [1_000_000] : [])];
const python = spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { encoding: 'utf8' });
const haveSklearn = python.status === 0;
if (!haveSklearn) console.error('scikit-learn is missing (/usr/bin/python3 cannot import sklearn): its columns are skipped; apt-get install python3-sklearn');
const backends: [string, Backend][] = [];
for (const b of values.backends.split(',')) backends.push([b, b === 'gpu' ? await createGpuBackend() : new CpuBackend()]);
const dir = mkdtempSync(join(tmpdir(), 'fit-time-'));
const cell = (s: number, e: number): string => `${s.toFixed(2)} s / ${e.toFixed(3)}`;
console.log(`K = ${k}, d = ${d}, separation ${values.separation}; seconds / max matched centre error`);
console.log(['N', ...backends.map(([b]) => `default fit (${b}), steps`), ...(haveSklearn ? ['sklearn n_init 1', 'sklearn n_init 10'] : [])].join(' | '));
try {
  for (const n of sizes) {
    const { data, truth } = generateMixture({ k, d, n, separation: Number(values.separation), seed: 0 });
    const cells: string[] = [String(n)];
    for (const [, backend] of backends) {
      const model = new DdpmGmm({ nComponents: k, backend });
      const start = performance.now();
      const out = await model.fit(data);
      cells.push(`${cell((performance.now() - start) / 1000, centreError(out.means, truth).max)}, ${out.nIter}`);
    }
    if (haveSklearn) {
      const path = join(dir, `x-${n}.npy`);
      writeFileSync(path, serializeNpy(data));
      for (const nInit of [1, 10]) {
        const r = JSON.parse(execFileSync('/usr/bin/python3', ['bench/sklearn_gmm.py', String(k), String(nInit), '0', path], { encoding: 'utf8' }).trim()) as { means: number[][]; seconds: number };
        cells.push(cell(r.seconds, centreError(matrix(k, d, Float64Array.from(r.means.flat())), truth).max));
      }
    }
    console.log(cells.join(' | '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const [, b] of backends) b.dispose();
}
