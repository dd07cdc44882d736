import { describe, expect, it } from 'vitest';
import { backoffMs, MAX_RETRY_AFTER_MS, retryAfterMs } from '../../../src/backfill/retry-after.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('reads delta-seconds, including 0 and fractions', () => {
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 2.5 ', now)).toBe(2500);
    expect(retryAfterMs(['3', '9'], now)).toBe(3000);
  });

  it('reads an HTTP date as the time left until it (never negative)', () => {
    expect(retryAfterMs('Sun, 01 Mar 2026 12:00:04 GMT', now)).toBe(4000);
    expect(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('caps what it honours and says null for absent or unreadable values', () => {
    expect(retryAfterMs('3600', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(undefined, now)).toBeNull();
    expect(retryAfterMs('', now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-1', now)).toBeNull();
  });
});

describe('backoffMs', () => {
  it('doubles from 500 ms up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});
