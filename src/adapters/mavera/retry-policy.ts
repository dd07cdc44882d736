import { MaveraError } from './mavera-error.js';

export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 30_000;
/** A Retry-After longer than this ends the attempts of this flush instead of blocking it (the next flush retries). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;

export interface RetryPolicyOptions {
  /** Attempts of one request within one flush, the first included (default 4). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxRetryAfterMs?: number;
  /** Uniform in [0, 1); injectable so that tests see exact delays. */
  readonly random?: () => number;
}

export type RetryVerdict =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: 'not_retryable' | 'attempts_exhausted' | 'wait_too_long' };

/**
 * When to send a failed Mavera request again (reference §4 and the rate-limit cookbook):
 * - 5xx, timeouts and network errors: exponential backoff with full jitter, random(0, min(max, base · 2^(n−1)));
 * - 429: after `Retry-After` when sent (else the same backoff);
 * - any other 4xx, an unreadable 2xx, or an error that is not a MaveraError: never.
 * Attempts are bounded; what is still failing after the last one is the caller's to carry over.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.random = options.random ?? Math.random;
  }

  /** Full-jitter backoff before attempt `failedAttempt + 1`. */
  backoffMs(failedAttempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  /** What to do after attempt number `failedAttempt` (1-based, counted within this flush) failed with `error`. */
  verdict(error: unknown, failedAttempt: number): RetryVerdict {
    if (!(error instanceof MaveraError) || !error.retryable) return { retry: false, reason: 'not_retryable' };
    if (failedAttempt >= this.maxAttempts) return { retry: false, reason: 'attempts_exhausted' };
    if (error.status === 429 && error.retryAfterMs !== null) {
      if (error.retryAfterMs > this.maxRetryAfterMs) return { retry: false, reason: 'wait_too_long' };
      return { retry: true, delayMs: error.retryAfterMs };
    }
    return { retry: true, delayMs: this.backoffMs(failedAttempt) };
  }
}

export interface RetryHooks {
  /** Called before each wait; `failedAttempt` is the attempt that just failed. */
  readonly onRetry?: (error: MaveraError, failedAttempt: number, delayMs: number) => void;
}

/** Runs `operation` until it succeeds or the policy gives up; rethrows the last error. */
export async function withRetry<T>(
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
  operation: (attempt: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const verdict = policy.verdict(error, attempt);
      if (!verdict.retry || !(error instanceof MaveraError)) throw error;
      hooks.onRetry?.(error, attempt, verdict.delayMs);
      await sleep(verdict.delayMs);
    }
  }
}
