// The autotuner's store in Node (host/tune/autotune.ts): one JSON file per adapter under the user's cache
// directory, never inside node_modules; DDPM_GMM_TUNE_CACHE or the tuneCache option names another file.
// Written to a temporary file and renamed, so that a reader never sees half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { textHash, type TuneStore } from './autotune.ts';

export const TUNE_CACHE_ENV = 'DDPM_GMM_TUNE_CACHE';

/** The default file for this adapter: $XDG_CACHE_HOME/ddpm-gmm (else ~/.cache/ddpm-gmm), named by the adapter key's hash. */
export function defaultTuneCachePath(adapter: string): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'ddpm-gmm', `autotune-${textHash(adapter)}.json`);
}

/** The file store at `path` (undefined: the environment's, else the default); false: memory only. */
export function nodeTuneStore(path: string | false | undefined): ((adapter: string) => TuneStore | undefined) {
  return (adapter) => {
    if (path === false) return undefined;
    const file = path ?? (process.env[TUNE_CACHE_ENV] || defaultTuneCachePath(adapter));
    return {
      where: file,
      load: () => {
        try {
          return readFileSync(file, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw e;
        }
      },
      save: (text) => {
        mkdirSync(dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, text);
        renameSync(tmp, file);
      },
    };
  };
}

