// The built page served on 127.0.0.1 and opened in headless Chromium with WebGPU:
// shared by the browser tests and the browser benchmark. Nothing is fetched from
// the network; puppeteer never downloads a browser (.puppeteerrc.cjs).
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { build } from 'vite';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm' };

export interface HeadlessPage {
  /** e.g. http://127.0.0.1:41234 */
  readonly base: string;
  readonly browser: Browser;
  /** The build output; tests may drop scratch files here (removed by close). */
  readonly dir: string;
  close(): Promise<void>;
}

function serve(dir: string, isolated: boolean): Promise<Server> {
  const s = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    // Cross-origin isolation gives the page SharedArrayBuffer, which WASM threads need (TensorFlow.js's wasm backend).
    const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

export interface HeadlessOptions {
  /** The Vite project to build: the repository's page by default, or a consumer app (test/package). */
  readonly root?: string;
  /** Extra HTML entry points of a multi-page build, by name. */
  readonly pages?: Readonly<Record<string, string>>;
  /** Serve with COOP/COEP headers, so that pages are cross-origin isolated. */
  readonly crossOriginIsolated?: boolean;
  /** Minify the build (default true); off for TensorFlow.js's threaded WASM, whose worker re-evaluates a function's source text. */
  readonly minify?: boolean;
}

/** Builds a page with Vite into a temporary folder, serves it on a free port and launches Chromium. */
export async function startHeadlessPage(options: HeadlessOptions = {}): Promise<HeadlessPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Headless runs need Chromium at ${CHROMIUM}: install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH. CI installs it (.ci/run).`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ddpm-gmm-dist-'));
  const profile = mkdtempSync(join(tmpdir(), 'ddpm-gmm-chromium-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    for (const d of [dir, profile]) rmSync(d, { recursive: true, force: true });
  };
  try {
    const root = options.root ?? ROOT;
    const input = options.pages ? { index: join(root, 'index.html'), ...options.pages } : undefined;
    await build({ root, configFile: options.root ? false : undefined, logLevel: 'error', build: { outDir: dir, emptyOutDir: true, minify: options.minify ?? true, rollupOptions: input ? { input } : undefined } });
    server = await serve(dir, options.crossOriginIsolated ?? false);
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('The static server has no port.');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A fresh profile, no background traffic (the network is closed), WebGPU on (Linux needs the flag).
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
    });
    return { base: `http://127.0.0.1:${address.port}`, browser, dir, close };
  } catch (e) {
    await close();
    throw e;
  }
}
