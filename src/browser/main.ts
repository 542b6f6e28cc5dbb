// The browser page: learn a default mixture on WebGPU and report the result.
// (The full page with plots and controls is a later issue; this is its seed.)
import { acquireDevice } from '../../host/device.ts';
import { GpuBackend } from '../../host/engine.ts';
import { generateMixture } from '../generate.ts';
import { centreError } from '../metrics.ts';
import { matrix } from '../types.ts';
import { browserShaderFiles } from './shaders.ts';

const out = document.getElementById('output')!;
const say = (line: string) => {
  out.textContent += `${line}\n`;
};

async function run(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const k = Number(params.get('k') ?? 4), d = Number(params.get('d') ?? 2), n = Number(params.get('n') ?? 4096);
  const steps = Number(params.get('steps') ?? 100), seed = Number(params.get('seed') ?? 1);
  const acquired = await acquireDevice({ log: say });
  const backend = new GpuBackend({ acquired, sources: browserShaderFiles() });
  say(`adapter: ${backend.adapter}`);
  const separation = 8;
  const { data, truth } = generateMixture({ k, d, n, separation, seed });
  // Warm start (the paper's Theorem 16): each centre moved by a third of the separation.
  const init = matrix(k, d, truth.data.map((v, i) => v + (i % d === 0 ? separation / 3 : 0)));
  const t0 = performance.now();
  const result = await backend.gdSteps(data, init, {
    noiseScale: 0.5, tied: false, lr: 1, steps, logEvery: Math.max(1, Math.floor(steps / 10)),
    noise: { kind: 'seed', seed, mode: 'fresh' },
    onProgress: (p) => say(`step ${p.done}/${p.total}: loss ${p.last.loss.toFixed(5)}`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const error = centreError(result.centres, truth);
  say(`centre error: max ${error.max.toFixed(4)}, mean ${error.mean.toFixed(4)}`);
  say(`${((n * steps) / seconds).toExponential(3)} sample-gradients/s`);
  (window as unknown as { ddpmGmm: unknown }).ddpmGmm = { result: { centres: result.centres, history: result.history, adapter: backend.adapter, error } };
  document.body.dataset.state = 'done';
  backend.dispose();
}

run().catch((e: unknown) => {
  say(`error: ${(e as Error).message}`);
  (window as unknown as { ddpmGmm: unknown }).ddpmGmm = { error: (e as Error).message };
  document.body.dataset.state = 'error';
});
