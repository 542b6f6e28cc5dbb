#!/usr/bin/env node
// Runs a TypeScript entry point with tsx's loader: `node bin/run-ts.js file.ts args...`.
import { register } from 'tsx/esm/api';
import { embedShaders } from '../scripts/embed-shaders.mjs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

embedShaders(); // host/shader-sources.ts is generated, not in git
register();
const [, , entry, ...rest] = process.argv;
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(path.resolve(entry)).href);
