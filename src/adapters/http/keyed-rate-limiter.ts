export interface RateLimit {
  /** Sustained requests per second each key may send. */
  readonly perSecond: number;
  /** How many requests a key may send at once after being idle. */
  readonly burst: number;
}

/**
 * Admission control per key (a write key, a source): GCRA, one "theoretical arrival time" per key, so one noisy key
 * is refused while the others are served. Answers at once, never queues: a refused caller is told when to retry
 * (429 with Retry-After). Keys are the configured credentials and sources, so the table stays small.
 */
export class KeyedRateLimiter {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly arrivals = new Map<string, number>();

  constructor(
    limit: RateLimit,
    private readonly now: () => number,
  ) {
    if (!(limit.perSecond > 0) || !Number.isFinite(limit.perSecond)) {
      throw new RangeError(`rate must be a positive number of requests per second, got ${String(limit.perSecond)}`);
    }
    if (!Number.isInteger(limit.burst) || limit.burst < 1) {
      throw new RangeError(`burst must be a whole number ≥ 1, got ${String(limit.burst)}`);
    }
    this.intervalMs = 1000 / limit.perSecond;
    this.toleranceMs = (limit.burst - 1) * this.intervalMs;
  }

  /** Takes one request for `key`: 0 when it may go now, else the milliseconds until it may (nothing is taken then). */
  take(key: string): number {
    const now = this.now();
    const arrival = Math.max(this.arrivals.get(key) ?? Number.NEGATIVE_INFINITY, now);
    const waitMs = arrival - this.toleranceMs - now;
    if (waitMs > 0) return Math.ceil(waitMs);
    this.arrivals.set(key, arrival + this.intervalMs);
    return 0;
  }
}

/** A Retry-After header value: whole seconds, at least 1. */
export function retryAfterSeconds(waitMs: number): string {
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}
