import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from '../../sources/event-time-bounds.js';

/**
 * Size rules of the Segment endpoints. The Tracking API ones are Segment's own (reference/segment.md §1.5–1.6); the
 * Webhooks ones follow what a Webhooks (Actions) destination sends (§2.2).
 */
export interface SegmentLimits {
  /** One Tracking API message (a single call or a batch item), as compact JSON: Segment's 32 KB. */
  readonly maxEventBytes: number;
  /**
   * The body of a single call (/v1/track…): one message, so its event limit with room for the whitespace a sender
   * may add; a larger body is refused before it is read whole.
   */
  readonly maxSingleCallBytes: number;
  /** One Tracking API batch body: Segment's 500 KB (answered 400, as Segment does). */
  readonly maxRequestBytes: number;
  /** Items in one Tracking API batch: Segment's 2,500 (Segment answers 200 and drops them; we answer 400). */
  readonly maxBatchEvents: number;
  /**
   * One message of a Webhooks delivery: Segment already held it to 32 KB at ingest, then added its own fields
   * (receivedAt, context…), so twice that is room enough while still keeping one Kafka record small. Also the most
   * that is read of a delivery before its signature is verified, unless it carries the batch token.
   */
  readonly maxWebhookEventBytes: number;
  /** One Webhooks delivery that carries the batch token (answered 413 above it). */
  readonly maxWebhookBodyBytes: number;
  /** Items in one Webhooks delivery: the largest batch size a Webhooks (Actions) mapping may be set to. */
  readonly maxWebhookBatchEvents: number;
  /** MAX_EVENT_TIME_SKEW_MS: how far past its arrival a message's event time may lie (later: refused). */
  readonly maxEventTimeSkewMs: number;
}

const KB = 1024;

export const SEGMENT_LIMITS: SegmentLimits = {
  maxEventBytes: 32 * KB,
  maxSingleCallBytes: 64 * KB,
  maxRequestBytes: 500 * KB,
  maxBatchEvents: 2_500,
  maxWebhookEventBytes: 64 * KB,
  maxWebhookBodyBytes: 8 * KB * KB,
  maxWebhookBatchEvents: 4_000,
  maxEventTimeSkewMs: DEFAULT_MAX_EVENT_TIME_SKEW_MS,
};
