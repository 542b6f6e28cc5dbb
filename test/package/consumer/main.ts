// A user's Vite app: trains through the installed package's browser entry, whose import lets backend
// 'auto' open the GPU engine on navigator.gpu.
import { DdpmGmm, centreError, generateMixture } from 'ddpm-gmm/browser';

const w = window as unknown as { result?: unknown; error?: string };
async function run(): Promise<void> {
  const mixture = generateMixture({ k: 3, d: 4, n: 3000, separation: 8, seed: 5 });
  const gmm = new DdpmGmm({ nComponents: 3, backend: 'auto' });
  await gmm.fit(mixture.data);
  w.result = { backend: gmm.backendUsed?.kind, adapter: gmm.backendUsed?.adapter, maxError: centreError(gmm.means!, mixture.truth).max };
  gmm.dispose();
}
run().then(
  () => (document.body.dataset.state = 'done'),
  (e: unknown) => {
    w.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    document.body.dataset.state = 'error';
  },
);
