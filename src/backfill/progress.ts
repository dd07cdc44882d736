/** Counters of one backfill run, as printed on stderr. */
export interface ProgressSnapshot {
  /** What is running, e.g. `backfill stripe (customers)`. */
  readonly label: string;
  /** Objects read from the API (customers, events, users…). */
  readonly objects: number;
  /** Canonical events acknowledged by the broker. */
  readonly published: number;
  /** Objects read but not published (no customer, unused event type, invalid: see the log). */
  readonly skipped: number;
  readonly pages: number;
  /** How many objects the run will read in all, when the source says; null when unknown (Stripe lists never say). */
  readonly total: number | null;
  readonly elapsedMs: number;
}

/**
 * One progress line: counts, throughput in objects/s over the whole run, and the ETA when the total is known.
 * `done` prints the closing line instead of an ETA.
 */
export function formatProgress(snapshot: ProgressSnapshot, done = false): string {
  const { label, objects, published, skipped, pages, total, elapsedMs } = snapshot;
  const rate = elapsedMs > 0 ? (objects * 1000) / elapsedMs : 0;
  const read = total === null ? `${count(objects)} objects` : `${count(objects)}/${count(total)} objects`;
  const parts = [
    `${read} (${count(published)} published, ${count(skipped)} skipped)`,
    `${count(pages)} pages`,
    `${rate.toFixed(1)} objects/s`,
  ];
  if (done) parts.push(`done in ${formatDuration(elapsedMs)}`);
  else parts.push(`elapsed ${formatDuration(elapsedMs)}`, `ETA ${eta(objects, total, rate)}`);
  return `${label}: ${parts.join(', ')}`;
}

function eta(objects: number, total: number | null, rate: number): string {
  if (total === null) return 'unknown';
  const remaining = Math.max(0, total - objects);
  if (remaining === 0) return '0s';
  return rate > 0 ? formatDuration((remaining / rate) * 1000) : 'unknown';
}

/** `950ms` → `0s`, `65_000` → `1m 05s`, `7_500_000` → `2h 05m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Mutable counters plus a timer that writes a progress line every `intervalMs` and a closing line at the end. */
export class ProgressReporter {
  objects = 0;
  published = 0;
  skipped = 0;
  pages = 0;
  total: number | null = null;
  label: string;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    label: string,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {
    this.label = label;
    this.startedAt = now();
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.write(`${formatProgress(this.snapshot())}\n`);
    }, this.intervalMs);
    // Progress must never keep a finished process alive.
    this.timer.unref();
  }

  /** Stops the timer and prints the closing line (`done`) or the state the run stopped in. */
  finish(done: boolean): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.write(`${formatProgress(this.snapshot(), done)}\n`);
  }

  snapshot(): ProgressSnapshot {
    return {
      label: this.label,
      objects: this.objects,
      published: this.published,
      skipped: this.skipped,
      pages: this.pages,
      total: this.total,
      elapsedMs: this.now() - this.startedAt,
    };
  }
}
