// The browser page: settings from the form or the URL, a run on WebGPU with live
// plots, EM beside it, export, and the headless contract (docs/browser.md):
// when a run ends, window.ddpmGmm.result holds the export JSON and
// document.body.dataset.state is "done" (or "error" with window.ddpmGmm.error).
import { acquireDevice } from '../../host/device.ts';
import { GpuBackend } from '../../host/engine.ts';
import { GpuTimer } from '../../host/gpu-timer.ts';
import { WGSL_SOURCES } from '../../host/shader-sources.ts';
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { benchmarkPoint, type BenchFigures } from './bench-run.ts';
import { buildResult, type RunResult } from './export.ts';
import { principalProjection } from './pca.ts';
import { Plots } from './plots.ts';
import { EM_DEFAULTS } from '../algorithms/baselines.ts';
import { DEFAULTS as SCHEDULE_DEFAULTS } from '../algorithms/schedules.ts';
import { fileData, generatedData, parseMatrixBytes, type PageData } from './problem.ts';
import { Session } from './session.ts';
import { DEFAULTS, isPaperSchedule, parseSettings, rawFromParams, type Method, type RawSettings, type Schedule, type Settings, toParams } from './settings.ts';
import { startOf } from './start.ts';

interface PageApi {
  state: string;
  result?: RunResult | BenchFigures;
  error?: string;
  adapter?: string;
}
const api: PageApi = { state: 'loading' };
(window as unknown as { ddpmGmm: PageApi }).ddpmGmm = api;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page is missing #${id}.`);
  return el as T;
};
const form = $<HTMLFormElement>('controls');
const messageEl = $('message');
const statusEl = $('status');
const adapterEl = $('adapter');
const startBtn = $<HTMLButtonElement>('start');
const pauseBtn = $<HTMLButtonElement>('pause');
const resetBtn = $<HTMLButtonElement>('reset');
const exportBtn = $<HTMLButtonElement>('export');
const fileInput = $<HTMLInputElement>('file');

function setState(state: string): void {
  api.state = state;
  document.body.dataset.state = state;
}

function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  messageEl.textContent = text;
  messageEl.className = text ? kind : '';
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A failure that ends the run (or the page's start): shown on the page and published for headless callers. */
function fail(e: unknown): void {
  const text = describe(e);
  showMessage(e instanceof InputError ? text : `Error: ${text}`);
  api.error = text;
  setState('error');
}

// Nothing may leave a blank or silent page: anything uncaught is shown.
window.addEventListener('error', (ev) => fail(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));

// ---- the form ----

const FIELDS: (keyof Settings)[] = ['k', 'd', 'n', 'separation', 'seed', 'method', 'schedule', 't', 'lr', 'steps', 'noiseSeed', 'emIterations'];

function field(name: string): HTMLInputElement | HTMLSelectElement {
  const el = form.elements.namedItem(name);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`The form is missing '${name}'.`);
  return el;
}

function fillForm(s: Settings): void {
  // t, lr and steps left empty take the library's defaults (shown as placeholders).
  for (const key of FIELDS) field(key).value = s[key] === undefined ? '' : String(s[key]);
  methodChanged();
}

/**
 * Which of t and the step size apply, and the library's defaults as placeholders: a paper schedule sets its
 * own noise scales and step sizes, EM has neither, gradient EM only a step size (docs/experiments.md, "The schedules").
 */
function methodChanged(): void {
  const paper = isPaperSchedule(field('schedule').value as Schedule);
  const method = field('method').value as Method;
  const ddpm = method === 'ddpm';
  const applies = { t: ddpm && !paper, lr: (ddpm && !paper) || method === 'gradient-em' };
  const defaults = {
    t: `default ${SCHEDULE_DEFAULTS.noiseScale}`,
    lr: ddpm ? 'default max(1, K/16)' : `default ${EM_DEFAULTS.gradientEmLr}`,
  };
  for (const key of ['t', 'lr'] as const) {
    const el = field(key);
    el.disabled = !applies[key];
    el.title = applies[key] ? '' : paper ? 'set by the schedule (its measured defaults)' : 'not used by this method';
    if (el instanceof HTMLInputElement) el.placeholder = applies[key] ? defaults[key] : '';
  }
  const steps = field('steps');
  if (steps instanceof HTMLInputElement) steps.placeholder = `default ${ddpm ? SCHEDULE_DEFAULTS.maxSteps : EM_DEFAULTS.maxSteps}`;
  steps.title = paper ? "the step limit of the schedule's last stage" : ddpm && field('schedule').value === 'warm' ? 'the step limit before the averaging tail' : '';
}
field('schedule').addEventListener('change', methodChanged);
field('method').addEventListener('change', methodChanged);

