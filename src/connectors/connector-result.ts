/**
 * What became of one request to a connector route: the `result` label of persona_stream_webhook_requests_total
 * (besides `internal_error`, a route that threw, and `not_found`, a path no route serves, which the role counts).
 */
export const connectorResults = [
  /** Published and acknowledged by the broker (answered 200). */
  'accepted',
  /** Acknowledged without publishing: nothing in it is used (Stripe event types, Segment deletion requests). */
  'ignored',
  /** A replay of a delivery already published (200, nothing published), or a copy arriving while it is written. */
  'duplicate',
  /** Valid and signed, but no customer can key it: written to the dead-letter topic. */
  'dead_lettered',
  /** Missing or wrong signature or token. */
  'rejected_signature',
  'rejected_write_key',
  /** A batched (JSON array) Segment webhook delivery while batches are not enabled. */
  'batch_disabled',
  'invalid',
  'too_large',
  /** Over its key's or source's rate limit (429 with Retry-After). */
  'rate_limited',
  'broker_unavailable',
  'lookup_failed',
  /** The client went away before the request was answered. */
  'aborted',
] as const;

export type ConnectorResult = (typeof connectorResults)[number];
