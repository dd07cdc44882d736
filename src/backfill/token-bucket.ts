import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A request-rate limiter shared by every request of a run (list pages, per-customer lists, retries after a 429).
 * Implemented as GCRA (a token bucket kept as one "theoretical arrival time"): with `burst` 1, consecutive grants
 * are at least 1/rate apart, so any one-second window holds at most rate + 1 requests — the guarantee a provider's
 * per-second limit needs, where a classic full bucket would allow 2 × rate across a window boundary.
 * Grants are handed out in call order, so concurrent callers queue fairly.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private theoreticalArrival = Number.NEGATIVE_INFINITY;

  constructor(
    readonly ratePerSecond: number,
    readonly burst = 1,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rate must be a positive number of requests per second, got ${ratePerSecond}`);
    }
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be a whole number ≥ 1, got ${burst}`);
    this.intervalMs = 1000 / ratePerSecond;
    this.toleranceMs = (burst - 1) * this.intervalMs;
  }

  /** Books the next grant and returns how many milliseconds to wait for it (0: now). */
  reserve(): number {
    const now = this.now();
    const arrival = Math.max(this.theoreticalArrival, now);
    this.theoreticalArrival = arrival + this.intervalMs;
    return Math.max(0, arrival - this.toleranceMs - now);
  }

  /** Resolves when the caller may send one request; rejects with the signal's reason when it is aborted. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const waitMs = this.reserve();
    if (waitMs > 0) await sleep(waitMs, undefined, signal === undefined ? undefined : { signal });
  }
}
