// The option registry: the schedules, the estimator's methods and the sampling methods, each declared beside
// its plan (algorithms/schedules.ts, methods.ts, sample-options.ts), collected here with the questions the
// front doors ask of them: which fit reads an option, who reads it, and which K a choice needs.
import { SCHEDULE_DECLS, SCHEDULES, scheduleReads, type ScheduleName, type ScheduleOptionKey } from '../algorithms/schedules.ts';
import { METHOD_DECLS, METHODS, type Method } from '../methods.ts';

export { COMMON_SCHEDULE_OPTIONS, SCHEDULE_DECLS, SCHEDULE_OPTION, SCHEDULE_OPTIONS, SCHEDULES, scheduleReads } from '../algorithms/schedules.ts';
export type { ScheduleDecl, ScheduleName, ScheduleOptionKey } from '../algorithms/schedules.ts';
export { METHOD_DECLS, METHOD_OPTION, METHODS, type Method, type MethodDecl } from '../methods.ts';
export { integratorsOf, SAMPLE_METHODS, SAMPLE_OPTIONS, SAMPLER_DECLS } from '../sample-options.ts';
export type { SampleMethod, SampleOptionKey, SamplerDecl } from '../sample-options.ts';
export { checkOption, defaultText, type OptionDecl } from './declare.ts';

/** Whether a fit by this method (ddpm: on this schedule) reads the option. */
export function fitReads(method: Method, schedule: ScheduleName, key: ScheduleOptionKey): boolean {
  const uses = METHOD_DECLS[method].options;
  return uses === 'schedule' ? scheduleReads(schedule, key) : uses.includes(key);
}

/** Who reads the option: the schedules of ddpm, and the other methods. */
export function readersOf(key: ScheduleOptionKey): { readonly schedules: ScheduleName[]; readonly methods: Method[] } {
  return {
    schedules: SCHEDULES.filter((s) => scheduleReads(s, key)),
    methods: METHODS.filter((m) => METHOD_DECLS[m].options !== 'schedule' && METHOD_DECLS[m].options.includes(key)),
  };
}

/** The K a method (ddpm: its schedule) is for, the result that needs it and who asks; undefined: any K. */
export function requiredK(method: Method, schedule: ScheduleName): { readonly k: number; readonly why: string; readonly who: string } | undefined {
  const m = METHOD_DECLS[method];
  if (m.needsK) return { ...m.needsK, who: `method '${method}'` };
  const s = method === 'ddpm' ? SCHEDULE_DECLS[schedule].needsK : undefined;
  return s ? { ...s, who: `the ${schedule} schedule` } : undefined;
}

/** 'a, b or c'. */
export function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
