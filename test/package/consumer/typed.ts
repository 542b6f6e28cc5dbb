// A user's TypeScript, type-checked against the published declarations (never run).
import { DdpmGmm, InputError, type BackendInfo, type Matrix, type ModelFile, matrix } from 'ddpm-gmm';
import { createGpuBackend, readMatrixFile } from 'ddpm-gmm/node';
import { createBrowserGpuBackend } from 'ddpm-gmm/browser';

export async function fit(path: string): Promise<{ labels: Int32Array; model: ModelFile; used: BackendInfo | undefined }> {
  const data: Matrix = readMatrixFile(path, 'data');
  const gmm = new DdpmGmm({ nComponents: 2, backend: 'auto', nInit: 2 });
  await gmm.fit(data);
  const labels: Int32Array = gmm.predict(data);
  const bic: number = gmm.bic(data) + gmm.aic(data) + gmm.score(data);
  // @ts-expect-error nComponents is a number: the declarations are real types, not any.
  new DdpmGmm({ nComponents: 'two' });
  // @ts-expect-error 'sgd' is not a method.
  new DdpmGmm({ nComponents: 2, method: 'sgd' });
  // @ts-expect-error backend is 'auto' | 'gpu' | 'cpu' or a Backend.
  new DdpmGmm({ nComponents: 2, backend: 'cuda' });
  if (!Number.isFinite(bic)) throw new InputError('not finite');
  const gpu = await createGpuBackend();
  gpu.dispose();
  return { labels, model: gmm.toJSON(), used: gmm.backendUsed };
}

export const browserOpener: () => Promise<{ readonly adapter: string }> = createBrowserGpuBackend;
export const m: Matrix = matrix(1, 2);
