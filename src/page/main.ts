// The browser page: settings from the form or the URL, a run on WebGPU with live plots, EM beside
// it, export, and the headless contract (docs/browser.md). This file builds the page's controller
// (controller.ts), publishes its api as window.ddpmGmm and wires the DOM's events to its actions.
import { PageController, type PageApi } from './controller.ts';
import { pageElements } from './elements.ts';
import { pageForm } from './form.ts';
import { GENERATE_DEFAULT_N, GENERATE_MAX_N, particleCount } from './particles.ts';

const el = pageElements();
el.generateCount.value = String(GENERATE_DEFAULT_N);
el.generateCount.max = String(GENERATE_MAX_N);
const page = new PageController(el, pageForm(el.form));
(window as unknown as { ddpmGmm: PageApi }).ddpmGmm = page.api;
const fail = (e: unknown): void => page.fail(e);

// Nothing may leave a blank or silent page: anything uncaught is shown.
window.addEventListener('error', (ev) => fail(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));

// The longest main-thread task while training: the page's own measure of responsiveness.
if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => page.noteLongTasks(list.getEntries())).observe({ type: 'longtask' });
}

el.file.addEventListener('change', () => {
  const file = el.file.files?.[0];
  if (file) void page.loadFile(file);
});
el.start.addEventListener('click', () => page.startFromForm());
el.pause.addEventListener('click', () => page.togglePause());
el.reset.addEventListener('click', () => page.reset().catch(fail));
el.export.addEventListener('click', () => page.exportJson());
el.generate.addEventListener('click', () => {
  try {
    page.generate(particleCount(el.generateCount.value, 'The particle count')).catch(fail);
  } catch (e) {
    fail(e);
  }
});

page.boot(new URLSearchParams(location.search)).catch(fail);
