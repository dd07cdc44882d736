import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/backfill/token-bucket.js';

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('spaces grants 1/rate apart, queuing callers in order', () => {
    const time = clock();
    const bucket = new TokenBucket(10, 1, time.now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 100, 200, 300]);
  });

  it('never lets more than rate + 1 grants into any one-second window, however callers arrive', () => {
    const time = clock();
    const bucket = new TokenBucket(25, 1, time.now);
    const grants: number[] = [];
    // Bursty callers: 10 at once, a pause, 40 at once.
    for (let i = 0; i < 10; i++) grants.push(time.now() + bucket.reserve());
    time.advance(700);
    for (let i = 0; i < 40; i++) grants.push(time.now() + bucket.reserve());
    const widest = Math.max(...grants.map((start) => grants.filter((at) => at >= start && at < start + 1000).length));
    expect(widest).toBe(25);
    // The first ten took 0–360 ms; the forty queued from 700 ms on, 40 ms apart.
    expect(grants.at(-1)! - grants[0]!).toBe(700 + 39 * 40);
  });

  it('does not save up unused time: after idling, the next grant is immediate and the one after waits again', () => {
    const time = clock();
    const bucket = new TokenBucket(2, 1, time.now);
    expect(bucket.reserve()).toBe(0);
    time.advance(10_000);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 500]);
  });

  it('allows a burst of `burst` grants, then paces', () => {
    const time = clock();
    const bucket = new TokenBucket(4, 3, time.now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([
      0, 0, 0, 250, 500,
    ]);
  });

  it('take() waits for its grant and rejects when aborted', async () => {
    const bucket = new TokenBucket(20);
    const started = Date.now();
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
  });
});
