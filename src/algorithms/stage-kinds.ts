// The loop's stage kinds as strategies (loop.ts drives them alike): each kind knows how to advance its
// centres by some steps through the Backend and what a chunk reports (loss, gradient norm, the centres
// shown to observers). A new kind is one entry in STAGE_KINDS.
import type { Trainer } from '../training/capability.ts';
import { copyStudent, floorWeights, isPaperStudent, logWeightsOf, type StudentParams } from '../training/student.ts';
import { studentLogLikelihood } from '../training/student-mixture.ts';
import { InputError } from '../errors.ts';
import { matrix, type Dataset, type Matrix } from '../types.ts';
import type { Problem, Stage, StageCarry } from './loop-types.ts';
import { averageLogLikelihood, maxRowChange } from './matrix-math.ts';

/** Where a chunk ended: its centres, and the loss and gradient norm it reports (HistoryRow). */
export interface ChunkEnd {
  readonly centres: Matrix;
  readonly loss: number;
  readonly gradNorm: number;
  /** The general student's variances and weights at the chunk's end (docs/math.md section 14). */
  readonly student?: StudentParams;
}

/** What a stage kind is given to run on. */
export interface StageContext {
  readonly backend: Trainer;
  readonly data: Dataset;
  readonly problem: Problem;
  readonly logEvery: number;
  readonly noiseSeed: number;
}

/** One stage in progress. */
export interface StageRun {
  /** Whether a run of several chunks may go to the backend as one call (same numbers as a call per chunk). */
  readonly batches: boolean;
  /**
   * The chunk ends of `steps` steps from `centres` (and a general student's `student`), whose first step is global
   * step `startStep`, logged every logEvery steps.
   */
  advance(centres: Matrix, startStep: number, steps: number, student?: StudentParams): Promise<ChunkEnd[]>;
  /** The centres a chunk reports, called once per chunk in order (an averaging tail: the running mean, of the student too). */
  report(centres: Matrix, student?: StudentParams): Matrix;
  /** The stage's result at its end; a stage without a rule of its own inherits `inherited`. */
  finish(centres: Matrix, converged: boolean, inherited: boolean): { centres: Matrix; converged: boolean; student?: StudentParams };
  /** What a checkpoint taken now keeps of the stage. */
  carry(): StageCarry;
}

export interface StageKind<S extends Stage> {
  /** The noise scale of the stage's history rows (null: not a DDPM stage). */
  noiseScale(stage: S): number | null;
  /** Starts (or, with `resumed`, continues) a stage. */
  start(stage: S, ctx: StageContext, resumed?: StageCarry): StageRun;
}

const plain = {
  report: (centres: Matrix) => centres,
  finish: (centres: Matrix, converged: boolean) => ({ centres, converged }),
  carry: () => ({}),
};

/**
 * DDPM gradient descent at one noise scale (docs/math.md sections 6 and 8): one gdSteps call per advance
 * with a log point per chunk. Splitting a stage into calls at chunk ends gives the same numbers (both
 * backends continue from the centres they report), so a batch of chunks equals the chunks run one call each.
 */
const gd: StageKind<Stage & { kind: 'gd' }> = {
  noiseScale: (stage) => stage.noiseScale,
  start: (stage, ctx, resumed) => {
    const base = {
      batches: true,
      async advance(centres: Matrix, startStep: number, steps: number, student?: StudentParams): Promise<ChunkEnd[]> {
        const out: ChunkEnd[] = [];
        await ctx.backend.gdSteps(ctx.data, centres, {
          noiseScale: stage.noiseScale,
          tied: ctx.problem.tied,
          lr: stage.lr,
          ...(stage.betaLr !== undefined ? { betaLr: stage.betaLr } : {}),
          steps,
          logEvery: ctx.logEvery,
          startStep,
          noise: { kind: 'seed', seed: ctx.noiseSeed, mode: stage.noise ?? 'fresh' },
          projectRadius: stage.projectRadius,
          ...(student ? { student } : {}),
          onProgress: (p) => out.push({ centres: p.centres, loss: p.last.loss, gradNorm: p.last.gradNorm, ...(p.student ? { student: p.student } : {}) }),
        });
        return out;
      },
    };
    return stage.average ? { ...base, ...averaging(resumed?.average) } : { ...base, ...plain };
  },
};

/**
 * Polyak-Ruppert averaging over a GD stage's chunk ends (Stage.average); the running sum is checkpointed. A general
 * student's gamma and log pi = beta - logsumexp(beta) are averaged too: both are unconstrained and free of
 * softmax's shift, so their mean is a point of the model (docs/math.md section 14).
 */
