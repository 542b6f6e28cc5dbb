// A fit of a .npy file held whole in memory, with the chunked trainer at the chunk size of a streamed fit: the
// in-memory side of the memory target (docs/performance.md). Usage: node bin/run-ts.js bench/chunked-in-memory.ts
// FILE.npy CHUNK_ROWS STEPS; prints the JSON of 'fit --json' (means, history), K = 4, the CLI's defaults.
import { defaultLr, DEFAULTS } from '../src/algorithms/schedules.ts';
import { seededRowIndices } from '../src/algorithms/seeding.ts';
import { CpuBackend } from '../src/cpu/backend.ts';
import { openNpySource } from '../src/data/files.ts';
import { chunkCount, matrixSource, rowsOf } from '../src/data/source.ts';
import { chunkedTrainer } from '../src/training/chunked.ts';
import { matrix, toRows } from '../src/types.ts';
const [path, chunkRows, steps] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const k = 4;
const src = await openNpySource(path, chunkRows);
const x = matrix(src.rows, src.cols);
for (let c = 0; c < chunkCount(src); c++) { const ch = await src.chunk(c); x.data.set(ch.rows.data, ch.firstRow * src.cols); }
const init = await rowsOf(src, seededRowIndices(src.rows, k, 0));
await src.close();
const t = chunkedTrainer(new CpuBackend(), chunkRows);
const h = t.open(matrixSource(x, chunkRows));
const start = performance.now();
const r = await t.gdSteps(h, init, { noiseScale: DEFAULTS.noiseScale, lr: defaultLr(k), steps, tied: false, logEvery: Math.max(1, Math.floor(steps / 20)), noise: { kind: 'seed', seed: 0, mode: 'fresh' } });
console.log(JSON.stringify({ means: toRows(r.centres), history: r.history, seconds: (performance.now() - start) / 1000 }));
