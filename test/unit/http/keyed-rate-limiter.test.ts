import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter, retryAfterSeconds } from '../../../src/adapters/http/keyed-rate-limiter.js';

describe('KeyedRateLimiter', () => {
  it('lets a key burst, then refuses it with the time to wait, until that time has passed', () => {
    let clock = 0;
    const limiter = new KeyedRateLimiter({ perSecond: 10, burst: 3 }, () => clock);
    expect([limiter.take('wk_a'), limiter.take('wk_a'), limiter.take('wk_a')]).toEqual([0, 0, 0]);
    expect(limiter.take('wk_a')).toBe(100);
    clock += 100;
    expect(limiter.take('wk_a')).toBe(0);
    expect(limiter.take('wk_a')).toBe(100);
  });

  it('keeps a noisy key from starving another', () => {
    let clock = 0;
    const limiter = new KeyedRateLimiter({ perSecond: 50, burst: 10 }, () => clock);
    let noisyServed = 0;
    let quietServed = 0;
    for (let ms = 0; ms < 10_000; ms += 1) {
      clock = ms;
      for (let i = 0; i < 20; i += 1) if (limiter.take('noisy') === 0) noisyServed += 1;
      if (ms % 100 === 0 && limiter.take('quiet') === 0) quietServed += 1;
    }
    expect(quietServed).toBe(100);
    // 50 a second for 10 s, plus the first burst.
    expect(noisyServed).toBeLessThanOrEqual(50 * 10 + 10);
  });

  it('says Retry-After in whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe('1');
    expect(retryAfterSeconds(1_001)).toBe('2');
  });

  it('refuses a rate or burst it cannot keep', () => {
    expect(() => new KeyedRateLimiter({ perSecond: 0, burst: 1 }, Date.now)).toThrow(RangeError);
    expect(() => new KeyedRateLimiter({ perSecond: 1, burst: 0.5 }, Date.now)).toThrow(RangeError);
  });
});
