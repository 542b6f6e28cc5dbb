// A seeded fuzz run of the built CLI (issue 18): damaged .npy, CSV, model and checkpoint files and odd flag
// values through predict, sample, fit, grad and generate on the CPU backend. Whatever happens: no internal error
// (exit 1), no stack trace, no exit 0 with NaN or Inf in what was printed or written, valid JSON on stdout with
// --json, and every input byte-identical afterwards.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy.ts';
import { readModelFile } from '../../src/model-file.ts';
import { mutate, mutationArb, type Mutation } from '../support/properties.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
// The compiled CLI starts in a fraction of the time of bin/dev.js (tsx); `npm test` builds it first.
const BUILT = join(ROOT, 'bin', 'ddpm-gmm.js');
const BIN = existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')) ? BUILT : join(ROOT, 'bin', 'dev.js');
// FUZZ_SEED and FUZZ_CASES explore further by hand; npm test runs the fixed seed.
const SEED = Number(process.env['FUZZ_SEED'] ?? 18);
const CASES = Number(process.env['FUZZ_CASES'] ?? 120);
/** A case that runs longer has hung: every command below works on at most 40 rows with a few steps. */
const CASE_TIMEOUT_MS = 60_000;

interface Run {
  code: number | string;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: CASE_TIMEOUT_MS, maxBuffer: 1 << 26, env: { ...process.env, DDPM_GMM_DEBUG: '' } }, (e, stdout, stderr) => {
      const err = e as (Error & { code?: number | string; killed?: boolean }) | null;
      done({ code: err ? (err.killed ? 'timeout' : (err.code ?? -1)) : 0, stdout, stderr });
    });
  });
}

/** The input files every case starts from (written once by the CLI itself). */
const INPUTS = ['x.csv', 'x.npy', 'mu.npy', 'student.json', 'general.json', 'piecewise.json', 'ck.json'] as const;
type Input = (typeof INPUTS)[number];
let base = '';

/** A damage to one input: its bytes, or (JSON files) one field replaced by another value. */
type Damage = { file: Input; bytes: Mutation[] } | { file: Input; path: number[]; value: unknown };

interface FuzzCase {
  readonly argv: string[];
  readonly damage: readonly Damage[];
}

const odd = fc.constantFrom('nan', '-1', '0', '', 'x', '1.5', '1e400', '-0', '2', '3', 'inf', '1e-300');
const pick = <T,>(...xs: T[]) => fc.constantFrom(...xs);
/** Flags with a value, each present one time in three; one value in eight is an odd one. */
function flags(spec: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string[]> {
  const entries = Object.entries(spec).map(([flag, value]) =>
    fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.oneof({ weight: 7, arbitrary: value }, { weight: 1, arbitrary: odd }).map((v) => [flag, v]) }),
  );
  return fc.tuple(...entries).map((parts) => parts.flat());
}
const json = fc.option(fc.constant(['--json']), { nil: [] as string[] });
const data = pick('x.csv', 'x.npy');

