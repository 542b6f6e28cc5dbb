#!/usr/bin/env node
// The ddpm-gmm command: the compiled CLI in dist/ (built by `npm run build`, shipped in the package).
await import('../dist/src/cli/main.js');
