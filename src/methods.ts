// The estimator's methods (docs/math.md sections 8 and 9), declared once for the estimator, its model file, the CLI
// and the page: each method's note, the K it needs and the options it reads (declared in SCHEDULE_OPTIONS).
import type { ScheduleOptionKey } from './algorithms/schedules.ts';
import { oneOf } from './options/declare.ts';

export const METHODS = ['ddpm', 'em', 'gradient-em', 'power'] as const;
export type Method = (typeof METHODS)[number];
export const METHOD_OPTION = oneOf(METHODS, 'the method', 'how to fit', { default: 'ddpm', flag: { name: 'method' } });

export interface MethodDecl {
  readonly name: Method;
  /** What the method is, in a few words, as the help lists it. */
  readonly note: string;
  /** The K the method is for, and the result that needs it. */
  readonly needsK?: { readonly k: number; readonly why: string };
  /** ddpm: the options of its schedule; the others: these. */
  readonly options: 'schedule' | readonly ScheduleOptionKey[];
}

export const METHOD_DECLS: { readonly [name in Method]: MethodDecl } = {
  ddpm: { name: 'ddpm', note: 'DDPM gradient descent on a schedule', options: 'schedule' },
  em: { name: 'em', note: 'k-means++ seeded', options: ['init', 'seed', 'maxSteps', 'tol', 'logEvery', 'covariance', 'weights', 'varianceFloor'] },
  'gradient-em': { name: 'gradient-em', note: 'k-means++ seeded', options: ['init', 'seed', 'lr', 'maxSteps', 'tol', 'logEvery'] },
  power: { name: 'power', note: 'K = 2, spectral', needsK: { k: 2, why: 'the spectral method of docs/math.md section 9' }, options: ['seed', 'maxSteps', 'tol'] },
};
