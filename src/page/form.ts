// The page's form: its fields, the defaults shown as placeholders, and the settings it holds.
import { EM_DEFAULTS } from '../algorithms/baselines.ts';
import { DEFAULTS as SCHEDULE_DEFAULTS, defaultLr, emStepLr } from '../algorithms/schedules.ts';
import { SCALE_OPTION, SCALES } from '../scaling.ts';
import { DEFAULT_SCHEDULE, isPaperSchedule, libraryDefaultSchedule, type Method, type RawSettings, type Schedule, type Settings } from './settings.ts';

export interface PageForm {
  field(name: string): HTMLInputElement | HTMLSelectElement;
  fillForm(s: Settings): void;
  methodChanged(): void;
  readForm(): RawSettings;
  source(): 'generate' | 'file';
  useFile(shape?: { rows: number; cols: number }): void;
}

export function pageForm(form: HTMLFormElement): PageForm {
  const FIELDS: (keyof Settings)[] = ['k', 'd', 'n', 'separation', 'seed', 'model', 'method', 'schedule', 'scale', 't', 'lr', 'steps', 'noiseSeed', 'emIterations', 'degree', 'levels', 'cells'];

  function field(name: string): HTMLInputElement | HTMLSelectElement {
    const el = form.elements.namedItem(name);
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`The form is missing '${name}'.`);
    return el;
  }

  // The scalings from the registry, the estimator's default first named as such.
  const scale = field('scale');
  for (const name of SCALES) scale.appendChild(Object.assign(document.createElement('option'), { value: name, textContent: name === SCALE_OPTION.default ? `${name} (default)` : name }));

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
    // The student's fields and the piecewise model's: only the selected model's are shown.
    const piecewise = field('model').value === 'piecewise';
    for (const el of form.querySelectorAll<HTMLElement>('[data-model]')) el.hidden = el.dataset.model !== (piecewise ? 'piecewise' : 'student');
    // The defaults for this K, as numbers (the formulas are in the options' titles and docs/browser.md).
    const k = Math.max(1, Math.round(Number(field('k').value)) || 1);
    const chosen = field('schedule').value;
    const schedule = (chosen === DEFAULT_SCHEDULE ? libraryDefaultSchedule(k) : chosen) as Schedule;
    const paper = isPaperSchedule(schedule);
    const method = field('method').value as Method;
    const ddpm = method === 'ddpm';
    const applies = { t: ddpm && !paper, lr: (ddpm && !paper) || method === 'gradient-em' };
    const defaults = {
      t: `default ${SCHEDULE_DEFAULTS.noiseScale}`,
      lr: `default ${ddpm ? (schedule === 'screened' ? emStepLr(k) : defaultLr(k)) : EM_DEFAULTS.gradientEmLr}`,
    };
    for (const key of ['t', 'lr'] as const) {
      const el = field(key);
      el.disabled = !applies[key];
      el.title = applies[key] ? '' : paper ? 'set by the schedule (its measured defaults)' : 'not used by this method';
      if (el instanceof HTMLInputElement) el.placeholder = applies[key] ? defaults[key] : '';
    }
    const steps = field('steps');
    const stepLimit = ddpm ? (schedule === 'screened' ? SCHEDULE_DEFAULTS.screenMaxSteps : SCHEDULE_DEFAULTS.maxSteps) : EM_DEFAULTS.maxSteps;
    if (steps instanceof HTMLInputElement) steps.placeholder = `default ${stepLimit}`;
    steps.title = paper ? "the step limit of the schedule's last stage" : ddpm && (schedule === 'warm' || schedule === 'screened') ? 'the step limit before the averaging tail' : '';
  }

  function readForm(): RawSettings {
    const raw: RawSettings = {};
    for (const key of FIELDS) raw[key] = field(key).value;
    return raw;
  }

  /**
   * The problem switched to "load a file"; with a loaded file's shape, its d and N, and the library's defaults, as
   * `ddpm-gmm fit` and DdpmGmm take a file: the default schedule for K and the default scaling.
   */
  function useFile(shape?: { rows: number; cols: number }): void {
    form.querySelector<HTMLInputElement>('input[name=source][value=file]')!.checked = true;
    if (!shape) return;
    field('d').value = String(shape.cols);
    field('n').value = String(shape.rows);
    if (field('method').value === 'ddpm') field('schedule').value = DEFAULT_SCHEDULE;
    else if (field('schedule').value === 'warm') field('schedule').value = 'single';
    field('scale').value = SCALE_OPTION.default as string;
    methodChanged();
  }

  function source(): 'generate' | 'file' {
    const checked = form.querySelector<HTMLInputElement>('input[name=source]:checked');
    return checked?.value === 'file' ? 'file' : 'generate';
  }

  field('schedule').addEventListener('change', methodChanged);
  field('method').addEventListener('change', methodChanged);
  field('model').addEventListener('change', methodChanged);
  field('k').addEventListener('input', methodChanged);
  return { field, fillForm, methodChanged, readForm, source, useFile };
}
