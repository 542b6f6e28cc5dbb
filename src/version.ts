// The package version, for model files and `ddpm-gmm --version`. A constant rather than a read of
// package.json, so that the runtime-neutral core needs no file system; test/api/model-file.test.ts checks
// that it equals package.json's version.
export const VERSION = '0.1.0';
