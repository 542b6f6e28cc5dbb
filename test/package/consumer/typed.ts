// A user's TypeScript, type-checked against the published declarations (never run).
import { DdpmGmm, InputError, type Matrix, matrix } from 'ddpm-gmm';
import { createGpuBackend } from 'ddpm-gmm/node';
import { createBrowserGpuBackend } from 'ddpm-gmm/browser';

export async function fit(data: Matrix): Promise<Matrix | undefined> {
  const backend = await createGpuBackend();
  const gmm = new DdpmGmm({ nComponents: 2, backend, method: 'em' });
  const out = await gmm.fit(data);
  const p: Matrix = gmm.predictProba(data);
  const ll: number = gmm.score(data) + p.rows;
  // @ts-expect-error nComponents is a number: the declarations are real types, not any.
  new DdpmGmm({ nComponents: 'two', backend });
  // @ts-expect-error 'sgd' is not a method.
  new DdpmGmm({ nComponents: 2, backend, method: 'sgd' });
  if (!Number.isFinite(ll)) throw new InputError('not finite');
  return out.means;
}

export const browserOpener: () => Promise<{ readonly adapter: string }> = createBrowserGpuBackend;
export const m: Matrix = matrix(1, 2);
