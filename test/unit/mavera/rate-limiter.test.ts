import { describe, expect, it } from 'vitest';
import { readRateLimitHeaders } from '../../../src/adapters/mavera/rate-limit-headers.js';
import { RateLimiter } from '../../../src/adapters/mavera/rate-limiter.js';
import { createVirtualClock } from '../../support/fake-mavera.js';

const NOW = Date.UTC(2026, 5, 1, 12);
const none = { retryAfterMs: null, limit: null, remaining: null, resetAtMs: null };

async function acquireTimes(limiter: RateLimiter, clock: { now(): number }, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await limiter.acquire();
    times.push(clock.now() - NOW);
  }
  return times;
}

describe('RateLimiter', () => {
  it('lets a burst through, then spaces requests at the per-minute rate', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, burst: 1, clock });
    expect(await acquireTimes(limiter, clock, 4)).toEqual([0, 1000, 2000, 3000]);
  });

  it('refills at (limit − burst + 1) per minute, so a burst never pushes a window past the limit', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, burst: 3, clock });
    expect(limiter.capacity).toBe(3);
    expect(await acquireTimes(limiter, clock, 5)).toEqual([0, 0, 0, 1035, 2069]);
  });

  it('never starts more than perMinute requests in any 60-second window', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, burst: 10, clock });
    const times = await acquireTimes(limiter, clock, 300);
    const busiest = Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + 60_000).length));
    expect(busiest).toBe(60);
  });

  it('serves concurrent callers one after another', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, burst: 1, clock });
    const waited = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    expect(waited).toEqual([0, 1000, 1000]);
    expect(clock.now() - NOW).toBe(2000);
  });

  it('pauses every caller for Retry-After', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 600, burst: 5, clock });
    limiter.observe({ ...none, retryAfterMs: 7000 });
    expect(limiter.pausedUntil).toBe(NOW + 7000);
    expect(await limiter.acquire()).toBe(7000);
    expect(await limiter.acquire()).toBe(0);
  });

  it('pauses until X-RateLimit-Reset when X-RateLimit-Remaining is 0', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 600, burst: 5, clock });
    limiter.observe({ ...none, remaining: 0, resetAtMs: NOW + 12_000 });
    expect(await limiter.acquire()).toBe(12_000);
  });

  it('spends no more than the server says remain', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, burst: 5, clock });
    limiter.observe({ ...none, remaining: 1 });
    expect(await acquireTimes(limiter, clock, 2)).toEqual([0, 1072]);
  });

  it('caps a pause that is implausibly long', async () => {
    const clock = createVirtualClock(NOW);
    const limiter = new RateLimiter({ perMinute: 60, clock, maxPauseMs: 90_000 });
    limiter.observe({ ...none, retryAfterMs: 3_600_000 });
    expect(await limiter.acquire()).toBe(90_000);
  });
});

describe('readRateLimitHeaders', () => {
  it('reads the X-RateLimit headers and Retry-After in seconds', () => {
    const headers = new Headers({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String((NOW + 30_000) / 1000),
      'Retry-After': '30',
    });
    expect(readRateLimitHeaders(headers, NOW)).toEqual({
      retryAfterMs: 30_000,
      limit: 60,
      remaining: 0,
      resetAtMs: NOW + 30_000,
    });
  });

  it('reads Retry-After as an HTTP date, and a small reset as seconds from now', () => {
    const headers = {
      'retry-after': new Date(NOW + 5_000).toUTCString(),
      'x-ratelimit-reset': '12',
    };
    expect(readRateLimitHeaders(headers, NOW)).toEqual({
      retryAfterMs: 5_000,
      limit: null,
      remaining: null,
      resetAtMs: NOW + 12_000,
    });
  });

  it('ignores values that are not numbers or dates', () => {
    const headers = new Headers({ 'retry-after': 'soon', 'x-ratelimit-remaining': '-3' });
    expect(readRateLimitHeaders(headers, NOW)).toEqual(none);
  });
});
