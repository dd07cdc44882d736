import type { TrafficOptions } from './traffic-generator.js';

/** First instant of the simulated months: fixed, so a seed always gives the same traffic and the same personas. */
export const DEMO_START = Date.UTC(2026, 0, 1);

/**
 * Sizes that keep `npm start` under a minute on two cores. On the embedded broker each Stripe webhook is a record
 * batch of its own, which the mock hands out one per partition per fetch, so Stripe volume sets the pace: 400
 * customers (~3,200 webhooks) and 3,000 users (~41,000 Segment messages) over 4 months.
 */
export const DEFAULT_DEMO_SIZES = { seed: 42, customers: 400, users: 3_000, months: 4 } as const;

export type DemoSizes = Omit<TrafficOptions, 'start'>;

/** The traffic options of a demo run. */
export function demoTraffic(sizes: DemoSizes): TrafficOptions {
  return { ...sizes, start: DEMO_START };
}

/** "1 month", "4 months". */
export function months(count: number): string {
  return `${String(count)} month${count === 1 ? '' : 's'}`;
}
