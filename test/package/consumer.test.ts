// What users get: the packed tarball installed into a fresh project. A Node ESM script fits on the GPU
// backend, a consumer's tsc checks against the published declarations, and a Vite app importing
// 'ddpm-gmm/browser' builds and trains in headless Chromium ('ddpm-gmm/node' there fails, naming the fix).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadlessPage, startHeadlessPage } from '../../scripts/headless-page.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const FIXTURE = join(import.meta.dirname, 'consumer');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project: string;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ddpm-gmm-consumer-'));
  // prepack builds dist/ first, so the tarball is what `npm publish` would upload.
  await run(NPM, ['pack', '--silent', '--pack-destination', scratch], { cwd: ROOT, maxBuffer: 1 << 26 });
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${scratch}`);
  project = join(scratch, 'app');
  cpSync(FIXTURE, project, { recursive: true });
  // The dependencies come from npm's cache, filled by `npm ci` of this repository.
  await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(scratch, tarball)], { cwd: project, maxBuffer: 1 << 26 });
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('installs only what users need: dist, the bin, the licence; no sources or dev tools', async () => {
    const pkg = join(project, 'node_modules', 'ddpm-gmm');
    const top = readdirSync(pkg).sort();
    expect(top).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin', 'dist', 'package.json']));
    expect(top).not.toContain('src');
    expect(top).not.toContain('test');
    expect(readdirSync(join(pkg, 'bin'))).toEqual(['ddpm-gmm.js']);
    expect(readdirSync(join(project, 'node_modules'))).not.toContain('tsx');
  });

  it('ships no research: no study, generator candidate, Threefry, test probe or benchmark kernel', () => {
    const pkg = join(project, 'node_modules', 'ddpm-gmm');
    const files = (readdirSync(pkg, { recursive: true }) as string[]).map((f) => f.split(sep).join('/'));
    expect(files.filter((f) => /(^|\/)(research|bench)(\/|$)|threefry|noise-candidates|probe_|fma[-_]peak/i.test(f))).toEqual([]);
    // The engine's kernels ship, embedded.
    expect(files).toContain('dist/host/shader-sources.js');
  });

  it("a Node ESM script imports ddpm-gmm and ddpm-gmm/node and fits on the GPU engine through backend 'auto'", async () => {
    const { stdout } = await run(process.execPath, ['fit-node.mjs'], { cwd: project });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      backendUsed: { kind: string };
      maxError: number;
      reloadedPredictsTheSame: boolean;
      piecewise: { backendUsed: { kind: string }; rows: number; reloadedSamplesTheSame: boolean };
    };
    // This machine has no GPU but SwiftShader: 'auto' must still pick the GPU engine over the CPU reference.
    expect(out.backendUsed.kind).toBe('gpu');
    expect(out.reloadedPredictsTheSame).toBe(true);
    // Separation 8 and N/K = 1000 points per centre: the estimation error is about sqrt(d / (N/K)) = 0.06.
    expect(out.maxError).toBeLessThan(0.25);
    // The piecewise model from '.' fits with the GPU engine's cell sums, and its file samples the same bits.
    expect(out.piecewise).toEqual({ backendUsed: expect.objectContaining({ kind: 'gpu' }), rows: 200, reloadedSamplesTheSame: true });
  });

  it("the installed bin runs the compiled CLI", async () => {
    const { stdout } = await run(join(project, 'node_modules', '.bin', 'ddpm-gmm'), ['--version'], { cwd: project });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("a consumer's tsc --noEmit type-checks against the published declarations", async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project }).catch((e: { stdout?: string }) => e);
    expect('stdout' in out ? out.stdout : '').toBe('');
  });

  describe('a Vite app importing ddpm-gmm/browser', () => {
    let headless: HeadlessPage | undefined;
    beforeAll(async () => {
      headless = await startHeadlessPage({ root: project, pages: { wrong: join(project, 'wrong-runtime.html') } });
    });
    afterAll(async () => {
      await headless?.close();
    });

    it('builds and trains in headless Chromium', async () => {
      const page = await headless!.browser.newPage();
      await page.goto(`${headless!.base}/index.html`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 240_000 });
      const got = await page.evaluate(() => {
        const w = window as unknown as { result?: object; error?: string };
        return { state: document.body.dataset.state, result: w.result, error: w.error };
      });
      expect(got.error).toBeUndefined();
      expect(got.state).toBe('done');
      const result = got.result as { backend: string; maxError: number };
      expect(result.backend).toBe('gpu');
      expect(result.maxError).toBeLessThan(0.25);
    });

    it("'ddpm-gmm/node' in a browser bundle fails at import with a message that names the fix", async () => {
      const page = await headless!.browser.newPage();
      await page.goto(`${headless!.base}/wrong-runtime.html`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 60_000 });
      const error = await page.evaluate(() => (window as unknown as { error?: string }).error);
      expect(error).toMatch(/'ddpm-gmm\/node' is for Node\.js.*import from 'ddpm-gmm\/browser'/);
    });
  });
});
