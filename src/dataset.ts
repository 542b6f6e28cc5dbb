// Dataset handles (Backend.dataset): each backend keeps what it holds for a handle (the CPU's copy, the GPU's
// buffers) in its own registry, so a handle made by another backend, or already disposed, is refused by name.
import { InputError } from './errors.ts';
import type { Dataset, DataInput, Matrix } from './types.ts';
import { checkData } from './validate.ts';

/** Whether a data argument is a handle rather than the data itself. */
export function isDataset(data: DataInput): data is Dataset {
  return (data as Dataset).kind === 'dataset';
}

/** The handles one backend made and what it holds for each. */
export class DatasetRegistry<T> {
  private readonly held = new WeakMap<Dataset, T>();
  /** Live handles, so that disposing the backend can release them all. */
  private readonly live = new Set<Dataset>();

  constructor(
    private readonly backend: 'gpu' | 'cpu',
    /** Frees what was held for a handle; called once, when the handle (or the backend) is disposed. */
    private readonly release: (payload: T) => void,
  ) {}

  /** Checks x once (shape, finite values) and makes its handle; `hold` builds what the backend keeps. */
  create(x: Matrix, hold: (x: Matrix) => T): Dataset {
    checkData(x);
    const payload = hold(x);
    let disposed = false;
    const handle: Dataset = {
      kind: 'dataset',
      rows: x.rows,
      cols: x.cols,
      backend: this.backend,
      get disposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.drop(handle);
      },
    };
    this.held.set(handle, payload);
    this.live.add(handle);
    return handle;
  }

  /** What this backend holds for the handle; a clear InputError for a disposed or foreign one. */
  payload(handle: Dataset): T {
    const payload = this.held.get(handle);
    if (payload !== undefined) return payload;
    if (handle.disposed) throw new InputError('this dataset handle has been disposed: make a new one with backend.dataset(x)');
    const which = handle.backend === this.backend ? `another ${handle.backend} backend` : `the ${handle.backend} backend`;
    throw new InputError(
      `this dataset handle was made by ${which}, not the ${this.backend} backend it was passed to: make one with this backend's dataset(x), or pass the matrix`,
    );
  }

  /** Disposes every live handle (the backend is going away). */
  disposeAll(): void {
    for (const handle of [...this.live]) handle.dispose();
  }

  private drop(handle: Dataset): void {
    const payload = this.held.get(handle);
    this.held.delete(handle);
    this.live.delete(handle);
    if (payload !== undefined) this.release(payload);
  }
}