function readForm(): RawSettings {
  const raw: RawSettings = {};
  for (const key of FIELDS) raw[key] = field(key).value;
  return raw;
}

function source(): 'generate' | 'file' {
  const checked = form.querySelector<HTMLInputElement>('input[name=source]:checked');
  return checked?.value === 'file' ? 'file' : 'generate';
}

let loadedFile: { data: Matrix; name: string } | undefined;

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  loadedFile = undefined;
  file.arrayBuffer().then((buffer) => {
    const { matrix: data, header, warnings } = parseMatrixBytes(new Uint8Array(buffer), file.name);
    loadedFile = { data, name: file.name };
    const notes = [...(header ? [`Columns: ${header.join(', ')}.`] : []), ...warnings].map((n) => ` ${n}`).join('');
    form.querySelector<HTMLInputElement>('input[name=source][value=file]')!.checked = true;
    field('d').value = String(data.cols);
    field('n').value = String(data.rows);
    if (field('schedule').value === 'warm') {
      field('schedule').value = 'single';
      methodChanged();
    }
    showMessage(`Loaded '${file.name}': ${data.rows} samples in d = ${data.cols}. A file has no true centres, so the run starts from K seeded data rows and no error is plotted.${notes}`, 'info');
  }).catch((e: unknown) => {
    showMessage(`${describe(e)}`);
    fileInput.value = '';
  });
});

// ---- the device ----

interface Gpu {
  readonly backend: GpuBackend;
  readonly timer: GpuTimer | undefined;
  readonly isSoftware: boolean;
  readonly timestamps: boolean;
}

const NO_WEBGPU =
  'This browser has no WebGPU (navigator.gpu is missing), so the page cannot train. WebGPU is on by default in Chrome and Edge 113+ ' +
  'on Windows, macOS and ChromeOS, and in Safari 26; on Linux start Chrome with --enable-unsafe-webgpu (and --enable-features=Vulkan), ' +
  'or in Firefox use Nightly with dom.webgpu.enabled. The command line (npm start) runs the same engine without a browser.';

async function openGpu(): Promise<Gpu> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error(NO_WEBGPU);
  const acquired = await acquireDevice();
  const { acquired: timed, timer } = GpuTimer.wrap(acquired);
  const backend = new GpuBackend({ acquired: timed, sources: WGSL_SOURCES });
  return { backend, timer, isSoftware: acquired.isSoftware, timestamps: acquired.hasTimestamps };
}

// ---- a run ----

let gpu: Gpu | undefined;
let session: Session | undefined;
let plots: Plots | undefined;
let longestTaskMs = 0;

// The longest main-thread task while training: the page's own measure of responsiveness.
if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => {
    const run = session;
    if (!run || run.startedAt === 0) return;
    const end = run.finishedAt || Infinity;
    // Entries arrive after the fact: count those that started while this run was training.
    for (const e of list.getEntries()) if (e.startTime >= run.startedAt && e.startTime <= end) longestTaskMs = Math.max(longestTaskMs, e.duration);
  }).observe({ type: 'longtask' });
}

function fmt(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '-' : Number(v.toPrecision(digits)).toString();
}

function result(): RunResult | undefined {
  if (!session || !gpu) return undefined;
  return buildResult(session, { adapter: gpu.backend.adapter, isSoftware: gpu.isSoftware, timestamps: gpu.timestamps, longestTaskMs });
}

/**
 * Plots redraw at most every PLOT_INTERVAL_MS: on a software adapter the canvas raster and
 * the WebGPU work share the same CPU cores, and redrawing every frame made steps 10x slower.
 */
const PLOT_INTERVAL_MS = 250;
let drawQueued = false;
let lastDraw = 0;
function render(): void {
  if (drawQueued) return;
  drawQueued = true;
  const wait = Math.max(0, lastDraw + PLOT_INTERVAL_MS - performance.now());
  setTimeout(() => requestAnimationFrame(() => {
    drawQueued = false;
    lastDraw = performance.now();
    draw();
  }), wait);
}

