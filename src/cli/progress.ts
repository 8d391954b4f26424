/** The import command's progress bar: pure formatting (unit-tested) and a throttled, in-place renderer. */

export interface ProgressSnapshot {
  /** The job's state: a word other than `running` is shown before the bar (`queued`, `cancelling`). */
  state: string;
  done: number;
  total: number | null;
  /** Rows per second lately; 0 when not known yet. */
  rate: number;
  /** Terminal width. */
  columns: number;
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const formatCount = (n: number): string => numberFormat.format(Math.max(0, Math.round(n)));

/** `0:07`, `12:34`, `1:02:03`; `--:--` when it cannot be known. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds left at this rate; null while the rate or the total is unknown. */
export function secondsLeft(done: number, total: number | null, rate: number): number | null {
  if (total === null) return null;
  if (done >= total) return 0;
  return rate > 0 ? (total - done) / rate : null;
}

/** Whole percent, never 100 before the last row. */
export function percentOf(done: number, total: number | null): number {
  if (!total) return done > 0 ? 100 : 0;
  if (done >= total) return 100;
  return Math.min(99, Math.floor((done / total) * 100));
}

/** `cancelling`, the longest state word shown. */
const STATE_WIDTH = 10;

/** One line, at most `columns - 1` characters wide: `running    [████░░░░]  52%  52,000/100,000  8,400 rows/s  ETA 0:06`. */
export function formatProgress(p: ProgressSnapshot): string {
  const percent = `${String(percentOf(p.done, p.total)).padStart(3)}%`;
  // Padded to the widths they end at, so the bar keeps its length while the numbers grow.
  const total = p.total === null ? '?' : formatCount(p.total);
  const rows = `${formatCount(p.done).padStart(total.length)}/${total}`;
  const rate = `${formatCount(p.rate).padStart(6)} rows/s`;
  const ended = p.state === 'cancelled' || p.state === 'failed';
  const eta = `ETA ${formatDuration(ended ? null : secondsLeft(p.done, p.total, p.rate))}`;
  const head = `${p.state.padEnd(STATE_WIDTH)} `;
  const tail = `  ${percent}  ${rows}  ${rate}  ${eta}`;
  const room = p.columns - 1 - head.length - tail.length - 2;
  if (room < 10) return `${head}${tail.trimStart()}`.slice(0, Math.max(0, p.columns - 1));
  const width = Math.min(40, room);
  const filled = p.total ? Math.min(width, Math.floor((Math.min(p.done, p.total) / p.total) * width)) : 0;
  return `${head}[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${tail}`;
}

/** Rows per second over the last few seconds of samples, so the rate follows the import rather than its whole past. */
export class RateMeter {
  private samples: { at: number; done: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  add(at: number, done: number): void {
    const last = this.samples[this.samples.length - 1];
    // processedRows only grows; a smaller value is a takeover's replay and starts the window again.
    if (last && done < last.done) this.samples = [];
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }
}

export interface ProgressStream {
  write(text: string): unknown;
  columns?: number;
}

/** Redraws one line in place (`\r`), at most once per `minIntervalMs`; `done()` leaves the last state and ends the line. */
export class ProgressBar {
  private lastDraw = -Infinity;
  private drawn = false;
  /** An update not drawn yet (throttled). */
  private pending = false;
  private last: Omit<ProgressSnapshot, 'columns' | 'rate'> | undefined;
  private readonly meter = new RateMeter();

  constructor(
    private readonly out: ProgressStream,
    private readonly minIntervalMs = 100,
    private readonly clock: () => number = Date.now,
  ) {}

  update(state: string, done: number, total: number | null, force = false): void {
    const now = this.clock();
    this.meter.add(now, done);
    this.last = { state, done, total };
    if (!force && now - this.lastDraw < this.minIntervalMs) {
      this.pending = true;
      return;
    }
    this.lastDraw = now;
    this.draw();
  }

  /** Writes a line of its own above the bar, then draws the bar again. */
  note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    if (this.last) this.draw();
  }

  /** Draws the last state once more and ends the line; later calls do nothing. */
  done(): void {
    if (!this.drawn) return;
    if (this.pending) this.draw();
    this.out.write('\n');
    this.drawn = false;
    this.last = undefined;
  }

  private clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    const line = formatProgress({ ...this.last!, rate: this.meter.rate(), columns: this.out.columns || 80 });
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
    this.pending = false;
  }
}
