#!/usr/bin/env node
// Builds dist/: embeds the WGSL (scripts/embed-shaders.mjs), compiles src/ and host/ with tsc
// (tsconfig.build.json rewrites the sources' .ts specifiers to .js), then gives the declarations .js
// specifiers. Their WebGPU types (GPUDevice, ...) come from TypeScript's DOM lib, or @webgpu/types.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

execFileSync(process.execPath, [join(root, 'scripts/embed-shaders.mjs')], { stdio: 'inherit' });
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
} catch {
  console.error('build: tsc reported the errors above; dist/ was not built');
  process.exit(1);
}

let count = 0;
for (const file of walk(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  let text = readFileSync(file, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
  writeFileSync(file, text);
  count++;
}
console.log(`built dist/ (${count} declaration files)`);

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}
