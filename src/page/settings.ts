// The page's settings: defaults, the URL parameters of the headless contract, and
// checks whose messages name the field to fix (docs/architecture.md, the scikit-learn anchor).
// Methods and schedules carry the library's names; t, lr and steps left empty take
// the library's defaults, so the page passes the same options the estimator would.
import { InputError } from '../errors.ts';
import { METHOD_DECLS, METHODS as ESTIMATOR_METHODS, orList, SCHEDULE_DECLS, SCHEDULES as LIBRARY_SCHEDULES, scheduleReads, type Method as EstimatorMethod, type ScheduleName } from '../options/index.ts';
import { MODEL_KINDS, type ModelKind } from '../model-file.ts';
import { PIECEWISE_DEFAULTS } from '../piecewise-estimator.ts';
import { resolveFit } from '../fit-run.ts';
import { SCALE_OPTION, SCALES, type ScaleMethod } from '../scaling.ts';

/** The estimator's methods that train centres from a start (power iteration has no start and no steps to watch). */
export type Method = Exclude<EstimatorMethod, 'power'>;
/**
 * The library's schedules (src/algorithms/schedules.ts, docs/math.md section 8), all run through the algorithms'
 * loop: warm (Theorem 16, from the true centres moved by separation / 3) and single (Algorithm 1 from K seeded
 * data rows) at one noise scale, two-stage (Theorem 7), projected (Theorem 13) and annealed.
 */
export type Schedule = ScheduleName;
export type PaperSchedule = Exclude<ScheduleName, 'warm' | 'single' | 'screened'>;
/** The schedules that set their own noise scales (they read no noiseScale): two-stage, projected and annealed. */
export const PAPER_SCHEDULES = LIBRARY_SCHEDULES.filter((s) => !scheduleReads(s, 'noiseScale')) as PaperSchedule[];

export function isPaperSchedule(s: Schedule): s is PaperSchedule {
  return (PAPER_SCHEDULES as readonly string[]).includes(s);
}

export interface Settings {
  readonly k: number;
  readonly d: number;
  readonly n: number;
  readonly separation: number;
  /** Seed of the generated data, the warm start's directions and the initial rows. */
  readonly seed: number;
  readonly method: Method;
  /** The schedule; 'default' in the form or the URL is the estimator's (libraryDefaultSchedule). */
  readonly schedule: Schedule;
  /** The estimator's per-feature scaling (src/scaling.ts): the run is fitted to (x - centre) / scale, centres shown in the data's units. */
  readonly scale: ScaleMethod;
  /** Noise scale t (docs/math.md section 2) of warm and single; undefined: the schedule's default. The paper schedules set their own. */
  readonly t: number | undefined;
  /** Step size eta of warm and single (DDPM-GD) or of gradient EM; undefined: the library's default. */
  readonly lr: number | undefined;
  /**
   * The step limit (maxSteps): of warm and single's GD stage (warm's averaging tail follows it), of a paper
   * schedule's last stage, or of EM / gradient EM; undefined: the library's default. Stopping rules may end sooner.
   */
  readonly steps: number | undefined;
  /** Philox seed of the training noise (fresh: step s uses counter step s). */
  readonly noiseSeed: number;
  /** Iterations of the side-by-side EM run on the same data (0: none). */
  readonly emIterations: number;
  /** The score model: the student (the method and schedule above, with the estimator's default student) or the piecewise model (docs/math.md section 13). */
  readonly model: ModelKind;
  /** Piecewise: the degree (1 or 2), the ladder's levels and the cells J (PiecewiseScoreModel's defaults). */
  readonly degree: 1 | 2;
  readonly levels: number;
  readonly cells: number;
  readonly autorun: boolean;
}

export const DEFAULTS: Settings = {
  k: 4, d: 2, n: 4096, separation: 8, seed: 1,
  method: 'ddpm', schedule: 'warm', scale: SCALE_OPTION.default as ScaleMethod, t: undefined, lr: undefined, steps: undefined, noiseSeed: 1, emIterations: 30,
  model: 'student', degree: PIECEWISE_DEFAULTS.degree, levels: PIECEWISE_DEFAULTS.levels, cells: PIECEWISE_DEFAULTS.cells, autorun: false,
};

/** URL parameter of each setting (the headless contract; docs/browser.md). */
export const PARAM_NAMES: Record<keyof Settings, string> = {
  k: 'k', d: 'd', n: 'n', separation: 'sep', seed: 'seed', method: 'method', schedule: 'schedule', scale: 'scale',
  t: 't', lr: 'lr', steps: 'steps', noiseSeed: 'noise', emIterations: 'em', autorun: 'autorun',
  model: 'model', degree: 'degree', levels: 'levels', cells: 'cells',
};
/** Settings only a piecewise run uses: a student run's link leaves them out. */
const PIECEWISE_ONLY: readonly (keyof Settings)[] = ['model', 'degree', 'levels', 'cells'];

/** The methods that train centres from a start (they read init). */
const METHODS = ESTIMATOR_METHODS.filter((m) => { const o = METHOD_DECLS[m].options; return o === 'schedule' || o.includes('init'); }) as Method[];
const SCHEDULES: readonly Schedule[] = LIBRARY_SCHEDULES;
/** The schedule value that stands for the estimator's default for K (a file loaded on the page selects it). */
export const DEFAULT_SCHEDULE = 'default';
/** The page's earlier names, still accepted in links: gem and rows. */
const ALIASES: { readonly [key in keyof Settings]?: Readonly<Record<string, string>> } = {
  method: { gem: 'gradient-em' },
  schedule: { rows: 'single' },
};

