// The ranks' rendezvous and reduction over gRPC (@grpc/grpc-js): rank 0 serves, every other rank is a client.
// At the rendezvous each rank shows its fingerprint (data shape, chunk size, flags) and rank 0 refuses a rank
// whose fingerprint differs from its own. At each reduction the ranks send their chunk partials to rank 0,
// which adds every chunk's partial in global chunk order (sumInOrder, the one order of a single process) and
// answers every rank with the sum, so each rank applies the same float64 update and keeps the same parameters.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { DeviceError, InputError } from '../errors.ts';
import { sumInOrder, type PartialReducer } from '../training/chunked.ts';
import { chunksOfRank, type RankInfo } from './launcher.ts';

const PROTO = {
  nested: {
    ddpmgmm: {
      nested: {
        Rendezvous: {
          methods: {
            Join: { requestType: 'JoinRequest', responseType: 'Empty' },
            Reduce: { requestType: 'Partials', responseType: 'Total' },
          },
        },
        Empty: { fields: {} },
        JoinRequest: { fields: { rank: { type: 'uint32', id: 1 }, world: { type: 'uint32', id: 2 }, fingerprint: { type: 'string', id: 3 } } },
        Chunk: { fields: { index: { type: 'uint32', id: 1 }, values: { type: 'bytes', id: 2 } } },
        Partials: { fields: { rank: { type: 'uint32', id: 1 }, call: { type: 'uint32', id: 2 }, chunks: { rule: 'repeated', type: 'Chunk', id: 3 } } },
        Total: { fields: { values: { type: 'bytes', id: 1 } } },
      },
    },
  },
};

interface Chunk { index: number; values: Buffer }
interface Partials { rank: number; call: number; chunks: Chunk[] }
type Service = grpc.ServiceClientConstructor;

function service(): Service {
  const pkg = grpc.loadPackageDefinition(fromJSON(PROTO as Parameters<typeof fromJSON>[0], { keepCase: true, longs: Number, defaults: true }));
  return (pkg['ddpmgmm'] as grpc.GrpcObject)['Rendezvous'] as Service;
}

/** Every chunk's partial travels (a rank cannot pre-add its block without changing the order), so lift gRPC's 4 MB cap. */
const UNLIMITED = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

const toBytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const toFloats = (b: Buffer): Float64Array => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export interface RankOptions extends RankInfo {
  readonly host: string;
  readonly port: number;
  /** What every rank must agree on (data shape, chunk size, flags); a rank that differs is refused. */
  readonly fingerprint: string;
  /** How long rank 0 waits for a missing rank, and a rank for rank 0, before every rank stops (ms). */
  readonly timeoutMs: number;
}

export interface RankReducer extends PartialReducer {
  /** Stops serving once the last answers are sent (rank 0), or closes the channel. */
  close(): Promise<void>;
}

/** Joins the rendezvous: resolves once every rank has joined with rank 0's fingerprint. */
export function joinRanks(o: RankOptions): Promise<RankReducer> {
  return o.rank === 0 ? serve(o) : connect(o);
}

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

