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
import { generate, GENERATE_DEFAULT_N, GENERATE_MAX_N, GeneratePlot, type GenerateResult, particleCount } from './particles.ts';
import { principalProjection } from './pca.ts';
import { cellsInData, drawCells, fitOnPage, levelLine, type PiecewiseResult } from './piecewise.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import { Plots } from './plots.ts';
import { fileData, generatedData, parseMatrixBytes, type PageData } from './problem.ts';
import { Session } from './session.ts';
import { DEFAULTS, parseSettings, rawFromParams, type Settings, toParams } from './settings.ts';
import { startOf } from './start.ts';
import { fmt, statusLines } from './status.ts';

interface PageApi {
  state: string;
  result?: RunResult | PiecewiseResult | BenchFigures;
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
const generateCount = $<HTMLInputElement>('generate-n');
generateCount.value = String(GENERATE_DEFAULT_N);
generateCount.max = String(GENERATE_MAX_N);

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
/** The piecewise run (settings model=piecewise): its data, fitted model and result once the fit has ended. */
let piecewise: { input: PageData; model?: PiecewiseModel; result?: PiecewiseResult } | undefined;

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

function result(): RunResult | PiecewiseResult | undefined {
  if (piecewise?.result) return generated ? { ...piecewise.result, generate: generated } : piecewise.result;
  if (!session || !gpu) return undefined;
  const r = buildResult(session, { adapter: gpu.backend.adapter, isSoftware: gpu.isSoftware, timestamps: gpu.timestamps, longestTaskMs });
  return generated ? { ...r, generate: generated } : r;
}

/**
 * Plots redraw at most every PLOT_INTERVAL_MS: on a software adapter the canvas raster and
 * the WebGPU work share the same CPU cores, and redrawing every frame starved the steps (docs/browser.md).
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
  statusEl.textContent = statusLines(s, result() as RunResult, gpu?.timestamps ?? false, longestTaskMs).join('\n');
}

function updateButtons(): void {
  const st = piecewise ? (piecewise.model ? 'done' : 'running') : session?.status;
  startBtn.disabled = !gpu || st === 'running' || st === 'paused';
  startBtn.textContent = st === 'done' || st === 'error' ? 'Start again' : 'Start';
  pauseBtn.disabled = piecewise !== undefined || (st !== 'running' && st !== 'paused');
  pauseBtn.textContent = st === 'paused' ? 'Resume' : 'Pause';
  exportBtn.disabled = !piecewise?.result && (!session || session.stepsDone === 0);
  // The current centres or piecewise model, while the GPU is not training (sampling shares its queue).
  generateBtn.disabled = !gpu || (!session && !piecewise) || generating || st === 'running';
}

/** The Generate panel with the session's current centres: n particles, FRAMES frames, then the distances. */
async function runGenerate(n: number): Promise<void> {
  const run = piecewise?.model ? piecewise : session;
  if (!gpu || !run || generating) return;
  const score = run instanceof Session ? run.centres : run.model!;
  generating = true;
  generated = undefined;
  updateButtons();
  const state = api.state;
  setState('generating');
  try {
    generatePlot?.destroy();
    const projection = principalProjection(run.input.data);
    generatePlot = new GeneratePlot($('plot-generate'), projection, run.input.data, 'kind' in score ? cellsInData(score) : score);
    const g = await generate(gpu.backend, score, run.input.data, n, generatePlot, (done, total) => {
      generateStatus.textContent = `reverse diffusion: step ${done} / ${total}, n = ${n} particles`;
    });
    if (run !== session && run !== piecewise) return;
    generated = g;
    generateStatus.textContent = `n = ${g.n}, ${g.steps} steps (T = ${fmt(g.horizon, 3)}), ${g.frames} frames\n` +
      `energy distance to ${g.dataRows} data rows:\n  generated ${fmt(g.energyDistance)}\n  direct draws from the learned mixture ${g.directEnergyDistance === null ? '- (a piecewise model is a score: no mixture to draw from)' : fmt(g.directEnergyDistance)}`;
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
  try {
    runGenerate(particleCount(generateCount.value, 'The particle count')).catch(fail);
  } catch (e) {
    fail(e);
  }
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
  // The loss, error, angle and throughput panels follow a student's training steps; a piecewise fit has none.
  for (const panel of document.querySelectorAll<HTMLElement>('[data-run="student"]')) panel.hidden = s.model === 'piecewise';
  const note = $('generate-note');
  note.textContent = note.dataset[s.model] ?? '';
  if (s.model === 'piecewise') return fitPiecewise(s, input);
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

/** The piecewise model on the page's backend: a status line per level, then its cells in the scatter's view. */
async function fitPiecewise(s: Settings, input: PageData): Promise<void> {
  const run: NonNullable<typeof piecewise> = { input };
  piecewise = run;
  history.replaceState(null, '', `?${toParams(s).toString()}`);
  setState('running');
  updateButtons();
  statusEl.textContent = `piecewise fit: starting, N = ${input.data.rows}, d = ${input.data.cols}`;
  let fitted: Awaited<ReturnType<typeof fitOnPage>>;
  try {
    fitted = await fitOnPage(gpu!.backend, s, input, (report) => (statusEl.textContent = levelLine(report, s.degree)));
  } catch (e) {
    if (piecewise === run) piecewise = undefined; // a failed fit leaves no run behind, so that Start is enabled again
    updateButtons();
    throw e;
  }
  const { model, result: r } = fitted;
  if (run !== piecewise) return; // reset or replaced meanwhile
  Object.assign(run, { model, result: r });
  drawCells($('plot-scatter'), principalProjection(input.data), input.data, model);
  $('scatter-note').textContent = `${input.data.cols > 2 ? `First two principal components of the data (d = ${input.data.cols}). ` : ''}Data coloured by their cell at the lowest level (t = ${model.levels.at(-1)!.t}); black: the cell centres.`;
  statusEl.textContent = `${levelLine(r.levels.at(-1)!, s.degree)}\ndone in ${fmt(r.seconds, 3)} s on ${r.adapter}${r.notes.length ? `\n${r.notes.length} note(s): ${r.notes[0]}` : ''}`;
  api.result = result();
  setState('done');
  updateButtons();
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
  piecewise = undefined;
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
  a.download = `ddpm-gmm-${r.settings.model === 'piecewise' ? 'piecewise' : r.settings.method}-k${r.settings.k}-d${r.data.cols}.json`;
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
    try {
      particles = particleCount(count, 'generate=N');
    } catch (e) {
      return fail(e);
    }
    generateCount.value = String(particles);
  }
  if (settings.autorun) {
    await startRun(settings);
    // generate=N: after a run that ended, the Generate panel with its centres or model (state 'generated' when done).
    if (particles !== undefined && (session?.status === 'done' || piecewise?.model)) await runGenerate(particles);
  }
}

main().catch(fail);
