// GPU buffers within the device's limits, and the layout of a matrix on the GPU:
// float32 rows padded with zeros to whole vec4 (D4 blocks of 4 coordinates).
import { DeviceError, InputError } from '../../src/errors.ts';
import { matrix, type Matrix } from '../../src/types.ts';
import { COPY_DST, COPY_SRC, STORAGE } from './usage.ts';

/** Storage that the host can also write and copy out of. */
export const STORAGE_RW = STORAGE | COPY_DST | COPY_SRC;

/** A buffer of at least `size` bytes (rounded up to 16), filled with `contents` when given. */
export function createBuffer(device: GPUDevice, size: number, usage: number, contents?: ArrayBufferView): GPUBuffer {
  const bytes = Math.max(16, Math.ceil(size / 16) * 16);
  const max = device.limits.maxBufferSize;
  if (bytes > max) {
    throw new DeviceError(`A buffer of ${bytes} bytes exceeds this device's maxBufferSize of ${max} bytes: use a smaller N or K x d.`);
  }
  const b = device.createBuffer({ size: bytes, usage, mappedAtCreation: contents !== undefined });
  if (contents) {
    new Uint8Array(b.getMappedRange()).set(new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength));
    b.unmap();
  }
  return b;
}

/** Rows base .. base+rows of m as float32 rows padded with zeros to 4 * d4 columns. */
export function padRows(m: Matrix, base: number, rows: number, d4: number): Float32Array {
  const out = new Float32Array(rows * 4 * d4);
  const d = m.cols;
  for (let n = 0; n < rows; n++) {
    const src = (base + n) * d;
    for (let c = 0; c < d; c++) {
      const v = (out[n * 4 * d4 + c] = m.data[src + c]!);
      // A finite float64 beyond float32's range becomes infinite on upload; refuse it rather than compute with Inf.
      if (!Number.isFinite(out[n * 4 * d4 + c]!) && Number.isFinite(v)) {
        throw new InputError(`row ${base + n + 1}, column ${c + 1} (1-based) holds ${v}, beyond float32's range (+-3.4e38) in which the GPU computes: rescale the values, or use --backend cpu (float64)`);
      }
    }
  }
  return out;
}

/** The first `rows` padded rows of f as a rows x cols matrix, each value times `scale`. */
export function unpad(f: Float32Array, rows: number, cols: number, d4: number, scale = 1): Matrix {
  const out = matrix(rows, cols);
  for (let j = 0; j < rows; j++) for (let c = 0; c < cols; c++) out.data[j * cols + c] = scale * f[j * 4 * d4 + c];
  return out;
}
