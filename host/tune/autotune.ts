// The tiled kernel's autotuner (docs/kernels.md, 'The autotuner'): for an adapter and a shape class it
// times a handful of tile and workgroup sizes once (host/tune/tune-timing.ts), keeps the fastest, and caches
// the choice in memory and in a store (a JSON file in Node, localStorage in a browser). A store that is
// corrupt, of another adapter or of another version is ignored with one line of log and the class is
// tuned again; a cached choice is checked against the device's limits before it is used.
import { InputError } from '../../src/errors.ts';
import { DEFAULT_GROUPS, type DeviceLimits, shapeFor, type TileConfig, tileConfigProblem } from '../core/layout.ts';

/** 'auto': tune on hardware adapters only (software adapters run the lane kernel); 'on': tune on any adapter; 'off'; or fixed sizes. */
export type TuneOption = 'auto' | 'off' | 'on' | TileConfig;

/** Where the choices persist between processes. `load` returns undefined when nothing is stored; `save` may throw. */
export interface TuneStore {
  /** A path or key, for messages. */
  readonly where: string;
  load(): string | undefined;
  save(text: string): void;
}

/** The browser's store: localStorage under a key per adapter, when the page may use it. */
export function localTuneStore(adapter: string): TuneStore | undefined {
  let storage: Storage | undefined;
  try {
    storage = (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    return undefined; // a sandboxed page may not touch it
  }
  if (!storage) return undefined;
  const key = `ddpm-gmm-autotune-${textHash(adapter)}`;
  return { where: `localStorage['${key}']`, load: () => storage.getItem(key) ?? undefined, save: (text) => storage.setItem(key, text) };
}

export const TUNE_CACHE_FORMAT = 'ddpm-gmm-autotune';
export const TUNE_CACHE_VERSION = 1;
/** A candidate replaces the default only when this much faster, so that timing noise does not flip the choice. */
const MARGIN = 0.03;

export type FullTileConfig = Required<TileConfig>;

export interface TunedChoice extends FullTileConfig {
  /** The (K, d) it was timed at. */
  readonly k: number;
  readonly d: number;
  readonly secondsPerStep: number;
  readonly defaultSecondsPerStep: number;
  readonly candidates: number;
  readonly date: string;
}

export interface AdapterIdentity {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** The adapter's words and the limits that bound the candidates: a choice timed on one adapter says nothing about another. */
export function adapterKey(info: AdapterIdentity, limits: DeviceLimits, subgroups: boolean): string {
  return [
    info.vendor, info.architecture, info.device, info.description,
    `workgroup-storage=${limits.maxComputeWorkgroupStorageSize}`,
    `invocations=${limits.maxComputeInvocationsPerWorkgroup}`,
    `size-x=${limits.maxComputeWorkgroupSizeX ?? 256}`,
    `subgroups=${subgroups ? 1 : 0}`,
  ].join('|');
}

const pow2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/** K (as stored: 2 when tied) and d rounded up to powers of two: shapes of a class share one choice. */
export function shapeClass(k: number, d: number): string {
  return `K${pow2(k)}-d${pow2(d)}`;
}

/** FNV-1a over the texts: a short stable name for the kernels' sources and for the store's file. */
export function textHash(...texts: string[]): string {
  let h = 0x811c9dc5;
  for (const t of texts) for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function defaultTileConfig(k: number, d: number, limits: DeviceLimits): FullTileConfig {
  const s = shapeFor(k, d, limits);
  return { tile: s.tile, wg: s.wg, groups: s.groups };
}

const TILES = [16, 32, 64];
const WORKGROUPS = [64, 128, 256];
const GROUP_COUNTS = [256, 4096];

/**
 * The candidates for (K, d) that fit this device, the default first: tiles x workgroup sizes, and the default with
 * fewer and more workgroups where `rows` have enough tiles for that to change the dispatch.
 */
export function tileCandidates(k: number, d: number, limits: DeviceLimits, rows = Infinity): FullTileConfig[] {
  const base = defaultTileConfig(k, d, limits);
  const all: FullTileConfig[] = [base];
  for (const tile of new Set([...TILES, base.tile])) for (const wg of new Set([...WORKGROUPS, base.wg])) all.push({ tile, wg, groups: base.groups });
  const dispatched = (groups: number) => Math.min(Math.ceil(rows / Math.max(1, base.tile)), groups);
  for (const groups of GROUP_COUNTS) if (dispatched(groups) !== dispatched(base.groups)) all.push({ ...base, groups });
  const seen = new Set<string>();
  return all.filter((c) => {
    const key = describeTileConfig(c);
    if (seen.has(key) || tileConfigProblem(k, d, limits, c) !== undefined) return false;
    seen.add(key);
    return true;
  });
}

export function describeTileConfig(c: TileConfig): string {
  return `tile ${c.tile}, workgroup ${c.wg}, groups ${c.groups ?? DEFAULT_GROUPS}`;
}

export type CacheRead = { readonly entries: Map<string, TunedChoice> } | { readonly problem: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWhole = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** The store's text, checked: its entries when it is this adapter's and this version's, else why not (for one line of log). */
export function readTuneCache(text: string, adapter: string, kernels: string): CacheRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { problem: `it is not valid JSON (${(e as Error).message})` };
  }
  if (!isRecord(parsed) || parsed.format !== TUNE_CACHE_FORMAT) return { problem: `it is not a ${TUNE_CACHE_FORMAT} file` };
  if (parsed.version !== TUNE_CACHE_VERSION) return { problem: `it is version ${String(parsed.version)} of the format, and this engine reads version ${TUNE_CACHE_VERSION}` };
  if (parsed.kernels !== kernels) return { problem: `it timed another version of the kernels (${String(parsed.kernels)}, these are ${kernels})` };
  if (parsed.adapter !== adapter) return { problem: `it was written for another adapter (${String(parsed.adapter)})` };
  if (!isRecord(parsed.entries)) return { problem: 'it has no entries object' };
  const entries = new Map<string, TunedChoice>();
  for (const [cls, e] of Object.entries(parsed.entries)) {
    if (!isRecord(e) || ![e.tile, e.wg, e.groups, e.k, e.d].every(isWhole) || shapeClass(e.k as number, e.d as number) !== cls) {
      return { problem: `its entry ${cls} is malformed` };
    }
    entries.set(cls, e as unknown as TunedChoice);
  }
  return { entries };
}

export function writeTuneCache(adapter: string, kernels: string, entries: ReadonlyMap<string, TunedChoice>): string {
  const sorted = Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ format: TUNE_CACHE_FORMAT, version: TUNE_CACHE_VERSION, adapter, kernels, entries: sorted }, null, 2) + '\n';
}