async function serve(o: RankOptions): Promise<RankReducer> {
  const server = new grpc.Server(UNLIMITED);
  const joined = new Map<number, grpc.sendUnaryData<object>>();
  let allJoined: (v: void) => void = () => {};
  let joinFailed: (e: Error) => void = () => {};
  const joining = new Promise<void>((res, rej) => { allJoined = res; joinFailed = rej; });
  /** Per reduction call: each rank's partials and how to answer it. */
  const calls = new Map<number, { parts: Map<number, Float64Array>; ranks: Map<number, grpc.sendUnaryData<object>>; done: (e: Error | null, total?: Float64Array) => void; count: number; length: number }>();
  let broken: Error | undefined;
  const breakAll = (e: Error): void => {
    if (broken) return;
    broken = e;
    joined.forEach((cb) => cb(fail(grpc.status.ABORTED, e.message)));
    joined.clear();
    joinFailed(e);
    calls.forEach((c) => { c.ranks.forEach((cb) => cb(fail(grpc.status.ABORTED, e.message))); c.done(e); });
    calls.clear();
  };
  server.addService(service().service, {
    Join(call: grpc.ServerUnaryCall<{ rank: number; world: number; fingerprint: string }, object>, cb: grpc.sendUnaryData<object>) {
      const { rank, world, fingerprint } = call.request;
      if (broken) return cb(fail(grpc.status.ABORTED, broken.message));
      if (world !== o.world || rank < 1 || rank >= o.world || joined.has(rank)) {
        const e = new InputError(`rank ${rank} of ${world} joined rank 0 of ${o.world}: every rank must be started by the same launch with the same world size`);
        cb(fail(grpc.status.FAILED_PRECONDITION, e.message));
        return breakAll(e);
      }
      if (fingerprint !== o.fingerprint) {
        const e = new InputError(`rank ${rank} was refused at the rendezvous: its data or flags differ from rank 0's (rank ${rank}: ${fingerprint}; rank 0: ${o.fingerprint}); start every rank with the same data file and flags`);
        cb(fail(grpc.status.FAILED_PRECONDITION, e.message));
        return breakAll(e);
      }
      joined.set(rank, cb);
      if (joined.size === o.world - 1) {
        joined.forEach((reply) => reply(null, {}));
        joined.clear();
        allJoined();
      }
    },
    Reduce(call: grpc.ServerUnaryCall<Partials, object>, cb: grpc.sendUnaryData<object>) {
      if (broken) return cb(fail(grpc.status.ABORTED, broken.message));
      const { rank, call: n, chunks } = call.request;
      const c = calls.get(n) ?? pendingCall(n);
      chunks.forEach((ch) => c.parts.set(ch.index, toFloats(ch.values)));
      c.ranks.set(rank, cb);
      settle(n);
    },
  });
  const pendingCall = (n: number) => {
    const c = { parts: new Map<number, Float64Array>(), ranks: new Map<number, grpc.sendUnaryData<object>>(), done: (_e: Error | null, _t?: Float64Array) => {}, count: -1, length: -1 };
    calls.set(n, c);
    return c;
  };
  const settle = (n: number): void => {
    const c = calls.get(n);
    if (!c || c.count < 0 || c.ranks.size < o.world - 1) return;
    calls.delete(n);
    try {
      const total = sumInOrder((ch) => c.parts.get(ch), c.count, c.length);
      const reply = { values: toBytes(total) };
      c.ranks.forEach((cb) => cb(null, reply));
      c.done(null, total);
    } catch (e) {
      breakAll(e as Error);
    }
  };
  await new Promise<void>((res, rej) => {
    server.bindAsync(`${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (!err) return res();
      const inUse = /EADDRINUSE|address already in use|No address added/i.test(err.message);
      rej(new InputError(inUse
        ? `rank 0 cannot listen on ${o.host}:${o.port}: the port is already in use; pick a free port in DDPM_GMM_COORDINATOR (or --coordinator)`
        : `rank 0 cannot listen on ${o.host}:${o.port}: ${err.message}`));
    });
  });
  const timer = (what: () => string) => setTimeout(() => breakAll(new DeviceError(what())), o.timeoutMs);
  if (o.world > 1) {
    const t = timer(() => `rank 0 waited ${o.timeoutMs / 1000} s at the rendezvous for rank(s) ${missing([...joined.keys()], o.world, 0).join(', ')} of ${o.world}, which never joined; check that every rank started and reaches ${o.host}:${o.port}`);
    try {
      await joining;
    } catch (e) {
      await shutdown(server, 1000);
      throw e;
    } finally {
      clearTimeout(t);
    }
  }
  let call = 0;
  return {
    localChunks: (count) => chunksOfRank(count, 0, o.world),
    reduce(local, count, length) {
      const n = call++;
      if (broken) return Promise.reject(broken);
      const c = calls.get(n) ?? pendingCall(n);
      local.forEach((p, ch) => c.parts.set(ch, p));
      c.count = count;
      c.length = length;
      return new Promise<Float64Array>((res, rej) => {
        const t = timer(() => `rank 0 waited ${o.timeoutMs / 1000} s for rank(s) ${missing([...c.ranks.keys()], o.world, 0).join(', ')} of ${o.world} at reduction ${n}: the rank died or hangs; every rank stops`);
        c.done = (e, total) => { clearTimeout(t); if (e) rej(e); else res(total!); };
        settle(n);
      });
    },
    close: () => shutdown(server, o.timeoutMs),
  };
}

/** Stops the server once the answers already given are sent, or after `ms`. */
function shutdown(server: grpc.Server, ms: number): Promise<void> {
  return new Promise<void>((res) => {
    const t = setTimeout(() => { server.forceShutdown(); res(); }, ms);
    server.tryShutdown(() => { clearTimeout(t); res(); });
  });
}

function missing(present: number[], world: number, self: number): number[] {
  return [...Array(world).keys()].filter((r) => r !== self && !present.includes(r));
}

async function connect(o: RankOptions): Promise<RankReducer> {
  const Client = service();
  const client = new Client(`${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`, grpc.credentials.createInsecure(), {
    ...UNLIMITED,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
  const unary = <T>(method: string, request: object, what: string): Promise<T> =>
    new Promise((res, rej) => {
      // Longer than rank 0's own wait, so that rank 0's answer naming a missing rank arrives first.
      const deadline = new Date(Date.now() + 2 * o.timeoutMs + 1000);
      (client as unknown as Record<string, (r: object, opts: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void>)[method]!(request, { deadline }, (e, v) => {
        if (!e) return res(v);
        const why = e.code === grpc.status.DEADLINE_EXCEEDED
          ? `no answer from rank 0 at ${o.host}:${o.port} within ${2 * o.timeoutMs / 1000 + 1} s (${what}): rank 0 or another rank died or hangs; every rank stops`
          : e.code === grpc.status.UNAVAILABLE
            ? `rank 0 at ${o.host}:${o.port} is gone (${what}): it died or stopped; every rank stops`
            : e.details;
        rej(e.code === grpc.status.FAILED_PRECONDITION ? new InputError(why) : new DeviceError(`rank ${o.rank}: ${why}`));
      });
    });
  // Rank 0 may start listening after this rank starts: wait for the channel, retrying the connection.
  await new Promise<void>((res, rej) => client.waitForReady(Date.now() + o.timeoutMs, (e) => (e
    ? rej(new DeviceError(`rank ${o.rank}: rank 0 did not answer at ${o.host}:${o.port} within ${o.timeoutMs / 1000} s; check that rank 0 started and DDPM_GMM_COORDINATOR names its host and port`))
    : res())));
  await unary('Join', { rank: o.rank, world: o.world, fingerprint: o.fingerprint }, 'the rendezvous');
  let call = 0;
  return {
    localChunks: (count) => chunksOfRank(count, o.rank, o.world),
    async reduce(local, _count, _length) {
      const n = call++;
      const chunks = [...local].map(([index, p]) => ({ index, values: toBytes(p) }));
      const r = await unary<{ values: Buffer }>('Reduce', { rank: o.rank, call: n, chunks }, `reduction ${n}`);
      return toFloats(r.values);
    },
    close: async () => client.close(),
  };
}
