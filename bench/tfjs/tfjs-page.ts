// The engine's training step in TensorFlow.js, for the browser benchmark only
// (bench/browser-bench.ts; not part of the user page's build). The step of
// bench/pytorch_step.py (docs/math.md sections 2-6): fresh z ~ N(0, I) every step,
// x_t = a x0 + sigma z, the student's softmax score, L = mean ||s(x_t) + z / sigma||^2,
// autograd's dL/dm and m -= lr dL/dm, in float32. ?backend=wasm|webgpu&n=&d=&k=&steps=&warmup=
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { noiseMatrix } from '../../src/math/philox.ts';
import { median } from '../../src/page/bench-run.ts';

export interface TfjsFigures {
  readonly backend: string;
  /** e.g. 'wasm: SIMD, 2 threads' or the WebGPU adapter's description. */
  readonly variant: string;
  readonly tfjsVersion: string;
  readonly n: number;
  readonly d: number;
  readonly k: number;
  readonly steps: number;
  readonly warmup: number;
  readonly msPerStepWall: number;
  readonly sampleGradsPerSec: number;
  readonly lastLoss: number;
}

// The .wasm files are this build's own assets: nothing is fetched from a CDN.
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });

const noiseScale = 0.5;
const lr = 0.05;
const statusEl = document.getElementById('status')!;
const api: { result?: TfjsFigures; error?: string } = {};
(window as unknown as { tfjsBench: typeof api }).tfjsBench = api;
const log = (m: string) => (statusEl.textContent += `\n${m}`);

async function variantOf(backend: string): Promise<string> {
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return `wasm: ${simd ? 'SIMD' : 'no SIMD'}, ${threads ? `threads (XNNPACK pool of ${getThreadsCount()} of ${navigator.hardwareConcurrency} cores)` : 'no threads'}`;
  }
  const info = await (await navigator.gpu?.requestAdapter())?.info;
  return `webgpu: ${info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : 'unknown adapter'}`;
}

async function run(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const num = (name: string, fallback: number) => Number(params.get(name) ?? fallback);
  const backend = params.get('backend') ?? 'wasm';
  const n = num('n', 2 ** 20), d = num('d', 64), k = num('k', 16), steps = num('steps', 10), warmup = num('warmup', 2);
  statusEl.textContent = `TensorFlow.js ${backend}: N = ${n}, d = ${d}, K = ${k}`;
  // Every core, as the engine has on a software adapter (XNNPACK's default is fewer); used only when threads are available.
  if (backend === 'wasm') setThreadsCount(navigator.hardwareConcurrency);
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its '${backend}' backend.`);
  await tf.ready();
  const variant = await variantOf(backend);
  log(variant);
  const a = Math.exp(-noiseScale);
  const sigma = Math.sqrt(-Math.expm1(-2 * noiseScale));
  // The data and centres of src/page/bench-run.ts: Philox normals (seed 11), m = a * 2 x normals (seed 12).
  const x0 = tf.tensor2d(Float32Array.from(noiseMatrix(11, 0, n, d, 1).data), [n, d], 'float32');
  let m = tf.tensor2d(Float32Array.from(noiseMatrix(12, 0, k, d, 1).data, (v) => 2 * a * v), [k, d], 'float32');
  const wall: number[] = [];
  let lastLoss = NaN;
  for (let i = 0; i < warmup + steps; i++) {
    const start = performance.now();
    const [next, loss] = tf.tidy(() => {
      const z = tf.randomNormal([n, d], 0, 1, 'float32');
      const xt = tf.add(tf.mul(x0, a), tf.mul(z, sigma));
      const target = tf.div(z, sigma);
      const objective = (mm: tf.Tensor): tf.Scalar => {
        const logits = tf.sub(tf.matMul(xt, mm, false, true), tf.mul(tf.sum(tf.square(mm), 1), 0.5));
        const r = tf.add(tf.sub(tf.matMul(tf.softmax(logits), mm), xt), target);
        return tf.mean(tf.sum(tf.square(r), 1));
      };
      const { value, grad } = tf.valueAndGrad(objective)(m);
      return [tf.sub(m, tf.mul(grad, lr)), value] as const;
    });
    // Reading the new centres waits for the whole step (the update depends on the gradient).
    const [, lossData] = await Promise.all([next.data(), loss.data()]);
    m.dispose();
    loss.dispose();
    m = next;
    lastLoss = lossData[0]!;
    if (!Number.isFinite(lastLoss)) throw new Error(`the TensorFlow.js step diverged at step ${i}`);
    wall.push(performance.now() - start);
    log(`step ${i}: ${wall.at(-1)!.toFixed(1)} ms, loss ${lastLoss.toFixed(4)}`);
  }
  x0.dispose();
  m.dispose();
  const msPerStepWall = median(wall.slice(warmup));
  api.result = { backend, variant, tfjsVersion: tf.version_core, n, d, k, steps, warmup, msPerStepWall, sampleGradsPerSec: n / (msPerStepWall / 1000), lastLoss };
  log(JSON.stringify(api.result, null, 2));
  document.body.dataset.state = 'done';
}

run().catch((e: unknown) => {
  api.error = e instanceof Error ? e.message : String(e);
  log(`Error: ${api.error}`);
  document.body.dataset.state = 'error';
});
