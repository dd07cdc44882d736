import { systemClock, type Clock } from './clock.js';
import type { RateLimitSignal } from './rate-limit-headers.js';

export const DEFAULT_BURST = 3;
/** A reset or Retry-After further away than this is treated as clock skew or a bogus header, and capped. */
export const DEFAULT_MAX_PAUSE_MS = 120_000;
const MINUTE_MS = 60_000;

export interface RateLimiterOptions {
  /** MAVERA_RATE_LIMIT_PER_MIN: Mavera's per-key limit over a sliding 60-second window. */
  readonly perMinute: number;
  /** Requests that may leave back to back after a quiet period (default 3, at most `perMinute`). */
  readonly burst?: number;
  readonly clock?: Clock;
  readonly maxPauseMs?: number;
}

/**
 * A token bucket in front of every Mavera request, plus what Mavera says about its own window.
 *
 * The bucket holds `burst` tokens and refills at (perMinute − burst + 1) per minute, so that no 60-second window can
 * see more than `perMinute` requests even right after a full burst (a plain perMinute refill would allow
 * perMinute + burst − 1). On top of that it obeys the server: `Retry-After` pauses every caller for that long,
 * `X-RateLimit-Remaining: 0` pauses until `X-RateLimit-Reset`, and a remaining count below the bucket's tokens
 * lowers the tokens (the key may be shared with other clients).
 *
 * Callers are served first come, first served.
 */
export class RateLimiter {
  readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly clock: Clock;
  private readonly maxPauseMs: number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntilMs = Number.NEGATIVE_INFINITY;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: RateLimiterOptions) {
    const perMinute = Math.max(1, Math.floor(options.perMinute));
    this.capacity = Math.min(perMinute, Math.max(1, Math.floor(options.burst ?? DEFAULT_BURST)));
    this.refillPerMs = (perMinute - this.capacity + 1) / MINUTE_MS;
    this.clock = options.clock ?? systemClock;
    this.maxPauseMs = options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    this.tokens = this.capacity;
    this.refilledAt = this.clock.now();
  }

  /** Epoch ms until which the server asked us to wait; -Infinity when it did not. */
  get pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /** Waits for a token (and for any pause the server asked for); resolves with the milliseconds waited. */
  acquire(): Promise<number> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Feeds what a response said about the limit; call it for every response, errors included. */
  observe(signal: RateLimitSignal): void {
    const now = this.clock.now();
    this.refill(now);
    if (signal.retryAfterMs !== null) this.pauseUntil(now + signal.retryAfterMs, now);
    if (signal.remaining !== null) {
      this.tokens = Math.min(this.tokens, signal.remaining);
      if (signal.remaining === 0 && signal.resetAtMs !== null) this.pauseUntil(signal.resetAtMs, now);
    }
  }

  private pauseUntil(until: number, now: number): void {
    this.pausedUntilMs = Math.max(this.pausedUntilMs, Math.min(until, now + this.maxPauseMs));
  }

  private refill(now: number): void {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.refillPerMs);
      this.refilledAt = now;
    }
  }

  private async take(): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = this.clock.now();
      this.refill(now);
      const pause = this.pausedUntilMs - now;
      let wait: number;
      if (pause > 0) {
        wait = pause;
      } else if (this.tokens >= 1) {
        this.tokens -= 1;
        return waited;
      } else {
        wait = Math.ceil((1 - this.tokens) / this.refillPerMs);
      }
      await this.clock.sleep(wait);
      waited += wait;
    }
  }
}