const commands: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(pick('student.json', 'general.json', 'piecewise.json'), data, flags({ '--out': pick('l.csv', 'l.npy', 'x.csv'), '--proba': pick('p.csv', 'p.npy'), '--csv-index': pick('drop', 'keep', 'error') }), json).map(([m, d, f, j]) => ['predict', '--model', m, '--data', d, ...f, ...j]),
  fc
    .tuple(pick('student.json', 'general.json', 'piecewise.json'), pick('1', '7', '40'), pick('s.npy', 's.csv', 'x.npy'), flags({ '--method': pick('reverse', 'ode', 'langevin', 'direct'), '--start': pick('x.npy', 'x.csv'), '--steps': pick('5', '20'), '--seed': pick('0', '3'), '--horizon': pick('4', '8'), '--t-min': pick('0', '0.01'), '--step-size': pick('0.01', '0.1') }), json)
    .map(([m, n, out, f, j]) => ['sample', '--model', m, '--n', n, '--out', out, '--backend', 'cpu', ...f, ...j]),
  fc
    .tuple(data, pick('1', '2', '3'), flags({ '--method': pick('ddpm', 'em', 'gradient-em', 'power'), '--schedule': pick('single', 'two-stage', 'warm', 'annealed', 'screened', 'projected'), '--covariance': pick('identity', 'spherical', 'diag'), '--weights': pick('equal', 'learned'), '--scale': pick('within', 'standard', 'none'), '--init': pick('mu.npy'), '--truth': pick('mu.npy'), '--lr': pick('0.5', '1'), '--t': pick('0.2', '1'), '--restarts': pick('1', '2'), '--out': pick('m.json', 'c.npy', 'c.csv', 'x.npy'), '--history': pick('h.csv', 'x.csv'), '--resume': pick('ck.json') }), json)
    .map(([d, k, f, j]) => ['fit', '--data', d, '--k', k, '--backend', 'cpu', '--steps', '10', '--log-every', '5', ...f, ...j]),
  fc.tuple(data, flags({ '--degree': pick('1', '2'), '--interpolation': pick('linear', 'nearest'), '--ridge': pick('held-out', '1e-6'), '--out': pick('pw.json') }), json).map(([d, f, j]) => ['fit', '--model', 'piecewise', '--data', d, '--levels', '3', '--cells', '2', '--draws', '1', '--backend', 'cpu', ...f, ...j]),
  fc.tuple(data, pick('0.5', '2'), flags({ '--seed': pick('1'), '--step': pick('0', '5'), '--tied': fc.constant('') }), json).map(([d, t, f, j]) => ['grad', '--data', d, '--means', 'mu.npy', '--t', t, '--backend', 'cpu', ...f.filter((a) => a !== ''), ...j]),
  fc.tuple(flags({ '--k': pick('1', '3'), '--d': pick('1', '4'), '--n': pick('5', '30'), '--separation': pick('1', '8'), '--dtype': pick('float32', 'float64'), '--truth': pick('t.npy') }), pick('g.npy', 'g.csv'), json).map(([f, out, j]) => ['generate', '--out', out, ...f, ...j]),
);

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ file: fc.constantFrom(...INPUTS), bytes: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    file: fc.constantFrom<Input>('student.json', 'general.json', 'piecewise.json', 'ck.json'),
    path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1e15, 1e200, -1e300, 1e308, 2 ** 32, '', null, [[]], [[1e200, 0, 0]])),
  }),
);
/** Half the cases damage no file, so that odd flags meet intact inputs too. */
const caseArb: fc.Arbitrary<FuzzCase> = fc.record({ argv: commands, damage: fc.oneof(fc.constant<Damage[]>([]), fc.array(damageArb, { minLength: 1, maxLength: 2 })) });

/** The JSON value with the field at a path of child indices replaced. */
function replaced(root: unknown, path: readonly number[], value: unknown): unknown {
  let node = root as Record<string, unknown>;
  for (let i = 0; i < path.length; i++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[path[i]! % keys.length]!;
    const child = node[key];
    if (i === path.length - 1 || typeof child !== 'object' || child === null) {
      node[key] = value;
      break;
    }
    node = child as Record<string, unknown>;
  }
  return root;
}

function prepare(dir: string, damage: readonly Damage[]): void {
  for (const f of INPUTS) copyFileSync(join(base, f), join(dir, f));
  // Fields first, then bytes: a field can only be replaced in a file that still parses.
  for (const d of [...damage].sort((a, b) => Number('bytes' in a) - Number('bytes' in b))) {
    const p = join(dir, d.file);
    if ('bytes' in d) writeFileSync(p, mutate(readFileSync(p), d.bytes));
    else writeFileSync(p, JSON.stringify(replaced(JSON.parse(readFileSync(p, 'utf-8')), d.path, d.value)));
  }
}

/** The files a command line may write: those after an output flag that no flag also reads. */
function writtenBy(argv: readonly string[]): string[] {
  const out = argv[0] === 'generate' ? ['--out', '--truth'] : ['--out', '--proba', '--history', '--checkpoint'];
  const after = (flags: readonly string[]) => argv.flatMap((a, i) => (flags.includes(a) && i + 1 < argv.length ? [argv[i + 1]!] : []));
  const reads = new Set(argv.flatMap((a, i) => (a.startsWith('--') && !out.includes(a) && i + 1 < argv.length ? [argv[i + 1]!] : [])));
  return after(out).filter((f) => !reads.has(f));
}

