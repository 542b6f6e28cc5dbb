// Compile time and per-sample cost of the DDPM kernels by shape (docs/performance.md, 'Compile times'): for each
// (K, d, kernel) a fresh backend (so a fresh pipeline cache) times its first lossAndGradient on 64 rows, which
// compiles the pass, then the median of 3 evaluations on `--rows` rows. The lane kernel runs in each plan of
// `--plans` (host/train/kernel-plan.ts); 'unrolled' only up to K d/4 = 512 pairs, where it compiled before. `--wg 64`
// also runs the tiled kernel with 64 invocations per workgroup instead of its default.
//
//   node bin/run-ts.js bench/compile-times.ts [--rows 16384] [--shapes 16x64,32x64,64x64,32x128,2tx1024]
//     [--plans unrolled,paced,centre-loop] [--wg 64] [--no-tiled]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createGpuBackend } from '../host/index.ts';
import { type LanePlan, lanePlanFor } from '../host/train/kernel-plan.ts';
import { noiseMatrix } from '../src/math/philox.ts';
import { matrix } from '../src/types.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '16384' },
    shapes: { type: 'string', default: '16x64,32x64,64x64,32x128,2tx1024' },
    wg: { type: 'string' },
    plans: { type: 'string', default: 'unrolled,paced,centre-loop' },
    'no-tiled': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/compile-times.json' },
  },
});
const rows = Number(values.rows);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, unknown>[] = [];
for (const spec of values.shapes!.split(',')) {
  const tied = spec.includes('t');
  const [k, d] = spec.replace('t', '').split('x').map(Number) as [number, number];
  const pairs = (tied ? 2 : k) * Math.ceil(d / 4);
  // Only the plans this shape allows (host/train/kernel-plan.ts resolveLanePlan); 'unrolled' only up to 512 pairs, where it compiled before.
  const rule = lanePlanFor({ k: tied ? 2 : k, d4: Math.ceil(d / 4) });
  const plans = (values.plans!.split(',') as LanePlan[]).filter((p) => (p === 'centre-loop' || rule !== 'centre-loop') && (p !== 'unrolled' || pairs <= 512));
  const runs: { kernel: 'lanes' | 'tiled'; plan?: LanePlan; wg?: number }[] = plans.map((plan) => ({ kernel: 'lanes', plan }));
  if (!values['no-tiled']) runs.push({ kernel: 'tiled' });
  if (values.wg) runs.push({ kernel: 'tiled', wg: Number(values.wg) });
  let defaultTile = 0;
  for (const run of runs) {
    const tune = run.wg ? { wg: run.wg, tile: defaultTile } : 'off';
    const gpu = await createGpuBackend({ kernel: run.kernel, lanePlan: run.plan, tune, tuneCache: false });
    const shape = gpu.shapeOf(tied ? 2 : k, d);
    if (run.kernel === 'tiled' && !run.wg) defaultTile = shape.tile;
    const data = noiseMatrix(1, 0, rows, d, 1);
    const centres = matrix(tied ? 1 : k, d, noiseMatrix(2, 0, tied ? 1 : k, d, 1).data);
    const options = { noiseScale: 0.5, tied, noise: { kind: 'seed', seed: 1, mode: 'fixed' } } as const;
    const smallRows = Math.max(64, tied ? 2 : k);  // the first call compiles; a problem needs N >= K
    const small = matrix(smallRows, d, data.data.slice(0, smallRows * d));
    let t0 = performance.now();
    await gpu.lossAndGradient(small, centres, options);
    const compileSeconds = (performance.now() - t0) / 1000;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      t0 = performance.now();
      await gpu.lossAndGradient(data, centres, options);
      if (i > 0) times.push((performance.now() - t0) / 1000);
    }
    const usPerSample = (1e6 * median(times)) / rows;
    gpu.dispose();
    const byRule = run.plan !== undefined && run.plan === lanePlanFor(shape);
    const row = { shape: spec, k, d, tied, kernel: run.kernel, plan: run.plan, byRule, tile: shape.tile, wg: shape.wg, compileSeconds, usPerSample };
    results.push(row);
    const form = run.kernel === 'lanes' ? `lanes ${run.plan!.padEnd(12)}${byRule ? ' (rule)' : '       '}` : `tiled tile ${String(shape.tile).padStart(2)} wg ${String(shape.wg).padStart(3)}`.padEnd(26);
    console.log(`${spec.padEnd(8)} ${form}  compile ${compileSeconds.toFixed(1).padStart(6)} s   ${usPerSample.toFixed(2)} us/sample`);
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(values.out!, JSON.stringify({ date: new Date().toISOString(), rows, results }, null, 2) + '\n');
