// The option registry (src/options/) is the one source of the flags, the help and the page's lists: every
// declared option with a flag appears in its command's help, and the help in docs/cli.md is the command's own.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIT_USAGE } from '../../src/cli/fit.ts';
import { SAMPLE_USAGE } from '../../src/cli/sample.ts';
import { METHOD_OPTION, SAMPLE_OPTIONS, SCHEDULE_OPTION, SCHEDULE_OPTIONS, SCHEDULES } from '../../src/options/index.ts';
import { SAMPLE_METHODS } from '../../src/sample-options.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DOCS = readFileSync(resolve(ROOT, 'docs/cli.md'), 'utf8');

describe('the declared options', () => {
  const cases = [
    ['fit', FIT_USAGE, [METHOD_OPTION, SCHEDULE_OPTION, ...Object.values(SCHEDULE_OPTIONS)]],
    ['sample', SAMPLE_USAGE, Object.values(SAMPLE_OPTIONS)],
  ] as const;
  for (const [command, usage, decls] of cases) {
    it(`each declared flag of ${command} is in its usage and described in its help`, () => {
      for (const d of decls) {
        if (!d.flag) continue;
        expect(usage.split('\n\n')[0], d.flag.name).toMatch(new RegExp(`--${d.flag.name}\\b`));
        expect(usage, d.flag.name).toMatch(new RegExp(`\\n  --${d.flag.name}\\b`));
      }
    });
    it(`docs/cli.md shows the ${command} help as the command prints it`, () => {
      expect(DOCS).toContain(usage);
    });
  }

  it("the page's select lists name declared methods and schedules", () => {
    const html = readFileSync(resolve(ROOT, 'index.html'), 'utf8');
    const options = (name: string): string[] => {
      const select = new RegExp(`<select name="${name}">([\\s\\S]*?)</select>`).exec(html)![1]!;
      return [...select.matchAll(/value="([^"]+)"/g)].map((m) => m[1]!);
    };
    // Every declared schedule, plus the page's 'default' (the estimator's defaultSchedule for the K chosen).
    expect([...options('schedule')].sort()).toEqual([...SCHEDULES, 'default'].sort());
    for (const m of options('method')) expect(METHOD_OPTION.kind.type === 'enum' && METHOD_OPTION.kind.values).toContain(m);
    expect(SAMPLE_METHODS[0]).toBe('direct');
  });
});
