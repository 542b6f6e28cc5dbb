// The whole fit's time, the piecewise model against the paper's student at the same N, d, K (docs/performance.md,
// 'The piecewise moments'): each estimator with its defaults (PiecewiseScoreModel: 32 levels, R = 2, J = 8 cells
// unless --cells-per-k; DdpmGmm: the schedule chosen from K), on one backend object per kind shared by every fit,
// so that device creation is outside the times. Median seconds of --repeats fits after one warm-up fit per shape
// (which compiles the pipelines). The data: generateMixture(k, d, n, separation 6, seed 0).
//
//   node bin/run-ts.js bench/piecewise-fit-time.ts [--shapes 16384x2x3,65536x16x4 --backends gpu,cpu --repeats 3 --cells-per-k 0 --levels 0 --draws 0]
// (0: the estimator's default)
import { parseArgs } from 'node:util';
import { createGpuBackend } from '../host/index.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { DdpmGmm } from '../src/estimator.ts';
import { generateMixture } from '../src/mixtures.ts';
import { PiecewiseScoreModel } from '../src/piecewise-estimator.ts';
import type { Backend } from '../src/backend.ts';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '16384x2x3,65536x16x4' },
    backends: { type: 'string', default: 'gpu,cpu' },
    repeats: { type: 'string', default: '3' },
    'cells-per-k': { type: 'string', default: '0' },
    levels: { type: 'string', default: '0' },
    draws: { type: 'string', default: '0' },
  },
});
const repeats = Number(values.repeats);
const cellsPerK = Number(values['cells-per-k']);
// 0: the estimator's default.
const ladder = { ...(Number(values.levels) > 0 ? { levels: Number(values.levels) } : {}), ...(Number(values.draws) > 0 ? { draws: Number(values.draws) } : {}) };

async function median(run: () => Promise<unknown>): Promise<{ median: number; all: number[] }> {
  await run(); // warm-up: pipelines compile here
  const all: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    all.push((performance.now() - t0) / 1000);
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, all };
}

const fmt = (x: { median: number; all: number[] }): string => `${x.median.toFixed(3)} s (${x.all.map((s) => s.toFixed(3)).join(', ')})`;

for (const kind of values.backends.split(',')) {
  const backend: Backend = kind === 'gpu' ? await createGpuBackend() : new CpuBackend();
  console.log(`backend ${kind}: ${backend.adapter}`);
  for (const shape of values.shapes.split(',')) {
    const [n, d, k] = shape.split('x').map(Number) as [number, number, number];
    const X = generateMixture({ k, d, n, separation: 6, seed: 0 }).data;
    const cells = cellsPerK > 0 ? cellsPerK * k : undefined;
    const pw = await median(() => new PiecewiseScoreModel({ backend, ...ladder, ...(cells ? { cells } : {}) }).fit(X));
    const st = await median(() => new DdpmGmm({ nComponents: k, backend }).fit(X));
    console.log(`  N = ${n}, d = ${d}, K = ${k}, ladder ${JSON.stringify(ladder)}: piecewise ${fmt(pw)}; student ${fmt(st)}; piecewise / student ${(pw.median / st.median).toFixed(2)}`);
  }
  backend.dispose();
}
