// The real-data experiment's Node side (docs/experiments.md, 'Real data'): the labelled sets read from
// data/real in a checkout, and scikit-learn's fits run by a small Python script through python3 when it has
// scikit-learn. Either missing is a note in the report, never a failure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMatrixFile } from '../io/files.ts';
import { denseLabels, type LabelledSet, type RealDataSource, type ReferenceFit } from '../experiments/real-data-sets.ts';
import { matrix } from '../types.ts';

const SETS = ['iris', 'digits'] as const;

/** data/real of the checkout this file runs from (sources or dist/), or undefined outside one. */
function findDataDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    if (existsSync(join(dir, 'data', 'real'))) return join(dir, 'data', 'real');
    dir = dirname(dir);
  }
  return undefined;
}

/** The reference fits, one JSON object in, one out: labels, means, seconds and iterations of each model. */
const SKLEARN_SCRIPT = `
import json, sys, time
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
req = json.load(sys.stdin)
X = np.asarray(req['X'], dtype=np.float64)
k, seed = req['k'], req['seed']
out = []
models = [('sklearn GaussianMixture spherical', lambda: GaussianMixture(n_components=k, covariance_type='spherical', random_state=seed)),
          ('sklearn GaussianMixture diag', lambda: GaussianMixture(n_components=k, covariance_type='diag', random_state=seed)),
          ('sklearn KMeans (n_init 10)', lambda: KMeans(n_clusters=k, n_init=10, random_state=seed))]
for name, make in models:
    m = make()
    t0 = time.perf_counter()
    labels = m.fit(X).predict(X)
    seconds = time.perf_counter() - t0
    means = m.means_ if hasattr(m, 'means_') else m.cluster_centers_
    out.append({'method': name, 'labels': labels.tolist(), 'means': means.tolist(), 'seconds': seconds, 'nIter': int(m.n_iter_)})
json.dump(out, sys.stdout)
`;

/** Runs a Python interpreter with `args`, `input` on its stdin. */
function runPython(python: string, input: string | undefined, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

let sklearnCheck: Promise<{ python: string } | string> | undefined;

/** The first interpreter that imports sklearn ($DDPM_GMM_PYTHON, python3, /usr/bin/python3), else the sentence the report shows. */
function sklearnPython(): Promise<{ python: string } | string> {
  sklearnCheck ??= (async () => {
    const env = process.env['DDPM_GMM_PYTHON'];
    for (const python of [...(env ? [env] : []), 'python3', '/usr/bin/python3']) {
      if ((await runPython(python, undefined, ['-c', 'import sklearn'])).code === 0) return { python };
    }
    return 'scikit-learn comparison skipped: no python3 with scikit-learn found (apt-get install python3-sklearn, or set DDPM_GMM_PYTHON)';
  })();
  return sklearnCheck;
}

/** The real sets of this checkout and scikit-learn's fits, for the real-data experiment. */
export function realDataSource(): RealDataSource {
  return {
    sets: () => {
      const dir = findDataDir();
      if (dir === undefined) return { sets: [], missing: ['iris and digits skipped: data/real is in a checkout of the repository, not in the package'] };
      const sets: LabelledSet[] = [];
      const missing: string[] = [];
      for (const name of SETS) {
        const xPath = join(dir, `${name}_X.npy`);
        const yPath = join(dir, `${name}_y.npy`);
        if (!existsSync(xPath) || !existsSync(yPath)) {
          missing.push(`${name} skipped: ${xPath} or ${yPath} is missing`);
          continue;
        }
        const X = readMatrixFile(xPath, `${name}_X.npy`);
        const { labels, k } = denseLabels(readMatrixFile(yPath, `${name}_y.npy`).data);
        sets.push({ name, X, labels, k });
      }
      return { sets, missing };
    },
    reference: async (X, k, seed) => {
      const found = await sklearnPython();
      if (typeof found === 'string') return found;
      const rows = Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
      const r = await runPython(found.python, JSON.stringify({ X: rows, k, seed }), ['-c', SKLEARN_SCRIPT]);
      if (r.code !== 0) return `scikit-learn comparison failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`;
      const fits = JSON.parse(r.stdout) as { method: string; labels: number[]; means: number[][]; seconds: number; nIter: number }[];
      return fits.map(
        (f): ReferenceFit => ({
          method: f.method,
          labels: Int32Array.from(f.labels),
          means: matrix(f.means.length, X.cols, Float64Array.from(f.means.flat())),
          seconds: f.seconds,
          nIter: f.nIter,
        }),
      );
    },
  };
}
