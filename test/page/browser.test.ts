// The browser page in headless Chromium (puppeteer, Debian's /usr/bin/chromium, WebGPU
// through --enable-unsafe-webgpu): it names its adapter, trains the default problem
// through the headless contract, runs every schedule through the algorithms' loop to the
// Node estimator's centres (warm beside EM, two-stage with its angle, pause and resume),
// explains a bad file and a missing WebGPU, and leaves screenshots in test-artifacts/.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadlessPage, startHeadlessPage } from '../../scripts/headless-page.ts';
import { createGpuBackend, type GpuBackend } from '../../host/index.ts';
import { seededRows, warmStart } from '../../src/algorithms/seeding.ts';
import { DdpmGmm } from '../../src/estimator.ts';
import { energyDistance } from '../../src/metrics/cpu.ts';
import { spreadRows } from '../../src/page/session.ts';
import { toScaled } from '../../src/scaling.ts';
import { generateMixture } from '../../src/mixtures.ts';
import type { GeneralStudentFields, ModelFile } from '../../src/model-file.ts';
import type { RunResult } from '../../src/page/export.ts';
import type { PiecewiseResult } from '../../src/page/piecewise.ts';
import { PiecewiseScoreModel } from '../../src/piecewise-estimator.ts';
import type { Matrix } from '../../src/types.ts';

const ARTIFACTS = join(resolve(import.meta.dirname, '..', '..'), 'test-artifacts');

/** The default problem, as the headless contract's URL parameters. */
const DEFAULT_URL = `?k=4&d=2&n=4096&method=ddpm&schedule=warm&steps=200&seed=1&autorun=1`;
/** The warm run of the issue that the page's own loop (t = 0.5, eta = 1, no stopping rule, no averaging) left at 1.5x EM's error. */
const WARM = { k: 4, d: 2, n: 4096, separation: 8, seed: 3, steps: 200 };
const WARM_URL = `?k=4&d=2&n=4096&method=ddpm&schedule=warm&steps=200&seed=3&autorun=1`;

/**
 * Theorem 7's setting: K = 2 in d = 16, centres 6 apart (||mu*|| = 3), from the schedule's random start.
 * em=0 keeps EM (run after the schedule) out of the timing; the EM comparison is the default run's.
 */
const TWO_STAGE = { k: 2, d: 16, n: 8192, separation: 6, seed: 2, steps: 300 };
const TWO_STAGE_URL = `?k=2&d=16&n=8192&sep=6&seed=2&method=ddpm&schedule=two-stage&steps=300&em=0`;

type PageWindow = { ddpmGmm: { result: RunResult; error?: string } };

let headless: HeadlessPage | undefined;
let node: GpuBackend | undefined;

async function open(query: string, before?: (p: Page) => Promise<unknown>): Promise<Page> {
  const page = await headless!.browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await before?.(page);
  await page.goto(`${headless!.base}/${query}`);
  return page;
}

async function settled(page: Page, states: string[], timeout = 60_000): Promise<string> {
  await page.waitForFunction((s: string[]) => s.includes(document.body.dataset.state ?? ''), { timeout }, states);
  return page.evaluate(() => document.body.dataset.state ?? '');
}

/** Which of the student's panels show, by the id of their content. */
function panels(page: Page): Promise<Record<string, boolean>> {
  return page.$$eval('[data-run="student"]', (els) => Object.fromEntries(els.map((e) => [e.querySelector('[id^="plot-"], #fit-summary')!.id, !(e as HTMLElement).hidden])));
}

function maxAbsDiff(rows: number[][], m: Matrix): number {
  let worst = 0;
  rows.forEach((row, j) => row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - m.data[j * m.cols + c]!)))));
  return worst;
}

/**
 * How far the page's float64 start may be from Node's. Both draw the same Philox words, but Chromium's V8 and
 * Node's round Math.log, Math.sin and Math.cos differently in the last bit for some inputs, so the generated
 * data, truth and start can differ by a few float64 ulps: a Box-Muller normal carries one ulp from each
 * function, the common scale of the truth and the warm start's direction a few more. 2^-48 of the largest
 * coordinate (16 ulps) covers that; the float32 GPU steps do not see it.
 */
function float64Tolerance(m: Matrix): number {
  return 2 ** -48 * Math.max(...m.data.map(Math.abs));
}

// Without Chromium this fails (never skips), with a message saying to install it.
beforeAll(async () => {
  headless = await startHeadlessPage();
});

