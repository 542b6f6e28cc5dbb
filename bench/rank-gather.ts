// The cost of one reduction across ranks (src/ranks/grpc.ts) on loopback: W processes join, then each
// reduction sends every rank's chunk partials (K d + 1 numbers per chunk) to rank 0 and the sum back.
// Usage: node bin/run-ts.js bench/rank-gather.ts [--world 2,4] [--sizes 65,1025,65537] [--chunks 1] [--reps 200]
// Prints one line per (world, size): the median and 90th percentile of a reduction's wall time at rank 0.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { joinRanks } from '../src/ranks/grpc.ts';

const RUN_TS = resolve(import.meta.dirname, '../bin/run-ts.js');

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};

async function rank(rank: number, world: number, port: number, size: number, chunks: number, reps: number): Promise<number[]> {
  const r = await joinRanks({ rank, world, launcher: 'bench', host: '127.0.0.1', port, fingerprint: 'bench', timeoutMs: 60_000 });
  const count = chunks * world;
  const mine = r.localChunks(count);
  const local = new Map(mine.map((c) => [c, Float64Array.from({ length: size }, (_, q) => c + q)]));
  const times: number[] = [];
  for (let i = 0; i < reps + 10; i++) {
    const t0 = performance.now();
    await r.reduce(local, count, size);
    if (i >= 10) times.push(performance.now() - t0);
  }
  await r.close();
  return times;
}

if (process.argv.includes('--child')) {
  const [r, w, p, s, c, n] = ['rank', 'world', 'port', 'size', 'chunks', 'reps'].map((k) => Number(arg(k, '0')));
  await rank(r!, w!, p!, s!, c!, n!);
} else {
  const worlds = arg('world', '2,4').split(',').map(Number);
  const sizes = arg('sizes', '65,1025,65537').split(',').map(Number);
  const chunks = Number(arg('chunks', '1'));
  const reps = Number(arg('reps', '200'));
  for (const world of worlds) {
    for (const size of sizes) {
      const s = createServer();
      await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
      const port = (s.address() as AddressInfo).port;
      await new Promise((res) => s.close(res));
      const children = [...Array(world - 1).keys()].map((i) =>
        spawn(process.execPath, [RUN_TS, process.argv[1]!, '--child', '--rank', String(i + 1), '--world', String(world), '--port', String(port), '--size', String(size), '--chunks', String(chunks), '--reps', String(reps)], { stdio: 'inherit' }),
      );
      const times = (await rank(0, world, port, size, chunks, reps)).sort((a, b) => a - b);
      await Promise.all(children.map((c) => new Promise((res) => c.on('close', res))));
      const q = (f: number): string => times[Math.min(times.length - 1, Math.floor(f * times.length))]!.toFixed(3);
      console.log(`world ${world}, ${size} numbers x ${chunks} chunk(s) a rank (${(8 * size * chunks / 1024).toFixed(1)} KiB): median ${q(0.5)} ms, p90 ${q(0.9)} ms`);
    }
  }
}
