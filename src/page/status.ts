// The page's status text for a student run: progress, the stage, the loss, the errors, EM beside it and the timing.
import type { RunResult } from './export.ts';
import type { Session } from './session.ts';

export function fmt(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '-' : Number(v.toPrecision(digits)).toString();
}

/** The lines of the status panel for session `s` and its exported result `r`. */
export function statusLines(s: Session, r: RunResult, timestamps: boolean, longestTaskMs: number): string[] {
  const m = s.settings.method;
  const unit = m === 'ddpm' ? 'step' : 'iteration';
  const last = s.points[s.points.length - 1]!;
  const name = m === 'ddpm' ? `DDPM-GD, ${s.settings.schedule} schedule` : m === 'em' ? 'EM' : 'gradient EM';
  // The stopping rules may end a run before its limit, so the limit is "at most".
  const lines = [
    `${s.status}: ${unit} ${s.stepsDone} / at most ${s.stepLimit} (${name}), N = ${s.input.data.rows}, d = ${s.input.data.cols}, K = ${s.settings.k}`,
  ];
  if (m === 'ddpm') {
    const stage = s.plan.stages.find((st) => st.name === last.stage);
    const scale = stage?.kind === 'gd' ? `, t = ${fmt(stage.noiseScale, 3)}, step size ${fmt(stage.lr, 3)}` : '';
    // A stage without a stopping rule (an averaging tail) runs to its limit: "rule met" would say nothing there.
    const hasRule = (name: string) => s.plan.stages.find((st) => st.name === name)?.stop.kind !== 'none';
    const ended = s.stages.map((st) => `${st.name} ${st.steps} steps${st.converged && hasRule(st.name) ? ' (rule met)' : ''}`).join('; ');
    lines.push(`stage: ${last.stage ?? 'starting'}${scale}${ended ? `   ended: ${ended}` : ''}`);
    lines.push(`loss ${fmt(last.loss)}   |dL/dm| ${fmt(last.gradNorm)}`);
  }
  if (r.error) {
    const angle = last.angle !== null ? `; angle |cos| ${fmt(last.angle)} (initially ${fmt(s.points[0]!.angle)})` : '';
    lines.push(`centre error: max ${fmt(r.error.max)}, mean ${fmt(r.error.mean)} (initially ${fmt(s.points[0]!.errorMax)})${angle}`);
  } else lines.push(`log-likelihood per row ${fmt(last.logLikelihood)} (initially ${fmt(s.points[0]!.logLikelihood)}; no true centres, so no error)`);
  const emLast = s.emPoints[s.emPoints.length - 1];
  const emFigure = r.error ? `error max ${fmt(r.em?.error?.max)}` : `log-likelihood per row ${fmt(emLast?.logLikelihood)}`;
  if (r.em) lines.push(`EM beside it: iteration ${r.em.iterations} / ${s.settings.emIterations}, ${emFigure}`);
  lines.push(`throughput ${r.timing.sampleGradsPerSec.toExponential(3)} sample-grads/s; ${fmt(r.timing.msPerStepWall)} ms/${unit} wall` +
    (r.timing.msPerStepGpu !== null ? `, ${fmt(r.timing.msPerStepGpu)} ms/${unit} GPU (timestamp queries)` : timestamps ? '' : ' (no timestamp queries on this adapter)'));
  lines.push(`elapsed ${fmt(r.timing.elapsedSeconds, 3)} s; longest main-thread task ${fmt(longestTaskMs, 3)} ms`);
  return lines;
}