function averaging(resumed: StageCarry['average']): Pick<StageRun, 'report' | 'finish' | 'carry'> {
  let average = resumed;
  let mean: Matrix | undefined;
  let meanStudent: StudentParams | undefined;
  return {
    report(centres, student) {
      const sum = matrix(centres.rows, centres.cols, centres.data.slice());
      if (average) for (let i = 0; i < sum.data.length; i++) sum.data[i] = sum.data[i]! + average.sum.data[i]!;
      const studentSum = student ? addStudent(average?.student, student) : undefined;
      average = { sum, count: (average?.count ?? 0) + 1, ...(studentSum ? { student: studentSum } : {}) };
      const f = 1 / average.count;
      mean = matrix(sum.rows, sum.cols, sum.data.map((v) => v * f));
      meanStudent = studentSum ? scaledStudent(studentSum, f) : undefined;
      return mean;
    },
    // An averaging tail has no rule of its own: it inherits whether the stage before it converged.
    finish(centres, _converged, inherited) {
      average = undefined;
      return { centres: mean ?? centres, converged: inherited, ...(meanStudent ? { student: meanStudent } : {}) };
    },
    carry: () => (average ? { average } : {}),
  };
}

/** The running sum of gamma and log pi, from `sum` (undefined: zero) and the student `s`. */
function addStudent(sum: StudentParams | undefined, s: StudentParams): StudentParams {
  const out = copyStudent(s);
  out.beta.set(logWeightsOf(s.beta));
  if (sum) {
    for (let i = 0; i < out.gamma.data.length; i++) out.gamma.data[i] = out.gamma.data[i]! + sum.gamma.data[i]!;
    for (let i = 0; i < out.beta.length; i++) out.beta[i] = out.beta[i]! + sum.beta[i]!;
  }
  return out;
}

/** The mean of a running sum (f = 1 / count), its weights floored as every step leaves them. */
function scaledStudent(sum: StudentParams, f: number): StudentParams {
  const out = copyStudent(sum);
  for (let i = 0; i < out.gamma.data.length; i++) out.gamma.data[i] = out.gamma.data[i]! * f;
  for (let i = 0; i < out.beta.length; i++) out.beta[i] = out.beta[i]! * f;
  floorWeights(out.beta);
  return out;
}

/** EM (docs/math.md section 9): one emSteps call per chunk, the same numbers as a call per step. */
const em: StageKind<Stage & { kind: 'em' }> = {
  noiseScale: () => null,
  start: (_stage, ctx) => ({
    ...plain,
    batches: false,
    async advance(centres, _startStep, steps, student) {
      const r = await ctx.backend.emSteps(ctx.data, untied(ctx, centres), steps, ...(student ? [student] : []));
      return [emChunkEnd(ctx, r.previous, r.centres, r.student)];
    },
  }),
};

/** Gradient EM (docs/math.md section 9): gradientEmStep once per step. */
const gradientEm: StageKind<Stage & { kind: 'gradient-em' }> = {
  noiseScale: () => null,
  start: (stage, ctx) => ({
    ...plain,
    batches: false,
    async advance(centres, _startStep, steps, student) {
      if (!isPaperStudent(student)) throw new InputError('gradient EM (docs/math.md section 9) learns the centres of the paper\'s student only: use --method em or ddpm for --covariance spherical|diag or --weights learned');
      let prev = untied(ctx, centres);
      let next = prev;
      for (let s = 0; s < steps; s++) {
        prev = next;
        next = await ctx.backend.gradientEmStep(ctx.data, next, stage.lr);
      }
      return [emChunkEnd(ctx, prev, next)];
    },
  }),
};

function untied(ctx: StageContext, centres: Matrix): Matrix {
  if (ctx.problem.tied) throw new Error('runStages: EM stages take untied centres');
  return centres;
}

/** EM-type rows: minus the average log-likelihood (of the general student's mixture when there is one), and the last step's change of the centres. */
function emChunkEnd(ctx: StageContext, previous: Matrix, centres: Matrix, student?: StudentParams): ChunkEnd {
  const change = maxRowChange(previous, centres);
  if (!student) return { centres, loss: -averageLogLikelihood(ctx.problem.data, centres), gradNorm: change };
  const ll = studentLogLikelihood(ctx.problem.data, centres, student);
  return { centres, loss: -ll.reduce((p, q) => p + q, 0) / ll.length, gradNorm: change, student };
}

const STAGE_KINDS: { readonly [K in Stage['kind']]: StageKind<Stage & { kind: K }> } = { gd, em, 'gradient-em': gradientEm };

/** The strategy of a stage's kind. */
export function stageKind<S extends Stage>(stage: S): StageKind<S> {
  return STAGE_KINDS[stage.kind] as unknown as StageKind<S>;
}
