// The base types: matrices, the data a backend holds, and what every backend is (BackendCore). Each feature
// declares its own capability beside its code (src/training, src/sampling, src/metrics, src/piecewise); src/backend.ts
// composes them. This file imports no feature (docs/architecture.md, "The algorithms do not know where they run").

export { matrix, toRows, type Matrix } from './matrix.ts';
import type { Matrix } from './matrix.ts';

/**
 * Data a backend holds once (BackendCore.dataset): later calls name the handle instead of passing the matrix, so
 * no call checks, hashes or uploads the data again. A handle works only with the backend that made it.
 */
export interface Dataset {
  readonly kind: 'dataset';
  readonly rows: number;
  readonly cols: number;
  /** The kind of backend that made it (for messages). */
  readonly backend: 'gpu' | 'cpu';
  readonly disposed: boolean;
  /** Releases what the backend holds for it (the GPU copy); later calls with it throw. Safe to call twice. */
  dispose(): void;
}

/** What the data-taking methods (src/training/capability.ts) accept: the data itself (checked and, on the GPU, uploaded per call) or a handle. */
export type DataInput = Matrix | Dataset;

/** What every backend is, whatever it computes: its name, its adapter, the data it holds, its release. */
export interface BackendCore {
  readonly name: 'gpu' | 'cpu';
  /** Human-readable adapter description ("CPU float64 reference" for the CPU). */
  readonly adapter: string;
  /**
   * Takes the data once: checks it (shape, finite values) and keeps a copy (on the GPU: uploads it), so that
   * the calls that take a DataInput can name the handle. Later edits of `x` are not seen. Dispose the handle when done.
   */
  dataset(x: Matrix): Dataset;
  /** Release device resources. */
  dispose(): void;
}
