// Ranks started by Slurm's srun on a one-node cluster (scripts/slurm-local.sh; .ci/run starts it): 4 ranks give
// the bits of one process with the same --chunk-rows, and a rank killed mid-fit stops the others with an error
// naming it. Without Slurm (a developer's machine) the tests are skipped with a message; CI sets
// DDPM_GMM_REQUIRE_SLURM=1, which makes a missing cluster a failure.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '../../src/io/npy.ts';
import { generateMixture } from '../../src/mixtures.ts';

function slurmUp(): boolean {
  try {
    return /idle|mixed|allocated/.test(execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    return false;
  }
}
const up = slurmUp();
if (!up && process.env['DDPM_GMM_REQUIRE_SLURM'] !== '1') {
  console.warn('test/ranks/slurm.test.ts: no Slurm cluster here (sinfo shows no idle node); skipped. Start one with: sudo bash scripts/slurm-local.sh');
}

const DEV = resolve(__dirname, '../../bin/dev.js');
const dir = mkdtempSync(join(tmpdir(), 'ddpm-slurm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'x.npy');
writeFileSync(data, serializeNpy(generateMixture({ k: 4, d: 6, n: 2000, separation: 4, seed: 9 }).data, 'float32'));
const FIT = ['fit', '--data', data, '--k', '4', '--schedule', 'single', '--chunk-rows', '128', '--backend', 'cpu', '--json'];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address() as AddressInfo;
  await new Promise((res) => s.close(res));
  return port;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const done = new Promise<{ code: number | null; out: string; err: string }>((res) => child.on('close', (code) => res({ code, out, err })));
  return { child, done, err: () => err };
}

/** The pid of the rank `rank` whose coordinator is `port`: a process started by slurmstepd, found by its environment. */
function rankPid(rank: number, port: number): number | undefined {
  for (const p of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      const env = readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (env.includes(`SLURM_PROCID=${rank}`) && env.includes(`DDPM_GMM_COORDINATOR=127.0.0.1:${port}`) && /node/.test(cmd) && !/env\0/.test(cmd)) return Number(p);
    } catch {
      // A process that ended while the list was read.
    }
  }
  return undefined;
}

describe.runIf(up || process.env['DDPM_GMM_REQUIRE_SLURM'] === '1')('ranks under Slurm (srun)', () => {
  it('srun -n 4 gives the bits of one process with the same --chunk-rows', async () => {
    expect(up, 'no idle Slurm node: run scripts/slurm-local.sh as root first').toBe(true);
    const args = [...FIT, '--steps', '15', '--log-every', '5'];
    const one = await run(process.execPath, [DEV, ...args]).done;
    expect(one.code, one.err).toBe(0);
    const port = await freePort();
    const four = await run('srun', ['-n', '4', '--overcommit', '--kill-on-bad-exit=0', process.execPath, DEV, ...args], { DDPM_GMM_COORDINATOR: `127.0.0.1:${port}` }).done;
    expect(four.code, four.err).toBe(0);
    expect(four.err.match(/joined/g)).toHaveLength(4);
    const [a, b] = [JSON.parse(one.out), JSON.parse(four.out)];
    expect(b.ranks).toBe(4);
    expect(b.means).toEqual(a.means);
    expect(b.history).toEqual(a.history);
  }, 180_000);

  it('a rank killed mid-fit stops the others with an error naming it', async () => {
    expect(up).toBe(true);
    const port = await freePort();
    const timeout = 5;
    const job = run('srun', ['-n', '3', '--overcommit', '--kill-on-bad-exit=0', process.execPath, DEV, ...FIT, '--steps', '1000000', '--log-every', '1000000'], {
      DDPM_GMM_COORDINATOR: `127.0.0.1:${port}`, DDPM_GMM_RANK_TIMEOUT: String(timeout),
    });
    const started = Date.now();
    while ((job.err().match(/joined/g) ?? []).length < 3 && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 200));
    const pid = rankPid(2, port);
    expect(pid, 'rank 2 of the job').toBeDefined();
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    const r = await job.done;
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/rank 0 waited \d+ s for rank\(s\) 2 of 3/);
    expect((Date.now() - killedAt) / 1000).toBeLessThan(timeout + 10);
  }, 180_000);
});
