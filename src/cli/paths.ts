// The one guard against overwriting an input: every command calls guardPaths once, before any work, with every
// path it reads and every path it will write. Files are compared by their real path and by (device, inode), so a
// symlink or a hard link to an input is caught as surely as the same name.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';

/** A path a command reads or writes, with the flag that gave it (for the message). */
export interface PathUse {
  readonly flag: string;
  readonly path: string | undefined;
}

interface Identity {
  readonly flag: string;
  readonly path: string;
  /** The canonical path: symlinks resolved, or the resolved directory plus the name for a file not yet there. */
  readonly real: string;
  /** `dev:ino` of an existing file (following symlinks). */
  readonly inode?: string;
}

function identify(use: PathUse & { path: string }): Identity {
  const abs = resolve(use.path);
  try {
    const st = statSync(abs);
    return { flag: use.flag, path: use.path, real: realpathSync(abs), inode: `${st.dev}:${st.ino}` };
  } catch {
    // Not there (yet): a dangling symlink's target or a new file; its directory may still be a link.
    let dir = dirname(abs);
    try {
      dir = realpathSync(dir);
    } catch {
      // The directory is missing too; the write checks name that.
    }
    return { flag: use.flag, path: use.path, real: join(dir, basename(abs)) };
  }
}

function same(a: Identity, b: Identity): boolean {
  return a.real === b.real || (a.inode !== undefined && a.inode === b.inode);
}

/**
 * Refuses (InputError) a written path that is a read path, or another written path, by name, symlink or hard link.
 * Call it once per command before reading or computing anything. `allow` lists [read flag, write flag] pairs that
 * may name one file (a checkpoint resumed and then written again).
 */
export function guardPaths(reads: readonly PathUse[], writes: readonly PathUse[], allow: readonly (readonly [string, string])[] = []): void {
  const given = (uses: readonly PathUse[]): Identity[] => uses.filter((u): u is PathUse & { path: string } => u.path !== undefined).map(identify);
  const ins = given(reads);
  const outs = given(writes);
  outs.forEach((out, i) => {
    const input = ins.find((r) => same(r, out) && !allow.some(([a, b]) => a === r.flag && b === out.flag));
    if (input) {
      const link = resolve(input.path) === resolve(out.path) ? '' : ` '${input.path}' (through a link)`;
      throw new InputError(`${out.flag} '${out.path}' is the ${input.flag} file${link}, which it would overwrite; give ${out.flag} another name`);
    }
    const other = outs.slice(0, i).find((o) => same(o, out));
    if (other) throw new InputError(`${other.flag} and ${out.flag} are the same file '${out.path}'; give two different paths`);
  });
}
