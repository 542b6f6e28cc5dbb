// What the CPU backend gives each feature's CPU twin: the data of a call, from a handle's copy or the matrix given.
import type { DataInput, Matrix } from '../types.ts';

export interface CpuCore {
  /** The data of a call: the handle's copy, or the matrix given. */
  dataOf(data: DataInput): Matrix;
}

/** A feature's CPU side: its capability's methods, given the core. */
export type CpuFeature<C extends object> = (core: CpuCore) => C;
