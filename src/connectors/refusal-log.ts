import type { Logger } from '../log/logger.js';

export interface SamplingPolicy {
  /** Lines logged per key and window; the rest are counted and summed up in one line when the window ends. */
  readonly perWindow: number;
  readonly windowMs: number;
}

/** A few lines a minute per route and reason: enough to diagnose, too few for a flood to fill the logs. */
export const REFUSAL_LOG_SAMPLING: SamplingPolicy = { perWindow: 5, windowMs: 60_000 };

interface Window {
  readonly start: number;
  logged: number;
  suppressed: number;
}

export interface SuppressedCount {
  readonly key: string;
  readonly suppressed: number;
}

/** Which occurrences of a key to log: the first `perWindow` of each fixed window, from its first occurrence on. */
export class LogSampler {
  private readonly windows = new Map<string, Window>();
  private readonly due: SuppressedCount[] = [];

  constructor(private readonly policy: SamplingPolicy) {}

  /** True: log this occurrence. False: it is only counted, for the summary of its window. */
  admit(key: string, now: number): boolean {
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= this.policy.windowMs) {
      if (window !== undefined && window.suppressed > 0) this.due.push({ key, suppressed: window.suppressed });
      window = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.logged < this.policy.perWindow) {
      window.logged += 1;
      return true;
    }
    window.suppressed += 1;
    return false;
  }

  /** The suppressed counts of every window ended by `now`, each reported once; ended windows are forgotten. */
  ended(now: number): SuppressedCount[] {
    const ended = this.due.splice(0);
    for (const [key, window] of this.windows) {
      if (now - window.start < this.policy.windowMs) continue;
      if (window.suppressed > 0) ended.push({ key, suppressed: window.suppressed });
      this.windows.delete(key);
    }
    return ended;
  }
}

export interface Refusal {
  readonly route: string;
  readonly status: number;
  /** The rule that refused the request (a bounded set of codes, never input). */
  readonly code: string;
  /** What the rule says, naming the field when there is one; never a value taken from the request. */
  readonly reason: string;
}

/**
 * The warn lines of refused requests, sampled per route and code (see REFUSAL_LOG_SAMPLING): an attacker cannot turn
 * refusals into a log flood, while every refusal is still counted by persona_stream_webhook_requests_total. What is
 * not logged is summed up in one line per route and code once its window ends.
 */
export class RefusalLog {
  private readonly sampler: LogSampler;
  private readonly labels = new Map<string, Pick<Refusal, 'route' | 'code'>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly policy: SamplingPolicy = REFUSAL_LOG_SAMPLING,
  ) {
    this.sampler = new LogSampler(policy);
  }

  refused(refusal: Refusal, extra: Record<string, unknown> = {}, message = 'request refused'): void {
    const now = this.now();
    this.summarise(now);
    const key = `${refusal.route} ${refusal.code}`;
    if (this.sampler.admit(key, now)) {
      this.logger.warn({ ...extra, ...refusal }, message);
      return;
    }
    this.labels.set(key, { route: refusal.route, code: refusal.code });
    this.arm();
  }

  /** Logs what is still pending and stops the timer (the role is stopping). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.summarise(Number.POSITIVE_INFINITY);
  }

  /**
   * One timer for every pending summary, so a count is logged even when no request follows; it never holds the
   * process open.
   */
  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.summarise(this.now());
      if (this.labels.size > 0) this.arm();
    }, this.policy.windowMs).unref();
  }

  private summarise(now: number): void {
    for (const { key, suppressed } of this.sampler.ended(now)) {
      const labels = this.labels.get(key);
      this.labels.delete(key);
      this.logger.warn(
        { ...labels, suppressed, windowSeconds: this.policy.windowMs / 1000 },
        'more requests refused for the same reason; not logged one by one',
      );
    }
  }
}
