// The WGSL sources in Node: read from shaders/*.wgsl beside this folder.
// (The browser page gets the same files through Vite's import.meta.glob.)
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function readShaderFiles(): Record<string, string> {
  const dir = fileURLToPath(new URL('../shaders/', import.meta.url));
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.wgsl')) out[name] = readFileSync(dir + name, 'utf8');
  }
  return out;
}
