import { setTimeout as delay } from 'node:timers/promises';

/** Wall-clock time and waiting, injected so that rate limiting and backoff can run on virtual time in tests. */
export interface Clock {
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Resolves after `ms` milliseconds (at once when `ms` ≤ 0). */
  readonly sleep: (ms: number) => Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms) => {
    if (ms > 0) await delay(ms);
  },
};
