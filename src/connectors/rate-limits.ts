import { KeyedRateLimiter } from '../adapters/http/keyed-rate-limiter.js';

/**
 * The connectors' rate limits, in requests per second per process (undefined: no limit): per source on the webhooks,
 * per write key on the Tracking API. Each lets a key that was idle send two seconds' worth at once.
 */
export interface ConnectorRateLimits {
  readonly stripeWebhookPerSecond?: number | undefined;
  readonly segmentWebhookPerSecond?: number | undefined;
  readonly writeKeyPerSecond?: number | undefined;
}

const BURST_SECONDS = 2;

/** Admits one request for a key: 0 when it may go now, else the milliseconds until it may. */
export type Admission = (key: string) => number;

/** Admits everything when `perSecond` is undefined. */
export function admission(perSecond: number | undefined, now: () => number): Admission {
  if (perSecond === undefined) return () => 0;
  const limiter = new KeyedRateLimiter({ perSecond, burst: Math.max(1, Math.ceil(perSecond * BURST_SECONDS)) }, now);
  return (key) => limiter.take(key);
}
