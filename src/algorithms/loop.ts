// The iteration loop, written once (docs/architecture.md, scikit-learn anchor; a template method in the spirit
// of BaseMixture.fit): a schedule is a list of stages, each run by its kind's strategy (stage-kinds.ts: GD at one
// noise scale, docs/math.md sections 6 and 8; EM and gradient EM, section 9). The loop advances a stage in
// chunks of `logEvery` steps, records a history row per chunk, applies the stage's stopping rule
// (stop-rules.ts), and lets the attached observers (observers.ts: truth metrics, connections, checkpoints,
// progress) add to the row and act at chunk boundaries. Fresh noise is a pure function of the global step
// (docs/math.md section 7) and chunks are aligned to the step count, so a run resumed from a checkpoint makes
// exactly the Backend calls an uninterrupted run makes.
import { InputError } from '../errors.ts';
import type { Trainer } from '../training/capability.ts';
import { isPaperStudent, type StudentParams } from '../training/student.ts';
import { matrix, type Dataset, type Matrix } from '../types.ts';
import type { ChunkInfo, HistoryRow, LoopOptions, LoopResult, LoopState, Problem, Stage, StageResult } from './loop-types.ts';
import { maxRowChange } from './matrix-math.ts';
import { hookObservers, meansOf } from './observers.ts';
import { stageKind, type ChunkEnd, type StageRun } from './stage-kinds.ts';
import { judgeStop } from './stop-rules.ts';

export type * from './loop-types.ts';
export { directionGap, SPECTRAL_PROGRESS, spectralStop, type StopRule } from './stop-rules.ts';
export { checkpointObserver, connectionsObserver, meansOf, truthMetrics, truthObserver } from './observers.ts';

/** Runs the stages from `init` (or from options.resume) to the end of the last stage. */
export async function runStages(backend: Trainer, problem: Problem, stages: readonly Stage[], init: Matrix, options: LoopOptions): Promise<LoopResult> {
  if (!Number.isSafeInteger(options.logEvery) || options.logEvery < 1) {
    throw new InputError(`the log interval must be a positive integer, got ${options.logEvery}`);
  }
  // The backend takes the data once; every call of the run names it (no per-call check, hash or upload).
  const data = backend.dataset(problem.data);
  try {
    return await runStagesOn(backend, data, problem, stages, init, options);
  } finally {
    data.dispose();
  }
}

/** The current stage's rows at the end of the history (none when the stage has just begun). */
function stageRows(history: readonly HistoryRow[], name: string, stepsBefore: number): HistoryRow[] {
  if (stepsBefore <= 0) return [];
  const out: HistoryRow[] = [];
  for (let i = history.length - 1; i >= 0 && history[i]!.stage === name; i--) out.push(history[i]!);
  return out.reverse();
}

/** The row's fields in one order (the JSON and CSV a user reads), whatever order the observers added them in. */
const ROW_ORDER = ['step', 'stage', 'noiseScale', 'loss', 'gradNorm', 'change', 'studentChange', 'error', 'meanError', 'angle', 'directionGap', 'cosPower', 'cosPowerCorrected', 'cosGradientEm'];

function ordered(row: HistoryRow): HistoryRow {
  const r = row as unknown as Record<string, unknown>;
  const keys = [...ROW_ORDER.filter((k) => k in r), ...Object.keys(r).filter((k) => !ROW_ORDER.includes(k) && k !== 'seconds'), 'seconds'];
  return Object.fromEntries(keys.map((k) => [k, r[k]])) as unknown as HistoryRow;
}

/** What the change rule needs of a general student at a GD stage's chunk end (stop-rules.ts, studentChange). */
function studentStop(t: number | null, before: StudentParams | undefined, after: StudentParams | undefined) {
  return t !== null && before && after && !isPaperStudent(after) ? { before, after, noiseScale: t } : undefined;
}

/** A resumed state must fit the plan: steps within the stage's limit, the centres K x d. */
function checkResumeShape(r: LoopState, stages: readonly Stage[], init: Matrix): void {
  const limit = r.stageIndex < stages.length ? stages[r.stageIndex]!.maxSteps : 0;
  if (r.stepInStage < 0 || r.stepInStage > limit) {
    throw new InputError(`the checkpoint's stepInStage is ${r.stepInStage}, but stage ${r.stageIndex} runs 0 to ${limit} steps; the checkpoint is damaged: rerun without --resume`);
  }
  if (r.globalStep < r.stepInStage) throw new InputError(`the checkpoint's step count ${r.globalStep} is below its stepInStage ${r.stepInStage}; the checkpoint is damaged: rerun without --resume`);
  if (r.centres.rows !== init.rows || r.centres.cols !== init.cols) {
    throw new InputError(`the checkpoint's centres are ${r.centres.rows} x ${r.centres.cols} but this run's are ${init.rows} x ${init.cols}; resume with the same data and --k, or rerun without --resume`);
  }
  if (r.average && (r.average.sum.rows !== init.rows || r.average.sum.cols !== init.cols)) {
    throw new InputError(`the checkpoint's running average is ${r.average.sum.rows} x ${r.average.sum.cols} but this run's centres are ${init.rows} x ${init.cols}; the checkpoint is damaged: rerun without --resume`);
  }
}

