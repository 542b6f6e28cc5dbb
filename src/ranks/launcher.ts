// Which rank this process is, from the launcher that started it: Slurm's srun, a Kubernetes Indexed Job,
// Open MPI's mpirun, or DDPM_GMM_RANK / DDPM_GMM_WORLD_SIZE set by hand; and where rank 0 listens.
import { InputError } from '../errors.ts';

export interface RankInfo {
  readonly rank: number;
  readonly world: number;
  /** The variables it came from, for messages. */
  readonly launcher: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function whole(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new InputError(`${name}=${raw} is not a whole number; the launcher sets it, or set it to the rank`);
  return v;
}

/** The rank and world size, or undefined when no launcher set them (one process). */
export function rankFromEnv(env: Env): RankInfo | undefined {
  const pairs: [string, string, string][] = [
    ['DDPM_GMM_RANK', 'DDPM_GMM_WORLD_SIZE', 'DDPM_GMM_RANK/DDPM_GMM_WORLD_SIZE'],
    ['SLURM_PROCID', 'SLURM_NTASKS', 'Slurm (SLURM_PROCID/SLURM_NTASKS)'],
    ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'Open MPI (OMPI_COMM_WORLD_RANK/SIZE)'],
    ['JOB_COMPLETION_INDEX', 'DDPM_GMM_WORLD_SIZE', 'a Kubernetes Indexed Job (JOB_COMPLETION_INDEX/DDPM_GMM_WORLD_SIZE)'],
  ];
  for (const [r, w, launcher] of pairs) {
    const rank = whole(env, r);
    if (rank === undefined) continue;
    const world = whole(env, w);
    if (world === undefined || world < 1) throw new InputError(`${r} is set but ${w} is not: set ${w} to the number of ranks (for a Kubernetes Indexed Job, its completions)`);
    if (rank >= world) throw new InputError(`${r}=${rank} is not below ${w}=${world}`);
    return { rank, world, launcher };
  }
  return undefined;
}

/** host:port of rank 0's rendezvous, from --coordinator or DDPM_GMM_COORDINATOR. */
export function coordinatorOf(flag: string | undefined, env: Env): { host: string; port: number } {
  const raw = flag ?? env['DDPM_GMM_COORDINATOR'];
  if (raw === undefined) {
    throw new InputError('several ranks need a rendezvous: set DDPM_GMM_COORDINATOR=host:port (rank 0\'s host and a free port) or pass --coordinator host:port');
  }
  const m = /^(.+):(\d+)$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`the coordinator must be host:port, such as node01:29500 (got '${raw}')`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** The chunks of rank `rank` of `world`: a contiguous block, so that each rank reads one stretch of the file. */
export function chunksOfRank(count: number, rank: number, world: number): number[] {
  const first = Math.floor((rank * count) / world);
  const end = Math.floor(((rank + 1) * count) / world);
  return [...Array(end - first).keys()].map((i) => first + i);
}