function draw(): void {
  const s = session;
  updateButtons();
  if (!s) return;
  plots?.update();
  const r = result()!;
  const m = s.settings.method;
  const unit = m === 'ddpm' ? 'step' : 'iteration';
  const last = s.points[s.points.length - 1]!;
  const name = m === 'ddpm' ? `DDPM-GD, ${s.settings.schedule} schedule` : m === 'em' ? 'EM' : 'gradient EM';
  // The stopping rules may end a run before its limit, so the limit is "at most".
  const lines = [
    `${s.status}: ${unit} ${s.stepsDone} / at most ${s.stepLimit} (${name}), N = ${s.input.data.rows}, d = ${s.input.data.cols}, K = ${s.settings.k}`,
  ];
  if (m === 'ddpm') {
    const stage = s.plan.stages.find((st) => st.name === last.stage);
    const scale = stage?.kind === 'gd' ? `, t = ${fmt(stage.noiseScale, 3)}, step size ${fmt(stage.lr, 3)}` : '';
    // A stage without a stopping rule (an averaging tail) runs to its limit: "rule met" would say nothing there.
    const hasRule = (name: string) => s.plan.stages.find((st) => st.name === name)?.stop.kind !== 'none';
    const ended = s.stages.map((st) => `${st.name} ${st.steps} steps${st.converged && hasRule(st.name) ? ' (rule met)' : ''}`).join('; ');
    lines.push(`stage: ${last.stage ?? 'starting'}${scale}${ended ? `   ended: ${ended}` : ''}`);
    lines.push(`loss ${fmt(last.loss)}   |dL/dm| ${fmt(last.gradNorm)}`);
  }
  if (r.error) {
    const angle = last.angle !== null ? `; angle |cos| ${fmt(last.angle)} (initially ${fmt(s.points[0]!.angle)})` : '';
    lines.push(`centre error: max ${fmt(r.error.max)}, mean ${fmt(r.error.mean)} (initially ${fmt(s.points[0]!.errorMax)})${angle}`);
  } else lines.push('centre error: - (no true centres for a file)');
  if (r.em) lines.push(`EM beside it: iteration ${r.em.iterations} / ${s.settings.emIterations}, error max ${fmt(r.em.error?.max)}`);
  lines.push(`throughput ${r.timing.sampleGradsPerSec.toExponential(3)} sample-grads/s; ${fmt(r.timing.msPerStepWall)} ms/${unit} wall` +
    (r.timing.msPerStepGpu !== null ? `, ${fmt(r.timing.msPerStepGpu)} ms/${unit} GPU (timestamp queries)` : gpu?.timestamps ? '' : ' (no timestamp queries on this adapter)'));
  lines.push(`elapsed ${fmt(r.timing.elapsedSeconds, 3)} s; longest main-thread task ${fmt(longestTaskMs, 3)} ms`);
  statusEl.textContent = lines.join('\n');
}

function updateButtons(): void {
  const st = session?.status;
  startBtn.disabled = !gpu || st === 'running' || st === 'paused';
  startBtn.textContent = st === 'done' || st === 'error' ? 'Start again' : 'Start';
  pauseBtn.disabled = st !== 'running' && st !== 'paused';
  pauseBtn.textContent = st === 'paused' ? 'Resume' : 'Pause';
  exportBtn.disabled = !session || session.stepsDone === 0;
}

function dataFor(s: Settings): PageData {
  if (source() === 'file') {
    if (!loadedFile) throw new InputError('Choose a .npy or CSV file first, or switch the problem to "generate a mixture".');
    return fileData(loadedFile.data, loadedFile.name, s.k);
  }
  return generatedData(s);
}

async function startRun(s: Settings): Promise<void> {
  if (!gpu) return;
  await stopRun();
  showMessage('');
  const input = dataFor(s);
  const start = startOf(s, input);
  longestTaskMs = 0;
  const run = new Session(gpu.backend, gpu.timer, s, input, start, render);
  session = run;
  plots = new Plots(run, principalProjection(input.data), {
    loss: $('plot-loss'), error: $('plot-error'), speed: $('plot-speed'), scatter: $('plot-scatter'), angle: $('plot-angle'),
  });
  $('angle-note').textContent = plots.hasAngle
    ? '|mu . mu*| / (||mu|| ||mu*||) for the centre difference mu = (mu1 - mu2) / 2 against the truth (1: the direction is learned).'
    : 'Only for K = 2 with true centres (a generated problem).';
  $('scatter-note').textContent = `${input.data.cols > 2 ? `First two principal components of the data (d = ${input.data.cols}). ` : ''}` +
    'Grey: data; black: true centres; hollow: start; blue: trajectories and current centres' +
    (!run.emEnabled ? '.' : run.emAfter ? '; orange: EM from k-means++, run after the schedule.' : '; orange: EM from the same start.');
  history.replaceState(null, '', `?${toParams(s).toString()}`);
  const finished = run.start();
  setState('running');
  draw(); // after start(), so that Pause is enabled at once
  await finished;
  finishRun(run);
}

