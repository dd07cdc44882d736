import { describe, expect, it } from 'vitest';
import { generateTraffic } from '../../../src/demo/traffic-generator.js';

describe('traffic generator', () => {
  it('keeps a trialing subscription’s trial end on every later snapshot, as Stripe does', () => {
    const traffic = generateTraffic({ seed: 7, customers: 300, users: 0, months: 6, start: Date.UTC(2026, 0, 1) });
    const trialEnds = new Map<string, Set<unknown>>();
    for (const event of traffic) {
      const data = (event.raw as { data?: { object?: { object?: string; id?: string; trial_end?: unknown } } }).data;
      const object = data?.object;
      if (object?.object !== 'subscription' || object.id === undefined) continue;
      const seen = trialEnds.get(object.id) ?? new Set();
      seen.add(object.trial_end);
      trialEnds.set(object.id, seen);
    }
    const trials = [...trialEnds.values()].filter((ends) => !ends.has(null));
    expect(trials.length).toBeGreaterThan(30);
    for (const ends of trialEnds.values()) expect(ends.size).toBe(1);
  });
});
