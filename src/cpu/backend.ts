// The float64 CPU backend: the same capabilities as the GPU engine (docs/architecture.md), each from its feature's
// CPU twin (src/cpu/features.ts), over the data handles' copies.
import type { Backend } from '../backend.ts';
import { DatasetRegistry, isDataset } from '../dataset.ts';
import { matrix, type Dataset, type DataInput, type Matrix } from '../types.ts';
import type { CpuCore } from './context.ts';
import { CPU_FEATURES, type CpuFeatureMethods } from './features.ts';

// The registered features' methods are set on each instance by the constructor; the compiler checks below that
// together they are the whole Backend.
export interface CpuBackend extends CpuFeatureMethods {}
const registersEverything: CpuFeatureMethods extends Omit<Backend, 'name' | 'adapter' | 'dataset' | 'dispose'> ? true : never = true;
void registersEverything;

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapter = 'CPU float64 reference';
  /** The handles' copies of their data (nothing to release but the copy itself). */
  private readonly datasets = new DatasetRegistry<Matrix>('cpu', () => undefined);

  constructor() {
    const core: CpuCore = { dataOf: (data) => this.dataOf(data) };
    Object.assign(this, ...CPU_FEATURES.map((feature) => feature(core)));
  }

  dataset(x: Matrix): Dataset {
    return this.datasets.create(x, (m) => matrix(m.rows, m.cols, m.data.slice()));
  }

  /** The data of a call: the handle's copy, or the matrix given. */
  private dataOf(data: DataInput): Matrix {
    return isDataset(data) ? this.datasets.payload(data) : data;
  }

  dispose(): void {
    // No device resources: only the handles' copies, dropped here.
    this.datasets.disposeAll();
  }
}
