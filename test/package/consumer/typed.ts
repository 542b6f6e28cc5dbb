// A user's TypeScript, type-checked against the published declarations (never run).
import { DdpmGmm, InputError, loadModel, PiecewiseScoreModel, type BackendInfo, type Matrix, type ModelFile, type PiecewiseModelFile, matrix } from 'ddpm-gmm';
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

export async function fitPiecewise(data: Matrix): Promise<PiecewiseModelFile> {
  const pw = new PiecewiseScoreModel({ degree: 2, levels: 8, cells: 6, backend: 'auto' });
  await pw.fit(data);
  const samples: Matrix = await pw.sample(100, { method: 'ode' });
  // @ts-expect-error the degree is 1 or 2.
  new PiecewiseScoreModel({ degree: 3 });
  const again: DdpmGmm | PiecewiseScoreModel = loadModel(pw.toJSON());
  again.dispose();
  if (samples.rows !== 100) throw new InputError('rows');
  return pw.toJSON();
}

export const browserOpener: () => Promise<{ readonly adapter: string }> = createBrowserGpuBackend;
export const m: Matrix = matrix(1, 2);
