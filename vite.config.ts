import { defineConfig } from 'vite';
import { embedShaders } from './scripts/embed-shaders.mjs';

embedShaders();

// The browser page (index.html, src/page/). The WGSL arrives as strings in host/shader-sources.ts
// (generated above), so nothing is fetched at run time. The page builds to dist-page/: dist/ is the package's.
export default defineConfig({
  build: { target: 'es2022', outDir: 'dist-page' },
  server: { port: 5173 },
  preview: { port: 4173, open: false },
});