async function runStagesOn(backend: Trainer, data: Dataset, problem: Problem, stages: readonly Stage[], init: Matrix, options: LoopOptions): Promise<LoopResult> {
  const start = performance.now();
  const r = options.resume;
  if (r && (r.stageIndex < 0 || r.stageIndex > stages.length)) {
    throw new InputError(`the checkpoint's stageIndex is ${r.stageIndex}, but this schedule's stages are 0 to ${stages.length - 1} (${stages.length} when finished); resume with the same settings, or rerun without --resume`);
  }
  if (r) checkResumeShape(r, stages, init);
  const { logEvery, noiseSeed } = options;
  const observers = [...(options.observers ?? []), ...hookObservers(options)];
  // A stage without a stopping rule runs to its limit: its chunks go to the backend as one call, unless an
  // observer must act between chunks (it pauses, yields, or calls the backend).
  const betweenChunks = observers.some((o) => o.betweenChunks);
  let stageIndex = r?.stageIndex ?? 0;
  let stepInStage = r?.stepInStage ?? 0;
  let globalStep = r?.globalStep ?? 0;
  let centres = r?.centres ?? init;
  // The general student's variances and weights travel beside the centres (docs/math.md section 14).
  let student = r?.student ?? options.student;
  const history = r ? r.history.slice() : [];
  const stageResults: StageResult[] = r ? r.stageResults.slice() : [];
  const secondsBefore = r?.seconds ?? 0;
  const seconds = (): number => secondsBefore + (performance.now() - start) / 1000;
  let run: StageRun | undefined;
  const state = (): LoopState => ({
    stageIndex,
    stepInStage,
    globalStep,
    centres,
    history: history.slice(),
    stageResults: stageResults.slice(),
    seconds: seconds(),
    ...run?.carry(),
    ...(student ? { student } : {}),
  });
  const mStride = problem.tied ? 1 : centres.rows;
  if (centres.rows !== mStride) throw new Error(`runStages: centres have ${centres.rows} rows, expected ${mStride}`);
  const ctx = { backend, data, problem, logEvery, noiseSeed };
  options.onStart?.(stages);

  while (stageIndex < stages.length) {
    const stage = stages[stageIndex]!;
    const kind = stageKind(stage);
    run = kind.start(stage, ctx, r && stageIndex === r.stageIndex ? r : undefined);
    const batched = run.batches && stage.stop.kind === 'none' && !betweenChunks;
    let done = stepInStage >= stage.maxSteps;
    let pending: ChunkEnd[] = [];
    while (!done) {
      const chunk = Math.min(logEvery, stage.maxSteps - stepInStage);
      const before = centres;
      const studentBefore = student;
      if (pending.length === 0) pending = await run.advance(centres, globalStep, batched ? stage.maxSteps - stepInStage : chunk, student);
      const end = pending.shift()!;
      centres = end.centres;
      student = end.student ?? student;
      stepInStage += chunk;
      globalStep += chunk;
      const reported = run.report(centres, student);
      const stop = judgeStop(stage.stop, before, centres, chunk, stepInStage, () => stageRows(history, stage.name, stepInStage - chunk).map((h) => h.directionGap ?? Infinity), studentStop(kind.noiseScale(stage), studentBefore, student));
      done = stop.met || stepInStage >= stage.maxSteps;
      const info: ChunkInfo = { backend, problem, stage, before, centres: reported, startStep: globalStep - chunk, steps: chunk, noiseSeed };
      let row: HistoryRow = {
        step: globalStep - 1,
        stage: stage.name,
        noiseScale: kind.noiseScale(stage),
        loss: end.loss,
        gradNorm: end.gradNorm,
        change: maxRowChange(before, centres) / chunk,
        ...(stop.studentChange !== undefined ? { studentChange: stop.studentChange } : {}),
        ...(stop.directionGap !== undefined ? { directionGap: stop.directionGap } : {}),
        seconds: 0,
      };
      for (const o of observers) if (o.fields) row = { ...row, ...(await o.fields(info)) };
      row = ordered({ ...row, seconds: seconds() });
      history.push(row);
      if (done) {
        const result = run.finish(centres, stop.met, stageResults[stageResults.length - 1]?.converged ?? false);
        centres = result.centres;
        student = result.student ?? student;
        stageResults.push({ name: stage.name, steps: stepInStage, converged: result.converged });
        stageIndex++;
        stepInStage = 0;
      }
      for (const o of observers) {
        const wait = o.afterChunk?.(row, state, info);
        if (wait) await wait;
      }
    }
    if (stages[stageIndex] === stage) {
      // A resumed state can sit exactly at a stage's limit: close that stage.
      stageResults.push({ name: stage.name, steps: stepInStage, converged: false });
      stageIndex++;
      stepInStage = 0;
    }
  }
  run = undefined;
  for (const o of observers) o.end?.(state);
  const lastStage = stageResults[stageResults.length - 1];
  return {
    means: meansOf(problem, centres),
    centres: matrix(centres.rows, centres.cols, centres.data.slice()),
    history,
    converged: lastStage?.converged ?? false,
    nIter: globalStep,
    stages: stageResults,
    ...(student ? { student } : {}),
  };
}