afterAll(async () => {
  await headless?.close();
  node?.dispose();
});

describe('the browser page', () => {
  it('loads and names the adapter that navigator.gpu gives it', async () => {
    const page = await open('');
    expect(await settled(page, ['ready', 'error'])).toBe('ready');
    const shown = await page.$eval('#adapter', (el) => el.textContent ?? '');
    const info = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      return { vendor: a?.info.vendor ?? '', architecture: a?.info.architecture ?? '', fallback: a?.info.isFallbackAdapter === true };
    });
    const named = await page.evaluate(() => (window as unknown as { ddpmGmm: { adapter?: string } }).ddpmGmm.adapter ?? '');
    expect(shown).toContain(named);
    expect(named.toLowerCase()).toContain((info.vendor || info.architecture).toLowerCase());
    // A software adapter (SwiftShader here) must be called one on the page.
    if (info.fallback || /swiftshader/i.test(info.architecture)) expect(shown).toMatch(/software adapter/);
    await page.close();
  });

  it('trains the default problem through the headless contract to a centre error below 0.1 within 10 s, and saves a screenshot', async () => {
    const page = await open(DEFAULT_URL);
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const result = await page.evaluate(() => (window as unknown as { ddpmGmm: { result: RunResult } }).ddpmGmm.result);
    // The library's warm schedule: steps=200 is the limit of its GD stage, then its averaging tail.
    expect(result.schedule.stages.map((st) => st.name)).toEqual(['warm', 'warm (average)']);
    expect(result.stepsDone).toBe(result.schedule.stages.reduce((a, st) => a + st.steps, 0));
    expect(result.schedule.settings).toMatchObject({ maxSteps: 200 });
    expect(result.history.length).toBeGreaterThan(1);
    // The target: error below 0.1 (the warm start begins at separation / 3 = 2.67).
    expect(result.error!.max).toBeLessThan(0.1);
    expect(result.em!.iterations).toBe(30);
    expect(result.em!.error!.max).toBeLessThan(0.1);
    // The target of under 10 s on this machine's software adapter (measured about 2 s).
    expect(result.timing.elapsedSeconds).toBeLessThan(10);
    // Responsive throughout: no main-thread task near half a second (measured up to about 130 ms on 2 busy cores).
    expect(result.timing.longestTaskMs).toBeLessThan(500);
    expect(result.timing.sampleGradsPerSec).toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'trained-page.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'trained-page.png')).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('generate=500: animates the default sampler (the ODE for the default student) with the learned model and lands near the data, as direct draws do', async () => {
    const page = await open(`${DEFAULT_URL}&generate=500`);
    expect(await settled(page, ['generated', 'error'], 120_000)).toBe('generated');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    const g = result.generate!;
    // The estimator's defaults for n = 500: S = max(100, ceil(2 sqrt(500))) = 100 steps, shown at 20 prefixes (stopAfter 5, 10, ..., 100).
    expect(g).toMatchObject({ n: 500, steps: 100, frames: 20, dataRows: 2000 });
    expect(await page.$eval('#plot-generate', (el) => el.querySelectorAll('canvas').length)).toBeGreaterThan(0);
    // Both distances are finite-sample V-statistics against the same 2000 data rows: even a perfect sampler shows
    // the null level, about sqrt(E||X - X'|| (1/500 + 1/2000)), and a single estimate fluctuates widely about it
    // (the 20 direct draws below spanned 0.077 to 0.33, the generated particles 0.17). So the bound is the null distribution itself: the largest of
    // 20 direct draws of 500 from the learned mixture, each against the page's data rows, in the coordinates the
    // page samples in (the run's scaling). Noise stopped early (D above 1) fails it.
    const { data: raw } = generateMixture({ k: 4, d: 2, n: 4096, separation: 8, seed: 1 });
    const scaling = { method: 'within' as const, centre: Float64Array.from(result.scaling!.centre), scale: Float64Array.from(result.scaling!.scale) };
    const rows = spreadRows(toScaled(raw, scaling), g.dataRows);
    // The learned mixture is the run's model file: its centres with the learned variances and weights.
    const learned = DdpmGmm.fromJSON(result.fit!.model);
    const nullLevels = Array.from({ length: 20 }, (_, s) => energyDistance(toScaled(learned.sampleDirect(g.n, s + 1), scaling), rows));
    expect(g.energyDistance).toBeLessThanOrEqual(Math.max(...nullLevels));
    expect(g.directEnergyDistance).toBeGreaterThan(0);
    console.log(`generate: D(generated, data) = ${g.energyDistance.toFixed(4)}, D(direct, data) = ${g.directEnergyDistance!.toFixed(4)}, 20 direct draws ${Math.min(...nullLevels).toFixed(4)} to ${Math.max(...nullLevels).toFixed(4)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'generated-page.png'), fullPage: true });
    // The panel's particle count shows the URL's, and a count it cannot take is refused by name, before any work.
    expect(await page.$eval('#generate-n', (el) => (el as HTMLInputElement).value)).toBe('500');
    // The link written after the Generate reproduces it: the run's settings, the scaling among them, and generate=500.
    const query = new URLSearchParams(await page.evaluate(() => location.search));
    expect([query.get('generate'), query.get('scale'), query.get('schedule'), query.get('k')]).toEqual(['500', 'within', 'warm', '4']);
    await page.$eval('#generate-n', (el) => {
      (el as HTMLInputElement).value = '0';
    });
    await page.click('#generate');
    expect(await settled(page, ['error'], 10_000)).toBe('error');
    expect(await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.error)).toMatch(/particle count takes a whole number of particles from 1 to 100000 \(got '0'\)/);
    await page.close();
  });

  it('model=piecewise: fits on the page with a line per level, draws its cells, generates from it, and matches the Node engine', async () => {
    const { k, d, n, separation, seed, levels, cells } = { k: 3, d: 2, n: 3000, separation: 8, seed: 2, levels: 16, cells: 6 };
    const page = await open(`?model=piecewise&k=${k}&d=${d}&n=${n}&seed=${seed}&levels=${levels}&cells=${cells}&autorun=1&generate=400`);
    expect(await settled(page, ['generated', 'error'], 120_000)).toBe('generated');
    const result = await page.evaluate(() => (window as unknown as { ddpmGmm: { result: PiecewiseResult } }).ddpmGmm.result);
    const query = new URLSearchParams(await page.evaluate(() => location.search));
    expect([query.get('model'), query.get('levels'), query.get('cells')]).toEqual(['piecewise', `${levels}`, `${cells}`]);
    expect(await page.$eval('#plot-scatter', (el) => el.querySelectorAll('canvas').length)).toBeGreaterThan(0);
    expect(await page.$eval('#status', (el) => el.textContent ?? '')).toMatch(/level 16 \/ 16, t = 0\.01, \d+ cells/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'piecewise-page.png'), fullPage: true });
    // A piecewise fit has no training steps: the student's loss, error, angle and throughput panels are hidden.
    expect(await page.$$eval('[data-run="student"]', (els) => els.map((e) => (e as HTMLElement).hidden))).toEqual([true, true, true, true, true, true]);
    expect(await page.$eval('#generate-note', (el) => el.textContent ?? '')).toMatch(/the piecewise model's score .* no mixture to draw from directly/);
    await page.close();
    expect(result.model).toBe('piecewise');
    expect(result.levels.map((r) => r.level)).toEqual([...Array(levels).keys()]);
    // The Generate panel samples the piecewise model: the estimator's defaults for n = 400, and no direct draws.
    const g = result.generate!;
    expect(g).toMatchObject({ n: 400, steps: 100, frames: 20, directEnergyDistance: null });
    // The null level against 2000 data rows is about 0.3 at this n (the student case above); noise stopped early gives D
    // above 1, and so does a coarse ladder: 6 levels gave 0.77 here against 0.32 at 16 (float64, Node).
    expect(g.energyDistance).toBeLessThan(0.6);
    console.log(`piecewise generate: D(generated, data) = ${g.energyDistance.toFixed(4)}`);
    // The page's model file is the Node estimator's on the Node engine, to float32 accuracy.
    const { data } = generateMixture({ k, d, n, separation, seed });
    node ??= await createGpuBackend();
    const ref = new PiecewiseScoreModel({ levels, cells, seed, backend: node });
    await ref.fit(data);
    const mine = PiecewiseScoreModel.fromJSON(result.file).model!;
    mine.levels.forEach((level, l) => {
      const want = ref.model!.levels[l]!.coef.data;
      expect(level.coef.rows).toBe(ref.model!.levels[l]!.coef.rows);
      const scale = Math.max(...want.map(Math.abs));
      expect(Math.max(...level.coef.data.map((v, i) => Math.abs(v - want[i]!))) / scale).toBeLessThan(1e-3);
    });
  });

  it("runs the issue's warm start through the library's warm schedule: within 1.25x of EM beside it, and the Node estimator's centres", async () => {
    const page = await open(WARM_URL);
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    // Loss, error, log-likelihood, fit, angle, throughput: with true centres the error stands, the log-likelihood
    // (its stand-in without them) is hidden, and so is the angle, which is for K = 2.
    expect(await panels(page)).toEqual({ 'plot-loss': true, 'plot-error': true, 'plot-ll': false, 'fit-summary': true, 'plot-angle': false, 'plot-speed': true });
    await page.close();
    const { k, d, n, separation, seed, steps } = WARM;
    // The library's defaults, not the page's own: t, the step size and the averaging tail come from the schedule.
    expect(result.settings.t).toBeUndefined();
    expect(result.settings.lr).toBeUndefined();
    expect(result.schedule.settings).toMatchObject({ schedule: 'warm', maxSteps: steps });
    // (a) The page's final error against EM's, run beside it from the same start for the page's 30 iterations.
    expect(result.em!.iterations).toBe(30);
    expect(result.error!.max).toBeLessThanOrEqual(1.25 * result.em!.error!.max);
    // (b) The experiment suite's warm start (separation / 3), and the estimator with the options the page passes.
    const { data, truth } = generateMixture({ k, d, n, separation, seed });
    const init = warmStart(truth, separation / 3, seed);
    expect(maxAbsDiff(result.init, init)).toBeLessThanOrEqual(float64Tolerance(init));
    node ??= await createGpuBackend();
    const fit = (noiseSeed: number) =>
      new DdpmGmm({ nComponents: k, schedule: 'warm', init, seed, maxSteps: steps, noiseSeed, truth, backend: node! }).fit(data);
    const ref = await fit(seed);
    expect(result.stepsDone).toBe(ref.nIter);
    // Both run the same WGSL on SwiftShader (the ICD Node loads is Chromium's own libvk_swiftshader.so) with
    // fixed-order reductions, the same chunks (the loop's log interval) and the same float64 host work (the
    // averaging tail), so the bits should agree. The tolerance allows one float32 rounding (2^-24 relative) of
    // the largest coordinate per step, in case another Tint version orders an operation differently:
    // nIter x 2^-24 x max|mu|.
    const tolerance = ref.nIter * 2 ** -24 * Math.max(...ref.means.data.map(Math.abs));
    expect(maxAbsDiff(result.centres, ref.means)).toBeLessThanOrEqual(tolerance);
    // The comparison can fail: another noise seed (what a wrong step counter between chunks would also do) lands an order
    // of magnitude outside it (measured 91x with Philox4x32-7).
    const other = await fit(seed + 1);
    expect(maxAbsDiff(result.centres, other.means)).toBeGreaterThan(10 * tolerance);
  });

  it('accepts the earlier names rows and gem, and runs gradient EM from seeded rows as the estimator does', async () => {
    const { k, d, n, separation, seed } = { k: 4, d: 2, n: 4096, separation: 8, seed: 2 };
    const page = await open(`?k=${k}&d=${d}&n=${n}&seed=${seed}&method=gem&schedule=rows&steps=40&em=0&autorun=1`);
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    // The link to the run carries the library's names.
    const query = new URLSearchParams(await page.evaluate(() => location.search));
    await page.close();
    expect([result.settings.method, result.settings.schedule]).toEqual(['gradient-em', 'single']);
    expect([query.get('method'), query.get('schedule')]).toEqual(['gradient-em', 'single']);
    const { data, truth } = generateMixture({ k, d, n, separation, seed });
    const init = seededRows(data, k, seed);
    expect(maxAbsDiff(result.init, init)).toBeLessThanOrEqual(float64Tolerance(init));
    node ??= await createGpuBackend();
    // The estimator with the options the page passes (its default scaling, seeded by seed, moves init as it moves the data).
    const ref = await new DdpmGmm({ nComponents: k, method: 'gradient-em', init, seed, maxSteps: 40, truth, backend: node }).fit(data);
    expect(result.stepsDone).toBe(ref.nIter);
    // EM-type steps have no noise: the same WGSL on the same centres gives the same bits (tolerance as above).
    const tolerance = ref.nIter * 2 ** -24 * Math.max(...ref.means.data.map(Math.abs));
    expect(maxAbsDiff(result.centres, ref.means)).toBeLessThanOrEqual(tolerance);
  });

  it("runs EM with the library's default student (its M-step on the host, as every backend runs it) to the estimator's centres", async () => {
    const { k, d, n, separation, seed } = { k: 3, d: 2, n: 2000, separation: 8, seed: 2 };
    const page = await open(`?k=${k}&d=${d}&n=${n}&seed=${seed}&method=em&schedule=single&em=0&autorun=1`);
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    await page.close();
    expect(result.schedule.settings).toMatchObject({ covariance: 'diag', weights: 'learned' });
    const { data, truth } = generateMixture({ k, d, n, separation, seed });
    node ??= await createGpuBackend();
    const ref = await new DdpmGmm({ nComponents: k, method: 'em', init: seededRows(data, k, seed), seed, truth, backend: node }).fit(data);
    expect(result.stepsDone).toBe(ref.nIter);
    // A general student's EM runs in float64 on the host in the browser and in Node; each maps the centres back to the
    // data's units by its own multiply and add (two float64 roundings, an ulp each, of the largest coordinate).
    expect(maxAbsDiff(result.centres, ref.means)).toBeLessThanOrEqual(4 * 2 ** -52 * Math.max(...ref.means.data.map(Math.abs)));
  });

  it('runs the two-stage schedule (Theorem 7) to the statistical error, plots and exports the angle, and matches the Node estimator', async () => {
    const page = await open(`${TWO_STAGE_URL}&autorun=1`);
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    const { k, d, n, separation, seed, steps } = TWO_STAGE;
    // The statistical error: each centre is in effect the mean of N / K samples of N(mu_i, I), whose error has
    // norm about sqrt(d K / N) = 0.0625 (relative spread about 1 / sqrt(2 d) = 18%). DDPM-GD measured 1.07-1.35x
    // EM (README), and EM is near that oracle, so 2x leaves room; the start is 48x the oracle (error 2.98).
    const oracle = Math.sqrt((d * k) / n);
    expect(result.error!.max).toBeLessThan(2 * oracle);
    expect(result.history[0]!.errorMax!).toBeGreaterThan(20 * oracle);
    // The angle of docs/math.md section 10 for every chunk, in the exported history.
    const angles = result.history.map((h) => h.angle);
    expect(angles.every((a) => a !== null && a >= 0 && a <= 1)).toBe(true);
    // It starts from a random direction (|cos| about 1 / sqrt(d) = 0.25; 0.071 for seed 2), so reaching 1 is learned.
    expect(angles[0]!).toBeLessThan(0.5);
    // With the half difference m off m* by at most the max error e, sin(angle) <= e / ||m*||, ||m*|| = separation / 2:
    // below 2 x oracle that is cos >= 0.999, well above the 0.9.
    const final = angles[angles.length - 1]!;
    expect(final).toBeGreaterThanOrEqual(0.9);
    expect(final).toBeGreaterThanOrEqual(Math.sqrt(1 - ((2 * oracle) / (separation / 2)) ** 2));
    // Stage 1 alone learns the direction (Lemma 10): its last row is already aligned (measured 0.9996).
    const stage1 = result.history.filter((h) => h.stage === 'stage 1');
    expect(stage1.length).toBeGreaterThan(0);
    expect(stage1[stage1.length - 1]!.angle!).toBeGreaterThan(0.99);
    expect(result.history.some((h) => h.stage === 'stage 2')).toBe(true);
    expect(result.schedule.stages.map((st) => st.name)).toContain('stage 2');
    expect(result.settings.schedule).toBe('two-stage');
    // The angle chart is drawn for K = 2 with the truth.
    expect(await page.$eval('#plot-angle', (el) => el.querySelectorAll('canvas').length)).toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'two-stage-page.png'), fullPage: true });
    await page.close();
    // The page runs the algorithms' own loop: the Node estimator with the same options (its default scaling, the same
    // plan and noise seed) gives the same centres (measured difference 2e-16: the float32 GPU steps agree bit for bit, and the host's
    // float64 work (the data mean added back, the averaged tail) ended one rounding apart; not traced further).
    // Tolerance as in the test above: one float32 rounding of the largest coordinate per step.
    const { data, truth } = generateMixture({ k, d, n, separation, seed });
    node ??= await createGpuBackend();
    const fit = (noiseSeed: number) => new DdpmGmm({ nComponents: k, schedule: 'two-stage', seed, maxSteps: steps, noiseSeed, truth, backend: node! }).fit(data);
    const ref = await fit(seed);
    expect(result.stepsDone).toBe(ref.nIter);
    const tolerance = ref.nIter * 2 ** -24 * Math.max(...ref.means.data.map(Math.abs));
    expect(maxAbsDiff(result.centres, ref.means)).toBeLessThanOrEqual(tolerance);
    // ... and the comparison can fail: another noise seed ends elsewhere.
    const other = await fit(seed + 1);
    expect(maxAbsDiff(result.centres, other.means)).toBeGreaterThan(100 * tolerance);
  });

  // The page runs every paper schedule through the algorithms' loop: the projected (Theorem 13) and annealed
  // schedules end with the Node engine's centres for the same plan and noise seed.
  for (const [schedule, problem] of [
    ['projected', { k: 2, d: 16, n: 8192, separation: 2, seed: 1, steps: 300 }],
    ['annealed', { k: 4, d: 8, n: 4096, separation: 8, seed: 2, steps: 150 }],
  ] as const) {
    it(`runs the ${schedule} schedule to the Node estimator's centres, and leaves EM out of the scatter's legend when it is off`, async () => {
      const { k, d, n, separation, seed, steps } = problem;
      const page = await open(`?k=${k}&d=${d}&n=${n}&sep=${separation}&seed=${seed}&method=ddpm&schedule=${schedule}&steps=${steps}&em=0&autorun=1`);
      expect(await settled(page, ['done', 'error'])).toBe('done');
      const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
      expect(result.settings.schedule).toBe(schedule);
      expect(await page.$eval('#scatter-note', (el) => el.textContent ?? '')).not.toContain('orange');
      await page.close();
      const { data, truth } = generateMixture({ k, d, n, separation, seed });
      node ??= await createGpuBackend();
      const ref = await new DdpmGmm({ nComponents: k, schedule, seed, maxSteps: steps, noiseSeed: seed, truth, backend: node }).fit(data);
      expect(result.stepsDone).toBe(ref.nIter);
      // One float32 rounding of the largest coordinate per step, as for two-stage above.
      const tolerance = ref.nIter * 2 ** -24 * Math.max(...ref.means.data.map(Math.abs));
      expect(maxAbsDiff(result.centres, ref.means)).toBeLessThanOrEqual(tolerance);
      // The schedule learned: the error is below a tenth of the separation (from k-means++ or a random start).
      expect(result.error!.max).toBeLessThan(separation / 10);
    });
  }

  it('pauses a two-stage run inside the schedule and resumes it to the centres of an uninterrupted run', async () => {
    const whole = await open(`${TWO_STAGE_URL}&autorun=1`);
    expect(await settled(whole, ['done', 'error'])).toBe('done');
    const uninterrupted = await whole.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    await whole.close();
    const page = await open(TWO_STAGE_URL);
    expect(await settled(page, ['ready', 'error'])).toBe('ready');
    // Press Pause the moment the run starts (a MutationObserver runs before the first chunk's frame), so the
    // pause lands at the first chunk boundary, in stage 1, deterministically.
    await page.evaluate(() => {
      new MutationObserver((_, observer) => {
        if (document.body.dataset.state !== 'running') return;
        observer.disconnect();
        document.getElementById('pause')!.click();
      }).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
      document.getElementById('start')!.click();
    });
    expect(await settled(page, ['paused', 'done', 'error'])).toBe('paused');
    const stepOf = () => page.$eval('#status', (el) => Number(/step (\d+) \//.exec(el.textContent ?? '')?.[1] ?? NaN));
    const pausedAt = await stepOf();
    expect(pausedAt).toBeGreaterThan(0);
    expect(pausedAt).toBeLessThan(uninterrupted.stepsDone);
    expect(await page.$eval('#pause', (el) => el.textContent)).toBe('Resume');
    // Held, not running: no steps for half a second (a chunk takes about 30 ms here).
    await new Promise((ok) => setTimeout(ok, 500));
    expect(await stepOf()).toBe(pausedAt);
    await page.click('#pause');
    expect(await settled(page, ['done', 'error'])).toBe('done');
    const resumed = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    // Fresh noise is a function of the step number and the held loop keeps its state, so the runs are identical.
    expect(resumed.stepsDone).toBe(uninterrupted.stepsDone);
    expect(resumed.centres).toEqual(uninterrupted.centres);
    await page.close();
  });

  it('explains a two-stage request with K other than 2', async () => {
    const page = await open('?k=4&schedule=two-stage&autorun=1');
    expect(await settled(page, ['done', 'error'])).toBe('error');
    expect(await page.$eval('#message', (el) => el.textContent ?? '')).toMatch(/two-stage schedule is for K = 2.*K = 4/);
    await page.close();
  });

  it('explains a file it cannot read, on the page, and stays usable', async () => {
    const page = await open('');
    expect(await settled(page, ['ready', 'error'])).toBe('ready');
    const garbage = join(headless!.dir, 'garbage.npy');
    // Bytes 0x80-0xff alone are never valid UTF-8 and do not start with the .npy magic.
    writeFileSync(garbage, Uint8Array.from({ length: 4096 }, (_, i) => 0x80 + ((i * 37) % 128)));
    const input = await page.$('input[type=file]');
    if (!input) throw new Error('The page has no file input.');
    await input.uploadFile(garbage);
    await page.waitForFunction(() => (document.getElementById('message')?.textContent ?? '').length > 0, { timeout: 10_000 });
    const message = await page.$eval('#message', (el) => ({ text: el.textContent ?? '', kind: el.className, visible: (el as HTMLElement).offsetHeight > 0 }));
    expect(message.kind).toBe('error');
    expect(message.visible).toBe(true);
    expect(message.text).toContain("'garbage.npy'");
    expect(message.text).toMatch(/neither a \.npy file nor CSV/);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    const csv = join(headless!.dir, 'bad.csv');
    writeFileSync(csv, 'x,y\n1,2\n3,oops\n');
    await input.uploadFile(csv);
    await page.waitForFunction(() => (document.getElementById('message')?.textContent ?? '').includes('bad.csv'), { timeout: 10_000 });
    expect(await page.$eval('#message', (el) => el.textContent ?? '')).toMatch(/line 3, column 2 is 'oops', not a number/);
    await page.close();
  });

  it('keeps a failed file load an error: Start then shows it and runs nothing else', async () => {
    const page = await open('');
    expect(await settled(page, ['ready', 'error'])).toBe('ready');
    const csv = join(headless!.dir, 'broken.csv');
    writeFileSync(csv, 'x,y\n1,2\n3,oops\n');
    await (await page.$('input[type=file]'))!.uploadFile(csv);
    await page.waitForFunction(() => (document.getElementById('message')?.textContent ?? '').includes('broken.csv'), { timeout: 10_000 });
    await page.click('#start');
    expect(await settled(page, ['error', 'running', 'done'])).toBe('error');
    const error = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.error ?? '');
    expect(error).toMatch(/'broken.csv'.*line 3, column 2 is 'oops'.*switch the problem to "generate a mixture"/);
    expect(await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result)).toBeUndefined();
    expect(await page.$eval('#status', (el) => el.textContent)).toBe('Ready.');
    await page.close();
  });

  it("fits a loaded CSV on the library's defaults in the file's units, and shows log-likelihood, BIC and cluster sizes", async () => {
    // Three clusters with features in very different units: x1 in thousands, x2 in hundredths, shifted.
    const { k, seed } = { k: 3, seed: 1 };
    const { data: z } = generateMixture({ k, d: 2, n: 600, separation: 8, seed: 4 });
    const units = [100, 0.01], shift = [1e4, -5];
    const data = { rows: z.rows, cols: 2, data: z.data.map((v, i) => shift[i % 2]! + units[i % 2]! * v) };
    const csv = join(headless!.dir, 'units.csv');
    writeFileSync(csv, `width,height\n${Array.from({ length: data.rows }, (_, i) => `${data.data[2 * i]},${data.data[2 * i + 1]}`).join('\n')}\n`);
    const page = await open(`?k=${k}&seed=${seed}`);
    expect(await settled(page, ['ready', 'error'])).toBe('ready');
    await (await page.$('input[type=file]'))!.uploadFile(csv);
    await page.waitForFunction(() => (document.getElementById('message')?.textContent ?? '').includes('Loaded'), { timeout: 10_000 });
    await page.click('#start');
    expect(await settled(page, ['done', 'error'], 120_000)).toBe('done');
    const result = await page.evaluate(() => (window as unknown as PageWindow).ddpmGmm.result);
    const query = new URLSearchParams(await page.evaluate(() => location.search));
    // Without true centres: no error or angle panel; the log-likelihood chart and the fit panel instead.
    expect(await panels(page)).toEqual({ 'plot-loss': true, 'plot-error': false, 'plot-ll': true, 'fit-summary': true, 'plot-angle': false, 'plot-speed': true });
    expect(await page.$eval('#plot-ll', (el) => el.querySelectorAll('canvas').length)).toBeGreaterThan(0);
    const summary = await page.$eval('#fit-summary', (el) => el.textContent ?? '');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'file-page.png'), fullPage: true });
    await page.close();
    // The estimator's defaults for K = 3: the screened schedule and the 'within' scaling; the link records them and the file.
    expect([result.settings.schedule, result.settings.scale, result.scaling?.method]).toEqual(['screened', 'within', 'within']);
    expect([query.get('schedule'), query.get('scale'), query.get('file')]).toEqual(['screened', 'within', 'units.csv']);
    expect(result.data).toMatchObject({ rows: 600, cols: 2, source: 'file', file: 'units.csv' });
    expect(result.error).toBeNull();
    // The same centres as DdpmGmm with the page's seeds, in the file's units (tolerance as above: one float32
    // rounding of the largest coordinate per step; the float32 steps run in the scaled coordinates, so it is
    // taken per column, scaled back by that column's scale).
    node ??= await createGpuBackend();
    const model = new DdpmGmm({ nComponents: k, seed, noiseSeed: seed, backend: node });
    const ref = await model.fit(data);
    expect(result.stepsDone).toBe(ref.nIter);
    const zMax = Math.max(...model.means!.data.map((v, i) => Math.abs(v - model.scaling!.centre[i % 2]!) / model.scaling!.scale[i % 2]!));
    for (let c = 0; c < 2; c++) {
      const tolerance = ref.nIter * 2 ** -24 * zMax * model.scaling!.scale[c]! + 2 ** -48 * Math.abs(shift[c]!);
      result.centres.forEach((row, j) => expect(Math.abs(row[c]! - ref.means.data[j * 2 + c]!)).toBeLessThanOrEqual(tolerance));
    }
    // Centres in the file's units: each near a cluster of the data (the clusters are 8 apart in units of `units`).
    // The fit's figures are the estimator's own score, bic and predict on the page's model file.
    const fit = result.fit!;
    // The model file carries the student the estimator learned (its default: diag variances, learned weights), in the
    // fit's coordinates as toJSON writes it: the same numbers up to one float32 rounding (2^-24 relative) per step.
    const mine = fit.model as ModelFile & GeneralStudentFields, theirs = model.toJSON() as ModelFile & GeneralStudentFields;
    expect([mine.covariance, mine.weights]).toEqual(['diag', 'learned']);
    const relative = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    for (const [a, b] of [[mine.variances.flat(), theirs.variances.flat()], [mine.mixingWeights, theirs.mixingWeights]] as const) {
      expect(a.length).toBe(b.length);
      a.forEach((v, i) => expect(relative(v, b[i]!)).toBeLessThanOrEqual(ref.nIter * 2 ** -24));
    }
    const same = DdpmGmm.fromJSON(fit.model);
    // Two V8s may round Math.exp and Math.log differently in the last bit: 1e-12 relative covers a sum of 600 such terms.
    expect(Math.abs(fit.logLikelihood - same.score(data))).toBeLessThanOrEqual(1e-12 * Math.abs(fit.logLikelihood));
    expect(Math.abs(fit.bic - same.bic(data))).toBeLessThanOrEqual(1e-12 * Math.abs(fit.bic));
    const labels = same.predict(data);
    expect(fit.sizes).toEqual([0, 1, 2].map((j) => labels.filter((l) => l === j).length));
    // Separated clusters of 200 rows each (the generator deals rows to components in turn): recovered whole.
    expect([...fit.sizes].sort()).toEqual([200, 200, 200]);
    expect(summary).toMatch(/average log-likelihood per row -?\d/);
    expect(summary).toMatch(/BIC \d/);
    expect(summary).toContain('width');
  });

  it('says plainly when the browser has no WebGPU, and how to get it', async () => {
    const page = await open('?autorun=1', (p) => p.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined })));
    expect(await settled(page, ['ready', 'error', 'done'])).toBe('error');
    const text = await page.$eval('#message', (el) => el.textContent ?? '');
    expect(text).toMatch(/no WebGPU/);
    expect(text).toMatch(/--enable-unsafe-webgpu/);
    expect(await page.evaluate(() => (window as unknown as { ddpmGmm: { error?: string } }).ddpmGmm.error)).toBe(text.replace(/^Error: /, ''));
    await page.close();
  });
});
