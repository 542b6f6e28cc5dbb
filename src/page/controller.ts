// The page's controller: it owns the page's state (the WebGPU device, the current run, its plots, the
// Generate panel, a loaded file) and does the page's actions; main.ts wires the DOM's events to it.
// The headless contract (docs/browser.md): when a run ends, api.result holds the export JSON and
// document.body.dataset.state is "done" (or "error" with api.error).
import { InputError } from '../errors.ts';
import type { PiecewiseModel } from '../piecewise/model.ts';
import type { Matrix } from '../types.ts';
import { benchFromParams, type BenchFigures } from './bench-run.ts';
import { openGpu, type Gpu } from './device.ts';
import type { PageElements } from './elements.ts';
import { buildResult, downloadJson, type RunResult } from './export.ts';
import type { PageForm } from './form.ts';
import { generate, GeneratePlot, type GenerateResult, particleCount } from './particles.ts';
import { principalProjection } from './pca.ts';
import { cellsInData, drawCells, fitOnPage, levelLine, type PiecewiseResult } from './piecewise.ts';
import { Plots, showPanels } from './plots.ts';
import { fileData, generatedData, parseMatrixBytes, type PageData } from './problem.ts';
import { Session } from './session.ts';
import { DEFAULTS, parseSettings, rawFromParams, type Settings, toParams } from './settings.ts';
import { startOf } from './start.ts';
import { fmt, statusLines } from './status.ts';
import { fitSummary, renderSummary, type FitSummary } from './summary.ts';

/** What headless callers read as window.ddpmGmm. */
export interface PageApi {
  state: string;
  result?: RunResult | PiecewiseResult | BenchFigures;
  error?: string;
  adapter?: string;
}

/** A piecewise run (settings model=piecewise): its data, and its fitted model and result once the fit has ended. */
interface PiecewiseRun {
  input: PageData;
  model?: PiecewiseModel;
  result?: PiecewiseResult;
}

/**
 * Plots redraw at most every PLOT_INTERVAL_MS: on a software adapter the canvas raster and
 * the WebGPU work share the same CPU cores, and redrawing every frame starved the steps (docs/browser.md).
 */