function finishRun(run: Session): void {
  if (run !== session) return; // reset or replaced meanwhile
  draw();
  if (run.status === 'done') {
    api.result = result();
    setState('done');
  } else if (run.status === 'error') {
    api.result = result();
    fail(run.error);
  } else setState(run.status);
}

async function stopRun(): Promise<void> {
  const run = session;
  session = undefined;
  if (run) {
    await run.pause();
    run.cancel();
  }
  plots?.destroy();
  plots = undefined;
}

startBtn.addEventListener('click', () => {
  let s: Settings;
  try {
    s = parseSettings(readForm());
  } catch (e) {
    showMessage(describe(e));
    return;
  }
  startRun(s).catch(fail);
});

pauseBtn.addEventListener('click', () => {
  const run = session;
  if (!run) return;
  if (run.status === 'running') {
    setState('pausing');
    run.pause().then(() => finishRun(run)).catch(fail);
  } else if (run.status === 'paused') {
    setState('running');
    run.start().then(() => finishRun(run)).catch(fail);
    draw();
  }
});

resetBtn.addEventListener('click', () => {
  stopRun().then(() => {
    statusEl.textContent = 'Ready.';
    for (const id of ['plot-loss', 'plot-error', 'plot-speed', 'plot-scatter', 'plot-angle']) $(id).replaceChildren();
    showMessage('');
    api.result = undefined;
    api.error = undefined;
    setState(gpu ? 'ready' : 'error');
    updateButtons();
  }).catch(fail);
});

exportBtn.addEventListener('click', () => {
  const r = result();
  if (!r) return;
  const blob = new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `ddpm-gmm-${r.settings.method}-k${r.settings.k}-d${r.data.cols}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

// ---- start-up ----

async function benchMode(params: URLSearchParams, g: Gpu): Promise<void> {
  const num = (name: string, fallback: number) => Number(params.get(name) ?? fallback);
  const spec = { n: num('n', 2 ** 20), d: num('d', 64), k: num('k', 16), steps: num('steps', 10), warmup: num('warmup', 2) };
  statusEl.textContent = `Benchmark: N = ${spec.n}, d = ${spec.d}, K = ${spec.k} ...`;
  setState('running');
  const figures = await benchmarkPoint(g.backend, g.timer, spec, (m) => (statusEl.textContent += `\n${m}`));
  statusEl.textContent += `\n${JSON.stringify(figures, null, 2)}`;
  api.result = figures;
  setState('done');
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  let settings: Settings = DEFAULTS;
  let settingsError: unknown;
  try {
    settings = parseSettings(rawFromParams(params));
  } catch (e) {
    settingsError = e;
  }
  fillForm(settings);
  updateButtons();
  try {
    gpu = await openGpu();
  } catch (e) {
    adapterEl.textContent = 'No WebGPU adapter.';
    fail(e);
    return;
  }
  api.adapter = gpu.backend.adapter;
  adapterEl.textContent = `Adapter: ${gpu.backend.adapter}` +
    (gpu.isSoftware ? ' — a software adapter: WebGPU emulated on the CPU, far slower than a GPU.' : '') +
    (gpu.timestamps ? '' : ' (no timestamp queries: wall time only)');
  adapterEl.classList.toggle('software', gpu.isSoftware);
  gpu.backend.device.lost.then((info) => info.reason !== 'destroyed' && fail(new Error(`The WebGPU device was lost (${info.message || info.reason}). Reload the page.`))).catch(() => {});
  setState('ready');
  updateButtons();
  if (params.get('mode') === 'bench') return benchMode(params, gpu);
  if (settingsError) return fail(settingsError);
  if (settings.autorun) await startRun(settings);
}

main().catch(fail);