/** The schedule DdpmGmm runs for K given no schedule, init or student (resolveFit: screened, its default student learns for K = 2 too). */
export function libraryDefaultSchedule(k: number): Schedule {
  return resolveFit('ddpm', undefined, k, false, {}).schedule;
}

/** Raw values by setting, as typed in the form or the URL; missing keys take the defaults. */
export type RawSettings = Partial<Record<keyof Settings, string>>;

export function rawFromParams(params: URLSearchParams): RawSettings {
  const raw: RawSettings = {};
  for (const key of Object.keys(PARAM_NAMES) as (keyof Settings)[]) {
    const v = params.get(PARAM_NAMES[key]);
    if (v !== null) raw[key] = v;
  }
  // The noise seed follows the data seed unless given.
  if (raw.noiseSeed === undefined && raw.seed !== undefined) raw.noiseSeed = raw.seed;
  return raw;
}

/** Parses and checks every setting; the first bad one is an InputError naming it and the fix. */
export function parseSettings(raw: RawSettings): Settings {
  const optional = (key: keyof Settings, what: string, check: (v: number) => boolean, rule: string): number | undefined => {
    const text = raw[key];
    if (text === undefined || text.trim() === '') return undefined;
    const v = Number(text);
    if (!Number.isFinite(v) || !check(v)) throw new InputError(`${what} (${PARAM_NAMES[key]}) must be ${rule}, got '${text}'.`);
    return v;
  };
  const num = (key: keyof Settings, what: string, check: (v: number) => boolean, rule: string): number =>
    optional(key, what, check, rule) ?? (DEFAULTS[key] as number);
  const int = (lo: number) => (v: number) => Number.isSafeInteger(v) && v >= lo;
  const pick = <T extends string>(key: keyof Settings, options: readonly T[]): T => {
    const given = raw[key];
    if (given === undefined || given === '') return DEFAULTS[key] as T;
    const aliases = ALIASES[key];
    const text = aliases && Object.hasOwn(aliases, given) ? aliases[given]! : given;
    if (!(options as readonly string[]).includes(text)) throw new InputError(`${PARAM_NAMES[key]} must be one of ${options.join(', ')}, got '${given}'.`);
    return text as T;
  };
  const k = num('k', 'The number of centres K', int(1), 'an integer >= 1');
  const d = num('d', 'The dimension d', int(1), 'an integer >= 1');
  const n = num('n', 'The number of samples N', int(1), 'an integer >= 1');
  if (n < k) throw new InputError(`N = ${n} samples but K = ${k} centres: use N >= K.`);
  const autorunText = raw.autorun;
  const method = pick('method', METHODS);
  // The estimator's default for K without an init (the page passes one only to warm).
  const schedule = raw.schedule === DEFAULT_SCHEDULE ? libraryDefaultSchedule(k) : pick('schedule', SCHEDULES);
  if (isPaperSchedule(schedule) && method !== 'ddpm') {
    throw new InputError(`The ${schedule} schedule trains DDPM-GD: choose method=ddpm, or start EM from warm or single.`);
  }
  const needs = SCHEDULE_DECLS[schedule].needsK;
  if (needs && k !== needs.k) {
    const others = SCHEDULES.filter((s) => !SCHEDULE_DECLS[s].needsK);
    throw new InputError(`The ${schedule} schedule is for K = ${needs.k} (${needs.why}), but K = ${k}: set K to ${needs.k}, or choose ${orList(others)}.`);
  }
  return {
    k, d, n,
    separation: num('separation', 'The separation', (v) => v > 0, 'a number > 0'),
    seed: num('seed', 'The seed', int(0), 'an integer >= 0'),
    method,
    schedule,
    scale: pick('scale', SCALES),
    t: optional('t', 'The noise scale t', (v) => v > 0, 'a number > 0 (sigma_t = 0 at t = 0)'),
    lr: optional('lr', 'The step size', (v) => v > 0, 'a number > 0'),
    steps: optional('steps', 'The step limit', int(1), 'an integer >= 1'),
    noiseSeed: num('noiseSeed', 'The noise seed', int(0), 'an integer >= 0'),
    emIterations: num('emIterations', 'The EM iterations', int(0), 'an integer >= 0'),
    model: pick('model', MODEL_KINDS),
    degree: num('degree', 'The piecewise degree', (v) => v === 1 || v === 2, '1 (affine) or 2 (with diagonal quadratic terms)') as 1 | 2,
    levels: num('levels', 'The ladder levels', int(2), 'an integer >= 2'),
    cells: num('cells', 'The number of cells J', int(1), 'an integer >= 1'),
    autorun: autorunText === '1' || autorunText === 'true',
  };
}

/** The settings as URL parameters (the page's "link to this run"). */
export function toParams(s: Settings): URLSearchParams {
  const p = new URLSearchParams();
  for (const key of Object.keys(PARAM_NAMES) as (keyof Settings)[]) {
    const v = s[key];
    if (s.model === 'student' && PIECEWISE_ONLY.includes(key)) continue;
    if (key === 'autorun') {
      if (v) p.set(PARAM_NAMES[key], '1');
    } else if (v !== undefined) p.set(PARAM_NAMES[key], String(v));
  }
  return p;
}
