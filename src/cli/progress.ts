// Training progress on stderr: a redrawn bar with ETA on a terminal, plain
// periodic lines when stderr is a file or pipe, nothing with --json off a terminal.

export interface ProgressOptions {
  readonly total: number;
  readonly label: string;
  /** --json: keep stderr quiet unless a person is watching a terminal. */
  readonly json: boolean;
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when not on a terminal. */
  readonly plainEverySeconds?: number;
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
  private lastDraw = -Infinity;
  private drewBar = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.enabled = this.tty || !options.json;
  }

  /** Reports `done` of `total` steps, with a short detail such as the loss. */
  update(done: number, detail = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    const last = done >= this.options.total;
    const elapsed = (now - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.options.total - done) : Infinity;
    if (this.tty) {
      if (!last && now - this.lastDraw < REDRAW_MS) return;
      const frac = Math.min(1, done / this.options.total);
      const filled = Math.round(frac * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
      const pct = `${Math.floor(frac * 100)}`.padStart(3);
      const line = `${this.options.label} [${bar}] ${pct}% ${done}/${this.options.total} ${detail} ETA ${formatSeconds(eta)}`;
      this.stream.write(`\r\x1b[2K${line}`);
      this.drewBar = true;
    } else {
      const every = (this.options.plainEverySeconds ?? 2) * 1000;
      if (!last && now - this.lastDraw < every) return;
      this.stream.write(
        `${this.options.label}: step ${done}/${this.options.total} ${detail} (${formatSeconds(elapsed)} elapsed${last ? '' : `, ETA ${formatSeconds(eta)}`})\n`,
      );
    }
    this.lastDraw = now;
  }

  /** Ends the bar's line so later output starts on a fresh line. */
  finish(): void {
    if (this.drewBar) this.stream.write('\n');
    this.drewBar = false;
  }
}
