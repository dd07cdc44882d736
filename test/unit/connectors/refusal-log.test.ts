import { describe, expect, it } from 'vitest';
import { LogSampler, RefusalLog } from '../../../src/connectors/refusal-log.js';
import { memoryLogger } from '../../support/memory-logger.js';

describe('LogSampler', () => {
  it('admits the first N of each key per window, then counts the rest for a summary', () => {
    const sampler = new LogSampler({ perWindow: 2, windowMs: 1_000 });
    expect([0, 1, 2, 3].map((t) => sampler.admit('a', t))).toEqual([true, true, false, false]);
    expect(sampler.admit('b', 4)).toBe(true);
    expect(sampler.ended(999)).toEqual([]);
    expect(sampler.ended(1_000)).toEqual([{ key: 'a', suppressed: 2 }]);
    expect(sampler.ended(2_000)).toEqual([]);
  });

  it('reports a window that rolled over on a new occurrence', () => {
    const sampler = new LogSampler({ perWindow: 1, windowMs: 1_000 });
    sampler.admit('a', 0);
    sampler.admit('a', 1);
    expect(sampler.admit('a', 1_500)).toBe(true);
    expect(sampler.ended(1_600)).toEqual([{ key: 'a', suppressed: 1 }]);
  });
});

describe('RefusalLog', () => {
  it('logs a flood of refusals as a few lines and one summary per route and code (finding 4)', () => {
    const { logger, lines } = memoryLogger();
    let clock = 0;
    const log = new RefusalLog(logger, () => clock, { perWindow: 5, windowMs: 60_000 });
    const refusal = {
      route: '/webhooks/segment',
      status: 401,
      code: 'invalid_signature',
      reason: 'X-Signature does not match the body',
    };
    for (let i = 0; i < 1_000; i += 1) log.refused(refusal);
    log.refused({ ...refusal, route: '/v1/track', code: 'invalid_write_key' });
    expect(lines).toHaveLength(6);
    clock = 60_000;
    log.refused(refusal);
    expect(lines.slice(6)).toEqual([
      expect.objectContaining({
        level: 'warn',
        route: '/webhooks/segment',
        code: 'invalid_signature',
        suppressed: 995,
        msg: 'more requests refused for the same reason; not logged one by one',
      }),
      expect.objectContaining({ level: 'warn', route: '/webhooks/segment', msg: 'request refused' }),
    ]);
    log.close();
  });
});
