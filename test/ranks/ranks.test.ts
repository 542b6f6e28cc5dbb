// Data-parallel ranks as separate processes on loopback (src/ranks/): the same bits as one process for the same
// --chunk-rows; a refused rank, a killed rank and a port in use each stop every rank with a clear error.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '../../src/io/npy.ts';
import { generateMixture } from '../../src/mixtures.ts';

const DEV = resolve(__dirname, '../../bin/dev.js');
const dir = mkdtempSync(join(tmpdir(), 'ddpm-ranks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'x.npy');
writeFileSync(data, serializeNpy(generateMixture({ k: 3, d: 4, n: 1000, separation: 4, seed: 3 }).data, 'float32'));

interface Done { code: number | null; out: string; err: string; seconds: number }

function run(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Done> } {
  const start = performance.now();
  const child = spawn(process.execPath, [DEV, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (err += b));
  const done = new Promise<Done>((res) => child.on('close', (code) => res({ code, out, err, seconds: (performance.now() - start) / 1000 })));
  return { child, done };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address() as AddressInfo;
  await new Promise((res) => s.close(res));
  return port;
}

const FIT = ['fit', '--data', data, '--k', '3', '--schedule', 'single', '--chunk-rows', '150', '--backend', 'cpu', '--json'];

function ranks(world: number, port: number, args: (rank: number) => string[], timeout = 60) {
  return [...Array(world).keys()].map((rank) => run(args(rank), {
    DDPM_GMM_RANK: String(rank), DDPM_GMM_WORLD_SIZE: String(world), DDPM_GMM_COORDINATOR: `127.0.0.1:${port}`, DDPM_GMM_RANK_TIMEOUT: String(timeout),
  }));
}

describe('ranks over gRPC on loopback', () => {
  it('3 ranks give the bits of one process with the same --chunk-rows', async () => {
    const args = [...FIT, '--steps', '12', '--log-every', '3'];
    const one = await run(args).done;
    expect(one.code, one.err).toBe(0);
    const all = await Promise.all(ranks(3, await freePort(), () => args).map((r) => r.done));
    all.forEach((r) => expect(r.code, r.err).toBe(0));
    const [a, b] = [JSON.parse(one.out), JSON.parse(all[0]!.out)];
    expect(b.ranks).toBe(3);
    expect(b.means).toEqual(a.means);
    expect(b.history).toEqual(a.history);
    // Only rank 0 reports.
    expect(all[1]!.out).toBe('');
  }, 120_000);

  it('checkpoints at rank 0 and resumes over ranks: the bits of an uninterrupted run', async () => {
    const args = [...FIT, '--log-every', '3'];
    const straight = await run([...args, '--steps', '12']).done;
    expect(straight.code, straight.err).toBe(0);
    const ckpt = join(dir, 'ranks-ckpt.json');
    const first = await Promise.all(ranks(3, await freePort(), () => [...args, '--steps', '6', '--checkpoint', ckpt]).map((r) => r.done));
    first.forEach((r) => expect(r.code, r.err).toBe(0));
    const rest = await Promise.all(ranks(3, await freePort(), () => [...args, '--steps', '12', '--resume', ckpt]).map((r) => r.done));
    rest.forEach((r) => expect(r.code, r.err).toBe(0));
    const [a, b] = [JSON.parse(straight.out), JSON.parse(rest[0]!.out)];
    expect(b.means).toEqual(a.means);
    expect(b.history).toEqual(a.history);
  }, 120_000);

  it('refuses a rank whose flags differ from rank 0\'s, at the rendezvous', async () => {
    const all = await Promise.all(ranks(2, await freePort(), (r) => [...FIT, '--steps', '5', '--lr', r === 1 ? '0.3' : '0.5'], 20).map((r) => r.done));
    expect(all[0]!.code).not.toBe(0);
    expect(all[1]!.code).not.toBe(0);
    expect(all[0]!.err).toMatch(/rank 1 was refused at the rendezvous: its data or flags differ from rank 0's/);
    expect(all[1]!.err).toMatch(/rank 1 was refused/);
  }, 60_000);

  it('stops every rank, naming the dead one, when a rank is killed', async () => {
    const timeout = 4;
    const procs = ranks(3, await freePort(), () => [...FIT, '--steps', '1000000', '--log-every', '1000000'], timeout);
    // Once rank 2 has joined it is training (every step waits for it), then kill it.
    await new Promise<void>((res) => procs[2]!.child.stderr!.on('data', (b: Buffer) => { if (/joined/.test(String(b))) res(); }));
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = performance.now();
    procs[2]!.child.kill('SIGKILL');
    const [r0, r1] = await Promise.all([procs[0]!.done, procs[1]!.done]);
    const after = (performance.now() - killedAt) / 1000;
    expect(r0.code).not.toBe(0);
    expect(r1.code).not.toBe(0);
    expect(r0.err).toMatch(/for rank\(s\) 2 of 3/);
    expect(r1.err).toMatch(/rank\(s\) 2 of 3|rank 0 .* is gone/);
    // Within the timeout, plus the exit itself.
    expect(after).toBeLessThan(timeout + 5);
  }, 60_000);

  it('says the port is in use', async () => {
    const s = createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const { port } = s.address() as AddressInfo;
    try {
      const [r0] = ranks(2, port, () => [...FIT, '--steps', '2'], 5);
      const d = await r0!.done;
      expect(d.code).not.toBe(0);
      expect(d.err).toMatch(/already in use/);
    } finally {
      s.close();
    }
  }, 60_000);
});