export interface TunerInit {
  readonly option: TuneOption;
  /** A hardware adapter ('auto' tunes only there). */
  readonly hardware: boolean;
  readonly adapterName: string;
  /** adapterKey(...) of this device. */
  readonly adapter: string;
  /** textHash of the tiled kernels' sources: new kernels are timed again. */
  readonly kernels: string;
  readonly limits: DeviceLimits;
  /** Rows of the timing subsample (host/tune/tune-timing.ts timingPlan): group counts it cannot tell apart are not timed. */
  readonly rows?: number;
  readonly store?: TuneStore;
  readonly log: (message: string) => void;
  /** Seconds per GD step of `config` at (K, d) on the tuner's subsample (host/tune/tune-timing.ts). */
  readonly measure: (k: number, d: number, config: FullTileConfig) => Promise<number>;
}

/** The choices of this process, per adapter, kernels and store, shared by every backend on them. */
const memory = new Map<string, Map<string, TunedChoice>>();
const inFlight = new Map<string, Promise<void>>();

export class TileTuner {
  private readonly memoryKey: string;

  constructor(private readonly init: TunerInit) {
    if (typeof init.option === 'object') {
      const problem = tileConfigProblem(1, 4, init.limits, init.option);
      // Checked again per shape (shapeFor); here only what no shape can fix.
      if (problem && !/workgroup memory|partial sums/.test(problem)) throw new InputError(`The tune option's sizes cannot run on this device: ${problem}.`);
    }
    this.memoryKey = `${init.adapter}\n${init.kernels}\n${init.store?.where ?? '(memory)'}`;
  }

  /** Whether this backend times candidates ('on', or 'auto' on a hardware adapter). */
  get tuning(): boolean {
    return this.init.option === 'on' || (this.init.option === 'auto' && this.init.hardware);
  }

