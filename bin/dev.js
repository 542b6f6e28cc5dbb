#!/usr/bin/env node
// The CLI from the TypeScript sources through tsx, for tests and development in a checkout (no build).
// Users run bin/ddpm-gmm.js, which runs the compiled dist/.
import { register } from 'tsx/esm/api';
import { embedShaders } from '../scripts/embed-shaders.mjs';

embedShaders(); // host/shader-sources.ts is generated, not in git
register();
await import('../src/cli/main.ts');
