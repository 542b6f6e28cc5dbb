// Training progress on stderr: a redrawn bar with ETA on a terminal, plain
// periodic lines when stderr is a file or pipe, nothing with --json off a terminal.
// The ETA is the measured time per step times the steps the plan may still take;
// while a stopping rule may end the run sooner, the total reads "up to".

export interface ProgressOptions {
  /** The steps of a fixed plan; a plan that changes gives update() its steps left instead. */
  readonly total?: number;
  readonly label: string;
  /** --json: keep stderr quiet unless a person is watching a terminal. */
  readonly json: boolean;
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when not on a terminal. */
  readonly plainEverySeconds?: number;
}

/** The steps a plan may still take, and whether a stopping rule may end it sooner. */
export interface StepsLeft {
  readonly left: number;
  readonly upTo: boolean;
}

const BAR_WIDTH = 24;
/** A terminal redraw at most every REDRAW_MS keeps the bar cheap. */
const REDRAW_MS = 100;

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly start = performance.now();
  /** The first report: the step rate is measured from it, so set-up before the first step is not counted. */
  private first: { done: number; at: number } | undefined;
  private lastDraw = -Infinity;
  private drewBar = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.enabled = this.tty || !options.json;
  }

  /** Reports `done` steps with a short detail such as the loss, and what the plan may still take (default: total - done). */
  update(done: number, detail = '', plan: StepsLeft = { left: Math.max(0, (this.options.total ?? done) - done), upTo: false }): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!this.first) this.first = { done, at: now };
    const total = done + plan.left;
    const last = plan.left <= 0;
    const elapsed = (now - this.start) / 1000;
    const measured = done - this.first.done;
    const perStep = measured > 0 ? (now - this.first.at) / 1000 / measured : done > 0 ? elapsed / done : Infinity;
    const eta = perStep * plan.left;
    const of = `${plan.upTo && !last ? 'up to ' : ''}${total}`;
    const etaText = `${plan.upTo ? 'ETA at most' : 'ETA'} ${formatSeconds(eta)}`;
    if (this.tty) {
      if (!last && now - this.lastDraw < REDRAW_MS) return;
      const frac = Math.min(1, done / Math.max(total, 1));
      const filled = Math.round(frac * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
      const pct = `${Math.floor(frac * 100)}`.padStart(3);
      const line = `${this.options.label} [${bar}] ${pct}% ${done}/${of} ${detail}${last ? '' : ` ${etaText}`}`;
      this.stream.write(`\r\x1b[2K${line}`);
      this.drewBar = true;
    } else {
      const every = (this.options.plainEverySeconds ?? 2) * 1000;
      if (!last && now - this.lastDraw < every) return;
      this.stream.write(`${this.options.label}: step ${done}/${of} ${detail} (${formatSeconds(elapsed)} elapsed${last ? '' : `, ${etaText}`})\n`);
    }
    this.lastDraw = now;
  }

  /** Ends the bar's line so later output starts on a fresh line. */
  finish(): void {
    if (this.drewBar) this.stream.write('\n');
    this.drewBar = false;
  }
}
