// The page's form: its fields, the defaults shown as placeholders, and the settings it holds.
import { EM_DEFAULTS } from '../algorithms/baselines.ts';
import { DEFAULTS as SCHEDULE_DEFAULTS } from '../algorithms/schedules.ts';
import { isPaperSchedule, type Method, type RawSettings, type Schedule, type Settings } from './settings.ts';

export interface PageForm {
  field(name: string): HTMLInputElement | HTMLSelectElement;
  fillForm(s: Settings): void;
  methodChanged(): void;
  readForm(): RawSettings;
  source(): 'generate' | 'file';
}

export function pageForm(form: HTMLFormElement): PageForm {
  const FIELDS: (keyof Settings)[] = ['k', 'd', 'n', 'separation', 'seed', 'model', 'method', 'schedule', 't', 'lr', 'steps', 'noiseSeed', 'emIterations', 'degree', 'levels', 'cells'];

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
    // The student's fields and the piecewise model's: only the selected model's are shown.
    const piecewise = field('model').value === 'piecewise';
    for (const el of form.querySelectorAll<HTMLElement>('[data-model]')) el.hidden = el.dataset.model !== (piecewise ? 'piecewise' : 'student');
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

  function readForm(): RawSettings {
    const raw: RawSettings = {};
    for (const key of FIELDS) raw[key] = field(key).value;
    return raw;
  }

  function source(): 'generate' | 'file' {
    const checked = form.querySelector<HTMLInputElement>('input[name=source]:checked');
    return checked?.value === 'file' ? 'file' : 'generate';
  }

  field('schedule').addEventListener('change', methodChanged);
  field('method').addEventListener('change', methodChanged);
  field('model').addEventListener('change', methodChanged);
  return { field, fillForm, methodChanged, readForm, source };
}
