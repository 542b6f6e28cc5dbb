// The page's settings: defaults, the URL parameters of the headless contract, and
// checks whose messages name the field to fix (STYLE.md, scikit-learn anchor).
import { InputError } from '../errors.ts';

export type Method = 'ddpm' | 'em' | 'gem';
/**
 * warm / rows: Algorithm 1 at the one noise scale t, from a warm start around the true centres (Theorem 16)
 * or from K seeded data rows, trained by the page's own chunk loop. two-stage (Theorem 7), projected
 * (Theorem 13) and annealed: the schedules of src/algorithms with their measured defaults, run through the
 * algorithms' loop (MATH.md section 8; README "Algorithms and experiments").
 */
export type Schedule = 'warm' | 'rows' | PaperSchedule;
export type PaperSchedule = 'two-stage' | 'projected' | 'annealed';
export const PAPER_SCHEDULES: readonly PaperSchedule[] = ['two-stage', 'projected', 'annealed'];

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
  readonly schedule: Schedule;
  /** Noise scale t (MATH.md section 2); warm and rows only (the paper schedules set their own scales). */
  readonly t: number;
  /** Step size eta (DDPM-GD and gradient EM); warm and rows only, like t. */
  readonly lr: number;
  /** GD steps, or EM / gradient-EM iterations; for a paper schedule the step limit of its last stage. */
  readonly steps: number;
  /** Philox seed of the training noise (fresh: step s uses counter step s). */
  readonly noiseSeed: number;
  /** Iterations of the side-by-side EM run on the same data (0: none). */
  readonly emIterations: number;
  readonly autorun: boolean;
}

export const DEFAULTS: Settings = {
  k: 4, d: 2, n: 4096, separation: 8, seed: 1,
  method: 'ddpm', schedule: 'warm', t: 0.5, lr: 1, steps: 200, noiseSeed: 1, emIterations: 30, autorun: false,
};

/** URL parameter of each setting (the headless contract; README "The browser page"). */
export const PARAM_NAMES: Record<keyof Settings, string> = {
  k: 'k', d: 'd', n: 'n', separation: 'sep', seed: 'seed', method: 'method', schedule: 'schedule',
  t: 't', lr: 'lr', steps: 'steps', noiseSeed: 'noise', emIterations: 'em', autorun: 'autorun',
};

const METHODS: readonly Method[] = ['ddpm', 'em', 'gem'];
const SCHEDULES: readonly Schedule[] = ['warm', 'rows', ...PAPER_SCHEDULES];

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
  const num = (key: keyof Settings, what: string, check: (v: number) => boolean, rule: string): number => {
    const text = raw[key];
    if (text === undefined || text.trim() === '') return DEFAULTS[key] as number;
    const v = Number(text);
    if (!Number.isFinite(v) || !check(v)) throw new InputError(`${what} (${PARAM_NAMES[key]}) must be ${rule}, got '${text}'.`);
    return v;
  };
  const int = (lo: number) => (v: number) => Number.isSafeInteger(v) && v >= lo;
  const pick = <T extends string>(key: keyof Settings, options: readonly T[]): T => {
    const text = raw[key];
    if (text === undefined || text === '') return DEFAULTS[key] as T;
    if (!(options as readonly string[]).includes(text)) throw new InputError(`${PARAM_NAMES[key]} must be one of ${options.join(', ')}, got '${text}'.`);
    return text as T;
  };
  const k = num('k', 'The number of centres K', int(1), 'an integer >= 1');
  const d = num('d', 'The dimension d', int(1), 'an integer >= 1');
  const n = num('n', 'The number of samples N', int(1), 'an integer >= 1');
  if (n < k) throw new InputError(`N = ${n} samples but K = ${k} centres: use N >= K.`);
  const autorunText = raw.autorun;
  const method = pick('method', METHODS);
  const schedule = pick('schedule', SCHEDULES);
  if (isPaperSchedule(schedule) && method !== 'ddpm') {
    throw new InputError(`The ${schedule} schedule trains DDPM-GD: choose method=ddpm, or start EM from warm or rows.`);
  }
  if ((schedule === 'two-stage' || schedule === 'projected') && k !== 2) {
    throw new InputError(`The ${schedule} schedule is for K = 2 (paper Theorem ${schedule === 'two-stage' ? 7 : 13}), but K = ${k}: set K to 2, or choose annealed, warm or rows.`);
  }
  return {
    k, d, n,
    separation: num('separation', 'The separation', (v) => v > 0, 'a number > 0'),
    seed: num('seed', 'The seed', int(0), 'an integer >= 0'),
    method,
    schedule,
    t: num('t', 'The noise scale t', (v) => v > 0, 'a number > 0 (sigma_t = 0 at t = 0)'),
    lr: num('lr', 'The step size', (v) => v > 0, 'a number > 0'),
    steps: num('steps', 'The number of steps', int(1), 'an integer >= 1'),
    noiseSeed: num('noiseSeed', 'The noise seed', int(0), 'an integer >= 0'),
    emIterations: num('emIterations', 'The EM iterations', int(0), 'an integer >= 0'),
    autorun: autorunText === '1' || autorunText === 'true',
  };
}

/** The settings as URL parameters (the page's "link to this run"). */
export function toParams(s: Settings): URLSearchParams {
  const p = new URLSearchParams();
  for (const key of Object.keys(PARAM_NAMES) as (keyof Settings)[]) {
    const v = s[key];
    if (key === 'autorun') {
      if (v) p.set(PARAM_NAMES[key], '1');
    } else p.set(PARAM_NAMES[key], String(v));
  }
  return p;
}