  private get choices(): Map<string, TunedChoice> {
    let m = memory.get(this.memoryKey);
    if (!m) {
      m = this.load();
      memory.set(this.memoryKey, m);
    }
    return m;
  }

  /** The sizes the tiled kernel uses at (K, d): fixed, tuned (when it fits this shape), or undefined for shapeFor's default. */
  configFor(k: number, d: number): TileConfig | undefined {
    const o = this.init.option;
    if (typeof o === 'object') return o;
    if (!this.tuning) return undefined;
    const c = this.choices.get(shapeClass(k, d));
    if (!c) return undefined;
    const config = { tile: c.tile, wg: c.wg, groups: c.groups };
    return tileConfigProblem(k, d, this.init.limits, config) === undefined ? config : undefined;
  }

  /** Tunes (K, d)'s class unless a choice is known; one tuning per class at a time in this process. */
  async ensure(k: number, d: number): Promise<void> {
    if (!this.tuning) return;
    const cls = shapeClass(k, d);
    if (this.choices.has(cls)) return;
    const key = `${this.memoryKey}\n${cls}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = this.tune(k, d, cls).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    await pending;
  }

  private load(): Map<string, TunedChoice> {
    const { store, log } = this.init;
    if (!store) return new Map();
    let text: string | undefined;
    try {
      text = store.load();
    } catch (e) {
      log(`autotune: cannot read the cache ${store.where} (${(e as Error).message}); ignoring it and re-tuning.`);
      return new Map();
    }
    if (text === undefined) return new Map();
    const read = readTuneCache(text, this.init.adapter, this.init.kernels);
    if ('problem' in read) {
      log(`autotune: ignoring the cache ${store.where}: ${read.problem}; re-tuning for ${this.init.adapterName}.`);
      return new Map();
    }
    return read.entries;
  }

  private async tune(k: number, d: number, cls: string): Promise<void> {
    const { limits, log, measure } = this.init;
    const candidates = tileCandidates(k, d, limits, this.init.rows);
    // Nothing fits: the untuned pass reports the limit (layout.ts requireTile).
    if (candidates.length === 0) return;
    const base = candidates[0]!;
    log(`autotune: timing ${candidates.length} sizes of the tiled kernel for ${cls} (K = ${k}, d = ${d}) on ${this.init.adapterName} ...`);
    const timed: { config: FullTileConfig; seconds: number }[] = [];
    for (const config of candidates) {
      try {
        timed.push({ config, seconds: await measure(k, d, config) });
      } catch (e) {
        // The default is what runs untuned: its failure is the call's failure.
        if (config === base) throw e;
        log(`autotune: ${describeTileConfig(config)} failed (${(e as Error).message}); skipped.`);
      }
    }
    const baseSeconds = timed[0]!.seconds;
    const best = timed.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const pick = best.seconds < baseSeconds * (1 - MARGIN) ? best : timed[0]!;
    const choice: TunedChoice = {
      ...pick.config, k, d, secondsPerStep: pick.seconds, defaultSecondsPerStep: baseSeconds, candidates: timed.length, date: new Date().toISOString(),
    };
    this.choices.set(cls, choice);
    log(`autotune: ${cls}: ${describeTileConfig(choice)} (${fmtMs(pick.seconds)} per step on the subsample; default ${fmtMs(baseSeconds)}).`);
    this.save();
  }

  /** Writes this process's choices, merged with what the store holds now for the same adapter (another process may have tuned). */
  private save(): void {
    const { store, log, adapter, kernels } = this.init;
    if (!store) return;
    let now: string | undefined;
    try {
      now = store.load();
    } catch {
      now = undefined; // already said when it was loaded
    }
    try {
      const read = now === undefined ? undefined : readTuneCache(now, adapter, kernels);
      const merged = new Map(read && 'entries' in read ? read.entries : []);
      for (const [cls, c] of this.choices) merged.set(cls, c);
      store.save(writeTuneCache(adapter, kernels, merged));
    } catch (e) {
      log(`autotune: cannot write the cache ${store.where} (${(e as Error).message}); the choice holds for this process only.`);
    }
  }
}

function fmtMs(seconds: number): string {
  return `${(seconds * 1000).toFixed(seconds < 0.01 ? 3 : 1)} ms`;
}
