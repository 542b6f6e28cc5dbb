// ddpm-gmm experiment NAME|all [--quick] [--json]: the reproduction suite (src/experiments/suite.ts, with the
// sampling experiments of src/experiments/sampling.ts) on one backend; prints a table and writes report.json
// and figure.svg into a results folder it names.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { writeTextFile } from '../io/files.ts';
import { svgFigure, table } from '../experiments/report.ts';
import { EXPERIMENTS, type Curve, type Row } from '../experiments/suite.ts';
import { backendFlag, boolFlag, numberFlag, parseFlags, stringFlag, type FlagSpec } from './args.ts';
import { describeBackend } from '../backend-choice.ts';
import { backendJson, backendText, openCliBackend } from './open-backend.ts';
import { printJson, printLines } from './output.ts';
import { realDataSource } from './real-data-source.ts';
import type { FitVariant } from '../experiments/real-data-sets.ts';

export const EXPERIMENT_USAGE = `Usage: ddpm-gmm experiment NAME|all [--quick] [--max-n N] [--out DIR] [--backend auto|gpu|cpu] [--fit JSON] [--json]

Runs the reproduction suite (docs/math.md sections 8-10) on seeded mixtures and compares DDPM-GD with EM:
  two-stage          K = 2, |mu*| = 3, random start (Theorem 7): error, steps, stage-1 cosine, vs EM
  small-separation   K = 2, |mu*| small: projected (Theorem 13) vs unprojected stage 1 vs EM
  warm-start         K components from a warm start displaced by sep/3 (Theorem 16) vs EM from it
  connections        cos(DDPM step, power-iteration step) and cos(DDPM step, gradient-EM step) against t
  annealed           success rate of the annealed schedule vs EM with k-means++ (once, and best of several)
  sampler            energy distance of the samplers to direct samples against T and h, per integrator, with slopes
  learned-vs-true    samples from DDPM-GD's, EM's and the true centres against fresh data
  langevin-vs-diffusion  mode weights of Langevin (from N(0, I), from the data) vs reverse diffusion as modes separate
  sample-complexity  centre error against N and d (log-log slopes with 95% intervals), DDPM schedules and EM
  piecewise          the piecewise score model (docs/math.md section 13) vs the student and full-covariance EM:
                     energy distance to held-out data against N, score error against t
  real-data          raw iris, digits (data/real) and generated mixtures with unequal spreads, weights and units:
                     adjusted Rand index of fit + predict and centre error, vs scikit-learn when python3 has it
  --quick            small N, d, K and seed counts (minutes on a software adapter); without it, the full settings of docs/experiments.md
  --max-n N          cap every setting's N at N (each row names the N it used): the full two-stage d = 1024
                     row (N = 409600) takes hours on a software adapter
  --fit JSON         real-data: the estimator options to compare, an object or an array of them, e.g.
                     '[{"scale":"within"},{"scale":"within","schedule":"single"}]' (default: each --scale)
  --out DIR          the results folder (default results/<name>-<quick|full>-<timestamp>)
Writes DIR/report.json (rows, curves, settings, backend) and DIR/figure.svg (one panel per curve set).`;

const FLAGS: FlagSpec = {
  quick: { type: 'boolean' },
  out: { type: 'string' },
  'max-n': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  fit: { type: 'string' },
};

/** --fit JSON: one object of estimator options or an array of them, each a variant labelled by its JSON. */
function fitVariants(text: string | undefined): FitVariant[] | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--fit must be JSON, e.g. '{"scale":"within"}', got ${text} (${e instanceof Error ? e.message : String(e)})`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((o, i) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`--fit entry ${i + 1} (1-based) must be an object of estimator options such as {"scale":"within"}, got ${JSON.stringify(o)}`);
    return { label: `ddpm ${JSON.stringify(o)}`, options: o as Record<string, unknown> };
  });
}

export async function experimentCommand(argv: string[]): Promise<void> {
  const hasName = argv[0] !== undefined && !argv[0].startsWith('-');
  const name = hasName ? argv[0] : undefined;
  const rest = hasName ? argv.slice(1) : argv;
  const v = parseFlags('experiment', rest, FLAGS);
  if (boolFlag(v, 'help')) return printLines([EXPERIMENT_USAGE]);
  const names = Object.keys(EXPERIMENTS);
  if (name === undefined) throw new InputError(`'experiment' needs a name: one of ${names.join(', ')} or all`);
  if (name !== 'all' && !Object.hasOwn(EXPERIMENTS, name)) throw new InputError(`unknown experiment '${name}'; the experiments are ${names.join(', ')} and all`);
  const quick = boolFlag(v, 'quick');
  const maxN = numberFlag(v, 'max-n');
  if (maxN !== undefined && (!Number.isSafeInteger(maxN) || maxN < 64)) {
    throw new InputError(`--max-n must be a whole number of samples >= 64, got ${maxN}`);
  }
  const json = boolFlag(v, 'json');
  const variants = fitVariants(stringFlag(v, 'fit'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = stringFlag(v, 'out') ?? join('results', `${name}-${quick ? 'quick' : 'full'}-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const log = (msg: string): void => {
    if (!json) process.stderr.write(`${msg}\n`);
  };
  const backend = await openCliBackend(backendFlag(v), log);
  const info = describeBackend(backend);
  const rows: Row[] = [];
  const curves: Curve[] = [];
  const settings: Record<string, unknown> = {};
  const start = performance.now();
  try {
    for (const n of name === 'all' ? names : [name]) {
      const r = await EXPERIMENTS[n]!(backend, { quick, maxN, realData: realDataSource(), fitVariants: variants }, log);
      rows.push(...r.rows);
      curves.push(...r.curves);
      settings[n] = r.settings;
    }
  } finally {
    backend.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const reportPath = join(dir, 'report.json');
  const figurePath = join(dir, 'figure.svg');
  const report = { experiment: name, quick, maxN: maxN ?? null, ...backendJson(info), seconds, rows, curves, settings };
  writeTextFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  writeTextFile(figurePath, svgFigure(curves));
  if (json) return printJson({ ...report, curves: undefined, report: reportPath, figure: figurePath }, false);
  await printLines([
    `backend: ${backendText(info)}; ${quick ? 'quick' : 'full'} settings${maxN !== undefined ? `, N capped at ${maxN}` : ''}; ${seconds.toFixed(1)} s`,
    ...table(rows),
    `report: ${reportPath}`,
    `figure: ${figurePath}`,
  ]);
}
