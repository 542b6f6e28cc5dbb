// What every experiment shares: the shapes of its table rows, curves and result, the suite's options, and
// two small helpers. suite.ts (the registry) and sampling.ts (registered by it) both import from here.
import type { Backend } from '../backend.ts';
import type { FitVariant, RealDataSource } from './real-data-sets.ts';

export interface Row {
  readonly experiment: string;
  readonly setting: string;
  readonly method: string;
  /** Largest matched centre error (or, for connections, the cosine; for annealed, the success rate). */
  readonly value: number;
  readonly valueName: 'error' | 'cosine' | 'success' | 'distance' | 'slope' | 'weight error' | 'ARI';
  readonly steps: number;
  readonly seconds: number;
  /** EM's figure on the same data, where it applies. */
  readonly em?: number;
  readonly note?: string;
}

export interface Curve {
  readonly experiment: string;
  readonly label: string;
  readonly points: [number, number][];
  /** Default: the largest matched error against the step, on a log scale. */
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly yScale?: 'log' | 'linear';
  /** Default linear from 0; 'log' spans the points' range on a log axis. */
  readonly xScale?: 'log' | 'linear';
}

export interface ExperimentResult {
  readonly rows: Row[];
  readonly curves: Curve[];
  readonly settings: Record<string, unknown>;
}

export interface SuiteOptions {
  /** Small N, d, K and seed counts: minutes on a software adapter. */
  readonly quick: boolean;
  /**
   * Cap on every setting's N, for machines without a GPU, where the largest full settings take hours
   * (docs/experiments.md, 'The full suite on this machine'); each row's setting names the N it ran with.
   */
  readonly maxN?: number;
  /** The real-data experiment's labelled sets and reference fits, from a front door that can read files and run Python. */
  readonly realData?: RealDataSource;
  /** The real-data experiment's fits of the estimator (default: its defaults under each scaling). */
  readonly fitVariants?: readonly FitVariant[];
}

export type Experiment = (backend: Backend, options: SuiteOptions, log: (msg: string) => void) => Promise<ExperimentResult>;

/** A setting's N under the suite's --max-n cap. */
export function capped(o: SuiteOptions, n: number): number {
  return o.maxN !== undefined ? Math.min(n, o.maxN) : n;
}

/** The value of f and the seconds it took. */
export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, (performance.now() - t0) / 1000];
}
