// The browser page: settings from the form or the URL, a run on WebGPU with live
// plots, EM beside it, export, and the headless contract (docs/browser.md):
// when a run ends, window.ddpmGmm.result holds the export JSON and
// document.body.dataset.state is "done" (or "error" with window.ddpmGmm.error).
import { InputError } from '../errors.ts';
import type { Matrix } from '../types.ts';
import { benchmarkPoint, type BenchFigures } from './bench-run.ts';
import { openGpu, type Gpu } from './device.ts';
import { buildResult, type RunResult } from './export.ts';
import { pageForm } from './form.ts';
import { generate, GENERATE_DEFAULT_N, GeneratePlot, type GenerateResult } from './generate.ts';
import { principalProjection } from './pca.ts';
import { Plots } from './plots.ts';
import { fileData, generatedData, parseMatrixBytes, type PageData } from './problem.ts';
import { Session } from './session.ts';
import { DEFAULTS, parseSettings, rawFromParams, type Settings, toParams } from './settings.ts';
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
const generateBtn = $<HTMLButtonElement>('generate');
const generateStatus = $('generate-status');

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

const { field, fillForm, methodChanged, readForm, source } = pageForm(form);

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

// ---- a run ----

let gpu: Gpu | undefined;
let session: Session | undefined;
let plots: Plots | undefined;
let longestTaskMs = 0;
/** The Generate panel's last result for the current session (cleared by a new run or reset). */
let generated: GenerateResult | undefined;
let generating = false;
let generatePlot: GeneratePlot | undefined;

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
  const r = buildResult(session, { adapter: gpu.backend.adapter, isSoftware: gpu.isSoftware, timestamps: gpu.timestamps, longestTaskMs });
  return generated ? { ...r, generate: generated } : r;
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
  // The current centres, while the GPU is not training (sampling shares its queue).
  generateBtn.disabled = !gpu || !session || generating || st === 'running';
}

/** The Generate panel with the session's current centres: n particles, FRAMES frames, then the distances. */
async function runGenerate(n: number): Promise<void> {
  const run = session;
  if (!gpu || !run || generating) return;
  generating = true;
  generated = undefined;
  updateButtons();
  const state = api.state;
  setState('generating');
  try {
    generatePlot?.destroy();
    const projection = principalProjection(run.input.data);
    generatePlot = new GeneratePlot($('plot-generate'), projection, run.input.data, run.centres);
    const g = await generate(gpu.backend, run.centres, run.input.data, n, generatePlot, (done, total) => {
      generateStatus.textContent = `reverse diffusion: step ${done} / ${total}, n = ${n} particles`;
    });
    if (run !== session) return;
    generated = g;
    generateStatus.textContent = `n = ${g.n}, ${g.steps} steps (T = ${fmt(g.horizon, 3)}), ${g.frames} frames\n` +
      `energy distance to ${g.dataRows} data rows:\n  generated ${fmt(g.energyDistance)}\n  direct draws from the learned mixture ${fmt(g.directEnergyDistance)}`;
    api.result = result();
    setState('generated');
  } catch (e) {
    if (state === 'done') api.result = result();
    fail(e);
  } finally {
    generating = false;
    updateButtons();
  }
}

generateBtn.addEventListener('click', () => {
  runGenerate(GENERATE_DEFAULT_N).catch(fail);
});

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
  generated = undefined;
  generateStatus.textContent = '';
  generatePlot?.destroy();
  generatePlot = undefined;
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
    generatePlot?.destroy();
    generatePlot = undefined;
    generated = undefined;
    generateStatus.textContent = '';
    for (const id of ['plot-loss', 'plot-error', 'plot-speed', 'plot-scatter', 'plot-angle', 'plot-generate']) $(id).replaceChildren();
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
  const count = params.get('generate');
  let particles: number | undefined;
  if (count !== null) {
    particles = count === '' ? GENERATE_DEFAULT_N : Number(count);
    if (!Number.isSafeInteger(particles) || particles < 1) return fail(new InputError(`generate=N takes a positive integer particle count (got '${count}'), e.g. generate=${GENERATE_DEFAULT_N}`));
  }
  if (settings.autorun) {
    await startRun(settings);
    // generate=N: after a run that ended, the Generate panel with its centres (state 'generated' when done).
    if (particles !== undefined && session?.status === 'done') await runGenerate(particles);
  }
}

main().catch(fail);