const NON_FINITE = /\b(nan|-?inf|-?infinity)\b/i;

/** Exit codes seen, so that a run where every case is refused (or none is) shows up. */
const codes = new Map<number | string, number>();

/** What one case broke, or [] when it kept every promise. */
async function check(c: FuzzCase, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  prepare(dir, c.damage);
  const before = new Map(INPUTS.map((f) => [f, readFileSync(join(dir, f))]));
  const r = await cli(c.argv, dir);
  codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
  const broken: string[] = [];
  if (r.code === 'timeout' || ![0, 2, 3, 4].includes(r.code as number)) broken.push(`exit ${r.code}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) broken.push('a stack trace on stderr');
  if (c.argv.includes('--json') && (r.code === 0 || r.stdout.trim() !== '')) {
    try {
      JSON.parse(r.stdout);
    } catch {
      broken.push('stdout is not JSON');
    }
  }
  if (r.code === 0 && NON_FINITE.test(r.stdout)) broken.push('NaN or Inf printed');
  const writes = new Set(writtenBy(c.argv));
  for (const f of INPUTS) if (!writes.has(f) && !readFileSync(join(dir, f)).equals(before.get(f)!)) broken.push(`input ${f} changed`);
  if (r.code === 0) {
    for (const f of readdirSync(dir).filter((f) => !(INPUTS as readonly string[]).includes(f))) {
      const bytes = readFileSync(join(dir, f));
      if (f.endsWith('.npy') && !parseNpy(bytes, f).data.every(Number.isFinite)) broken.push(`NaN or Inf in ${f}`);
      if (f.endsWith('.csv') && NON_FINITE.test(bytes.toString('utf-8'))) broken.push(`NaN or Inf in ${f}`);
      if (f.endsWith('.json')) {
        const parsed = JSON.parse(bytes.toString('utf-8')) as Record<string, unknown>;
        if (parsed['format'] === 'ddpm-gmm-model') readModelFile(parsed);
      }
    }
  }
  return broken.map((b) => `${b}: ddpm-gmm ${c.argv.join(' ')} (damage ${JSON.stringify(c.damage)}); stderr: ${r.stderr.slice(0, 400)}`);
}

/** Runs cases two at a time (the CI machine's cores); returns every broken promise. */
async function runAll(cases: readonly FuzzCase[], root: string): Promise<string[]> {
  const out: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out.push(...(await check(cases[i]!, join(root, `case-${i}`))));
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'ddpm-gmm-fuzz-'));
  const steps = async (argv: string[]): Promise<void> => {
    const r = await cli(argv, base);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  };
  await steps(['generate', '--k', '2', '--d', '3', '--n', '40', '--out', 'x.csv', '--truth', 'mu.npy', '--seed', '4']);
  await steps(['generate', '--k', '2', '--d', '3', '--n', '40', '--out', 'x.npy', '--seed', '5', '--dtype', 'float32']);
  const fit = ['fit', '--data', 'x.csv', '--k', '2', '--backend', 'cpu', '--steps', '10', '--log-every', '5'];
  // The paper's student (student.json) and the default general one (general.json).
  await steps([...fit, '--covariance', 'identity', '--weights', 'equal', '--out', 'student.json', '--checkpoint', 'ck.json', '--checkpoint-every', '5']);
  await steps([...fit, '--covariance', 'diag', '--weights', 'learned', '--out', 'general.json']);
  await steps(['fit', '--model', 'piecewise', '--data', 'x.csv', '--levels', '3', '--cells', '2', '--draws', '1', '--backend', 'cpu', '--out', 'piecewise.json']);
});

describe('the CLI under fuzzing', () => {
  it(`${CASES} seeded cases (seed ${SEED}) keep every promise`, async () => {
    const cases = fc.sample(caseArb, { seed: SEED, numRuns: CASES });
    expect(await runAll(cases, join(base, 'cases'))).toEqual([]);
    // The mix is wide enough to matter: both successes and refusals, each a good share of the cases.
    expect(codes.get(0) ?? 0, JSON.stringify([...codes])).toBeGreaterThan(CASES / 5);
    expect(codes.get(2) ?? 0, JSON.stringify([...codes])).toBeGreaterThan(CASES / 5);
  });
});
