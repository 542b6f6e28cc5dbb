// A user's Vite app: trains on navigator.gpu through the installed package's browser entry.
import { DdpmGmm, centreError, createBrowserGpuBackend, generateMixture } from 'ddpm-gmm/browser';

const w = window as unknown as { result?: unknown; error?: string };
async function run(): Promise<void> {
  const mixture = generateMixture({ k: 3, d: 4, n: 3000, separation: 8, seed: 5 });
  const backend = await createBrowserGpuBackend();
  const gmm = new DdpmGmm({ nComponents: 3, backend });
  await gmm.fit(mixture.data);
  w.result = { backend: backend.name, adapter: backend.adapter, maxError: centreError(gmm.means!, mixture.truth).max, means: Array.from(gmm.means!.data) };
  backend.dispose();
}
run().then(
  () => (document.body.dataset.state = 'done'),
  (e: unknown) => {
    w.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    document.body.dataset.state = 'error';
  },
);
