import { defineConfig } from 'vite';

// The browser page (index.html). The WGSL files are bundled as strings through
// import.meta.glob in src/browser/shaders.ts; nothing is fetched at run time.
export default defineConfig({
  build: { target: 'es2022', outDir: 'dist' },
  server: { port: 5173 },
  preview: { port: 4173 },
});