const PLOT_INTERVAL_MS = 250;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class PageController {
  readonly api: PageApi = { state: 'loading' };
  private gpu: Gpu | undefined;
  /** The student's run, or the piecewise run: at most one of the two is set. */
  private session: Session | undefined;
  private piecewise: PiecewiseRun | undefined;
  private plots: Plots | undefined;
  /** The longest main-thread task while the current run trained: the page's own measure of responsiveness. */
  private longestTaskMs = 0;
  /** The Generate panel's last result for the current run (cleared by a new run or reset). */
  private generated: GenerateResult | undefined;
  private generating = false;
  private generatePlot: GeneratePlot | undefined;
  private loadedFile: { data: Matrix; name: string; header?: readonly string[] } | undefined;
  /** The last file load's failure: Start on "load a file" shows it again rather than run anything else. */
  private loadError: string | undefined;
  /** The log-likelihood, BIC and cluster sizes of the current run's centres, once it has ended or paused. */
  private summary: FitSummary | undefined;
  private drawQueued = false;
  private lastDraw = 0;

  constructor(private readonly el: PageElements, private readonly form: PageForm) {}

  /** A failure that ends the run (or the page's start): shown on the page and published for headless callers. */
  fail(e: unknown): void {
    const text = describe(e);
    this.showMessage(e instanceof InputError ? text : `Error: ${text}`);
    this.api.error = text;
    this.setState('error');
  }

  /** Long-task entries as they arrive (after the fact): those that started while the current run trained count. */
  noteLongTasks(entries: readonly PerformanceEntry[]): void {
    const run = this.session;
    if (!run || run.startedAt === 0) return;
    const end = run.finishedAt || Infinity;
    for (const e of entries) if (e.startTime >= run.startedAt && e.startTime <= end) this.longestTaskMs = Math.max(this.longestTaskMs, e.duration);
  }

  /** The page's start: settings from the URL, the adapter, then the benchmark mode, or autorun and generate=N. */
  async boot(params: URLSearchParams): Promise<void> {
    let settings: Settings = DEFAULTS;
    let settingsError: unknown;
    try {
      settings = parseSettings(rawFromParams(params));
    } catch (e) {
      settingsError = e;
    }
    this.form.fillForm(settings);
    this.updateButtons();
    let gpu: Gpu;
    try {
      gpu = this.gpu = await openGpu();
    } catch (e) {
      this.el.adapter.textContent = 'No WebGPU adapter.';
      this.fail(e);
      return;
    }
    this.api.adapter = gpu.backend.adapter;
    this.el.adapter.textContent = `Adapter: ${gpu.backend.adapter}` +
      (gpu.isSoftware ? ' — a software adapter: WebGPU emulated on the CPU, far slower than a GPU.' : '') +
      (gpu.timestamps ? '' : ' (no timestamp queries: wall time only)');
    this.el.adapter.classList.toggle('software', gpu.isSoftware);
    gpu.backend.device.lost.then((info) => info.reason !== 'destroyed' && this.fail(new Error(`The WebGPU device was lost (${info.message || info.reason}). Reload the page.`))).catch(() => {});
    this.setState('ready');
    this.updateButtons();
    if (params.get('mode') === 'bench') return this.bench(params, gpu);
    if (settingsError) return this.fail(settingsError);
    const count = params.get('generate');
    let particles: number | undefined;
    if (count !== null) {
      try {
        particles = particleCount(count, 'generate=N');
      } catch (e) {
        return this.fail(e);
      }
      this.el.generateCount.value = String(particles);
    }
    const file = params.get('file');
    if (file !== null) {
      // A link to a run on a file records its name; the file itself must be chosen again.
      this.form.useFile();
      this.showMessage(`This link ran on the file '${file}': choose it under "data file" and press Start to run it again.`, 'info');
      return;
    }
    if (settings.autorun) {
      await this.start(settings);
      // generate=N: after a run that ended, the Generate panel with its centres or model (state 'generated' when done).
      if (particles !== undefined && (this.session?.status === 'done' || this.piecewise?.model)) await this.generate(particles);
    }
  }

  /** Reads a .npy or CSV file through the CLI's reader; the next run on "load a file" uses it. */
  async loadFile(file: File): Promise<void> {
    const { el, form } = this;
    this.loadedFile = undefined;
    this.loadError = undefined;
    // The user chose a file: the next Start runs on it or fails with its message, never on a generated problem.
    form.useFile();
    try {
      const { matrix: data, header, warnings } = parseMatrixBytes(new Uint8Array(await file.arrayBuffer()), file.name);
      this.loadedFile = { data, name: file.name, ...(header ? { header } : {}) };
      const notes = [...(header ? [`Columns: ${header.join(', ')}.`] : []), ...warnings].map((n) => ` ${n}`).join('');
      form.useFile(data);
      this.showMessage(`Loaded '${file.name}': ${data.rows} samples in d = ${data.cols}. It runs on the library's defaults (the schedule for K, scaling '${DEFAULTS.scale}'); a file has no true centres, so the page shows the log-likelihood, BIC and cluster sizes instead of errors.${notes}`, 'info');
    } catch (e) {
      this.loadError = describe(e);
      this.showMessage(this.loadError);
      el.file.value = '';
    }
  }

  /** Start with the form's settings; settings that do not parse leave a message and no run. */
  startFromForm(): void {
    let s: Settings;
    try {
      s = parseSettings(this.form.readForm());
    } catch (e) {
      this.showMessage(describe(e));
      return;
    }
    this.start(s).catch((e: unknown) => this.fail(e));
  }

  /** A new run with these settings, replacing the current one; resolves when it has ended or been paused. */
  async start(s: Settings): Promise<void> {
    const { el, gpu } = this;
    if (!gpu) return;
    await this.stop();
    this.showMessage('');
    const input = this.dataFor(s);
    const start = startOf(s, input);
    this.longestTaskMs = 0;
    this.clearGenerated();
    this.summary = undefined;
    el.byId('fit-summary').replaceChildren();
    showPanels(document, s.model === 'piecewise', input.truth !== undefined, s.k);
    const note = el.byId('generate-note');
    note.textContent = note.dataset[s.model] ?? '';
    if (s.model === 'piecewise') return this.fitPiecewise(s, input);
    const run = new Session(gpu.backend, gpu.timer, s, input, start, () => this.render());
    this.session = run;
    this.plots = new Plots(run, principalProjection(input.data), {
      loss: el.byId('plot-loss'), error: el.byId('plot-error'), ll: el.byId('plot-ll'), speed: el.byId('plot-speed'), scatter: el.byId('plot-scatter'), angle: el.byId('plot-angle'),
    });
    el.byId('scatter-note').textContent = `${input.data.cols > 2 ? `First two principal components of the data (d = ${input.data.cols}). ` : ''}` +
      `Grey: data${input.truth ? '; black rings: true centres' : ''}; hollow: start; blue: trajectories and current centres` +
      (!run.emEnabled ? '.' : run.emAfter ? '; orange: EM from k-means++, run after the schedule.' : '; orange: EM from the same start.');
    this.writeUrl(s);
    if (run.fit.notes.length > 0) this.showMessage(`Scaling: ${run.fit.notes.join('; ')}.`, 'info');
    const finished = run.start();
    this.setState('running');
    this.draw(); // after start(), so that Pause is enabled at once
    await finished;
    this.finishRun(run);
  }

  /** Pause a training run, or resume a paused one. */
  togglePause(): void {
    const run = this.session;
    if (!run) return;
    if (run.status === 'running') {
      this.setState('pausing');
      run.pause().then(() => this.finishRun(run)).catch((e: unknown) => this.fail(e));
    } else if (run.status === 'paused') {
      this.summary = undefined;
      this.setState('running');
      run.start().then(() => this.finishRun(run)).catch((e: unknown) => this.fail(e));
      this.draw();
    }
  }

  /** Drops the run, its plots and the Generate panel: the page as after its start. */
  async reset(): Promise<void> {
    await this.stop();
    this.el.status.textContent = 'Ready.';
    this.clearGenerated();
    this.summary = undefined;
    for (const id of ['plot-loss', 'plot-error', 'plot-ll', 'plot-speed', 'plot-scatter', 'plot-angle', 'plot-generate', 'fit-summary']) this.el.byId(id).replaceChildren();
    this.showMessage('');
    this.api.result = undefined;
    this.api.error = undefined;
    this.setState(this.gpu ? 'ready' : 'error');
    this.updateButtons();
  }

  /** The Generate panel with the run's current centres or piecewise model: n particles, its frames, then the distances. */
  async generate(n: number): Promise<void> {
    const { el, gpu } = this;
    const run = this.piecewise?.model ? this.piecewise : this.session;
    if (!gpu || !run || this.generating) return;
    // A student samples in the coordinates it was fitted in (its scaling's), as DdpmGmm.sample does.
    const score = run instanceof Session ? run.fitCentres : run.model!;
    const data = run instanceof Session ? run.fit.data : run.input.data;
    this.generating = true;
    this.generated = undefined;
    this.updateButtons();
    const state = this.api.state;
    this.setState('generating');
    try {
      this.generatePlot?.destroy();
      const projection = principalProjection(data);
      const plot = this.generatePlot = new GeneratePlot(el.byId('plot-generate'), projection, data, 'kind' in score ? cellsInData(score) : score);
      const g = await generate(gpu.backend, score, data, n, plot, (done, total) => {
        el.generateStatus.textContent = `sampling: step ${done} / ${total}, n = ${n} particles`;
      }, run instanceof Session ? run.student : undefined);
      if (run !== this.session && run !== this.piecewise) return;
      this.generated = g;
      el.generateStatus.textContent = `n = ${g.n}, ${g.steps} steps (T = ${fmt(g.horizon, 3)}), ${g.frames} frames\n` +
        `energy distance to ${g.dataRows} data rows:\n  generated ${fmt(g.energyDistance)}\n  direct draws from the learned mixture ${g.directEnergyDistance === null ? '- (a piecewise model is a score: no mixture to draw from)' : fmt(g.directEnergyDistance)}`;
      this.api.result = this.result();
      // The link reproduces the run and its Generate panel.
      this.writeUrl(run instanceof Session ? run.settings : this.api.result!.settings as Settings, n);
      this.setState('generated');
    } catch (e) {
      if (state === 'done') this.api.result = this.result();
      this.fail(e);
    } finally {
      this.generating = false;
      this.updateButtons();
    }
  }

  /** Downloads the current result as JSON (the same object as api.result). */
  exportJson(): void {
    const r = this.result();
    if (r) downloadJson(r, `ddpm-gmm-${r.settings.model === 'piecewise' ? 'piecewise' : r.settings.method}-k${r.settings.k}-d${r.data.cols}.json`);
  }

  // ---- the run's pieces ----

  /** The settings into the URL (the link to this run): the file's name for a file, and generate=N after a Generate. */
  private writeUrl(s: Settings, particles?: number): void {
    const params = toParams(s);
    if (this.form.source() === 'file' && this.loadedFile) params.set('file', this.loadedFile.name);
    if (particles !== undefined) params.set('generate', String(particles));
    history.replaceState(null, '', `?${params.toString()}`);
  }

  private dataFor(s: Settings): PageData {
    if (this.form.source() === 'file') {
      if (this.loadError) throw new InputError(`${this.loadError} Start runs on a file that loaded: choose another file, or switch the problem to "generate a mixture".`);
      if (!this.loadedFile) throw new InputError('Choose a .npy or CSV file first, or switch the problem to "generate a mixture".');
      return fileData(this.loadedFile.data, this.loadedFile.name, s.k);
    }
    return generatedData(s);
  }

  /** The piecewise model on the page's backend: a status line per level, then its cells in the scatter's view. */
  private async fitPiecewise(s: Settings, input: PageData): Promise<void> {
    const { el } = this;
    const run: PiecewiseRun = { input };
    this.piecewise = run;
    this.writeUrl(s);
    this.setState('running');
    this.updateButtons();
    el.status.textContent = `piecewise fit: starting, N = ${input.data.rows}, d = ${input.data.cols}`;
    let fitted: Awaited<ReturnType<typeof fitOnPage>>;
    try {
      fitted = await fitOnPage(this.gpu!.backend, s, input, (report) => (el.status.textContent = levelLine(report, s.degree)));
    } catch (e) {
      if (this.piecewise === run) this.piecewise = undefined; // a failed fit leaves no run behind, so that Start is enabled again
      this.updateButtons();
      throw e;
    }
    const { model, result: r } = fitted;
    if (run !== this.piecewise) return; // reset or replaced meanwhile
    Object.assign(run, { model, result: r });
    drawCells(el.byId('plot-scatter'), principalProjection(input.data), input.data, model);
    el.byId('scatter-note').textContent = `${input.data.cols > 2 ? `First two principal components of the data (d = ${input.data.cols}). ` : ''}Data coloured by their cell at the lowest level (t = ${model.levels.at(-1)!.t}); black: the cell centres.`;
    el.status.textContent = `${levelLine(r.levels.at(-1)!, s.degree)}\ndone in ${fmt(r.seconds, 3)} s on ${r.adapter}${r.notes.length ? `\n${r.notes.length} note(s): ${r.notes[0]}` : ''}`;
    this.api.result = this.result();
    this.setState('done');
    this.updateButtons();
  }

  private finishRun(run: Session): void {
    if (run !== this.session) return; // reset or replaced meanwhile
    if (run.status === 'done' || run.status === 'paused') {
      this.summary = fitSummary(run);
      renderSummary(this.el.byId('fit-summary'), this.summary, run.input.source.kind === 'file' ? this.loadedFile?.header : undefined);
    }
    this.draw();
    if (run.status === 'done') {
      this.api.result = this.result();
      this.setState('done');
    } else if (run.status === 'error') {
      this.api.result = this.result();
      this.fail(run.error);
    } else this.setState(run.status);
  }

  private async stop(): Promise<void> {
    const run = this.session;
    this.session = undefined;
    this.piecewise = undefined;
    if (run) {
      await run.pause();
      run.cancel();
    }
    this.plots?.destroy();
    this.plots = undefined;
  }

  private clearGenerated(): void {
    this.generated = undefined;
    this.el.generateStatus.textContent = '';
    this.generatePlot?.destroy();
    this.generatePlot = undefined;
  }

  /** mode=bench: one timed point of the engine (bench-run.ts), its figures as the result. */
  private async bench(params: URLSearchParams, g: Gpu): Promise<void> {
    this.setState('running');
    this.api.result = await benchFromParams(params, g.backend, g.timer, this.el.status);
    this.setState('done');
  }

  // ---- what the page shows ----

  private result(): RunResult | PiecewiseResult | undefined {
    const { piecewise, session, gpu, generated } = this;
    if (piecewise?.result) return generated ? { ...piecewise.result, generate: generated } : piecewise.result;
    if (!session || !gpu) return undefined;
    const r = buildResult(session, { adapter: gpu.backend.adapter, isSoftware: gpu.isSoftware, timestamps: gpu.timestamps, longestTaskMs: this.longestTaskMs }, this.summary ?? null);
    return generated ? { ...r, generate: generated } : r;
  }

  private setState(state: string): void {
    this.api.state = state;
    document.body.dataset.state = state;
  }

  private showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
    this.el.message.textContent = text;
    this.el.message.className = text ? kind : '';
  }

  /** A redraw soon, at most one per PLOT_INTERVAL_MS (the session calls this after each chunk). */
  private render(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    const wait = Math.max(0, this.lastDraw + PLOT_INTERVAL_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => {
      this.drawQueued = false;
      this.lastDraw = performance.now();
      this.draw();
    }), wait);
  }

  private draw(): void {
    const s = this.session;
    this.updateButtons();
    if (!s) return;
    this.plots?.update();
    this.el.status.textContent = statusLines(s, this.result() as RunResult, this.gpu?.timestamps ?? false, this.longestTaskMs).join('\n');
  }

  private updateButtons(): void {
    const { el, piecewise, session } = this;
    const st = piecewise ? (piecewise.model ? 'done' : 'running') : session?.status;
    el.start.disabled = !this.gpu || st === 'running' || st === 'paused';
    el.start.textContent = st === 'done' || st === 'error' ? 'Start again' : 'Start';
    el.pause.disabled = piecewise !== undefined || (st !== 'running' && st !== 'paused');
    el.pause.textContent = st === 'paused' ? 'Resume' : 'Pause';
    el.export.disabled = !piecewise?.result && (!session || session.stepsDone === 0);
    // The current centres or piecewise model, while the GPU is not training (sampling shares its queue).
    el.generate.disabled = !this.gpu || (!session && !piecewise) || this.generating || st === 'running';
  }
}
