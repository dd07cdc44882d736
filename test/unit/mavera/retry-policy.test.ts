import { describe, expect, it } from 'vitest';
import { MaveraError, type MaveraErrorDetails } from '../../../src/adapters/mavera/mavera-error.js';
import { RetryPolicy, withRetry } from '../../../src/adapters/mavera/retry-policy.js';
import { createVirtualClock } from '../../support/fake-mavera.js';

function maveraError(details: Partial<MaveraErrorDetails>): MaveraError {
  const status = details.status ?? 503;
  return new MaveraError({
    kind: 'http',
    endpoint: 'POST /personas',
    status,
    code: `http_${status}`,
    param: null,
    body: '{}',
    retryable: status === 429 || status >= 500,
    retryAfterMs: null,
    message: 'failed',
    ...details,
  });
}

const half = () => 0.5;

describe('RetryPolicy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const policy = new RetryPolicy({ baseDelayMs: 500, maxDelayMs: 30_000, random: half });
    expect([1, 2, 3, 4, 7, 8, 20].map((attempt) => policy.backoffMs(attempt))).toEqual([
      250, 500, 1000, 2000, 15_000, 15_000, 15_000,
    ]);
    const low = new RetryPolicy({ random: () => 0 });
    expect(low.backoffMs(3)).toBe(0);
  });

  it('retries 5xx, timeouts and network errors with backoff', () => {
    const policy = new RetryPolicy({ random: half });
    expect(policy.verdict(maveraError({ status: 500 }), 1)).toEqual({ retry: true, delayMs: 250 });
    expect(policy.verdict(maveraError({ status: 503 }), 2)).toEqual({ retry: true, delayMs: 500 });
    const timeout = maveraError({ kind: 'timeout', status: null, code: 'timeout', retryable: true });
    expect(policy.verdict(timeout, 3)).toEqual({ retry: true, delayMs: 1000 });
  });

  it('waits Retry-After on a 429, and backs off when none was sent', () => {
    const policy = new RetryPolicy({ random: half });
    expect(policy.verdict(maveraError({ status: 429, retryAfterMs: 7000 }), 1)).toEqual({ retry: true, delayMs: 7000 });
    expect(policy.verdict(maveraError({ status: 429 }), 1)).toEqual({ retry: true, delayMs: 250 });
  });

  it('does not block a flush on a Retry-After beyond the limit', () => {
    const policy = new RetryPolicy({ maxRetryAfterMs: 60_000 });
    expect(policy.verdict(maveraError({ status: 429, retryAfterMs: 61_000 }), 1)).toEqual({
      retry: false,
      reason: 'wait_too_long',
    });
  });

  it('never retries other 4xx or foreign errors', () => {
    const policy = new RetryPolicy();
    for (const status of [400, 401, 402, 403, 404, 409, 422]) {
      expect(policy.verdict(maveraError({ status }), 1)).toEqual({ retry: false, reason: 'not_retryable' });
    }
    expect(policy.verdict(new Error('bug'), 1)).toEqual({ retry: false, reason: 'not_retryable' });
  });

  it('gives up after maxAttempts (default 4)', () => {
    const policy = new RetryPolicy({ random: half });
    expect(policy.maxAttempts).toBe(4);
    expect(policy.verdict(maveraError({ status: 503 }), 3)).toEqual({ retry: true, delayMs: 1000 });
    expect(policy.verdict(maveraError({ status: 503 }), 4)).toEqual({ retry: false, reason: 'attempts_exhausted' });
  });
});

describe('withRetry', () => {
  it('runs until success, sleeping the policy’s delays', async () => {
    const clock = createVirtualClock();
    const policy = new RetryPolicy({ random: half });
    const failures = [maveraError({ status: 503 }), maveraError({ status: 429, retryAfterMs: 3000 })];
    const retried: number[] = [];
    const result = await withRetry(
      policy,
      clock.sleep,
      (attempt) => {
        const error = failures.shift();
        return error === undefined ? Promise.resolve(`ok on attempt ${attempt}`) : Promise.reject(error);
      },
      { onRetry: (_error, attempt) => retried.push(attempt) },
    );
    expect(result).toBe('ok on attempt 3');
    expect(clock.sleeps).toEqual([250, 3000]);
    expect(retried).toEqual([1, 2]);
  });

  it('rethrows the last error once attempts are exhausted, and a 400 at once', async () => {
    const clock = createVirtualClock();
    const policy = new RetryPolicy({ maxAttempts: 3, random: half });
    let calls = 0;
    await expect(
      withRetry(policy, clock.sleep, () => {
        calls++;
        return Promise.reject(maveraError({ status: 502 }));
      }),
    ).rejects.toMatchObject({ status: 502 });
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([250, 500]);

    calls = 0;
    await expect(
      withRetry(policy, clock.sleep, () => {
        calls++;
        return Promise.reject(maveraError({ status: 400 }));
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(calls).toBe(1);
  });
});
