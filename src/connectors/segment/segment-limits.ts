/** Size rules of the Segment endpoints; the Tracking API ones are Segment's own (reference/segment.md §1.5–1.6). */
export interface SegmentLimits {
  /** One Tracking API message (a single call or a batch item), as compact JSON: Segment's 32 KB. */
  readonly maxEventBytes: number;
  /** One Tracking API request body: Segment's 500 KB (answered 400, as Segment does). */
  readonly maxRequestBytes: number;
  /** Items in one Tracking API batch: Segment's 2,500 (Segment answers 200 and drops them; we answer 400). */
  readonly maxBatchEvents: number;
  /**
   * One message of a Webhooks delivery: Segment already held it to 32 KB at ingest, then added its own fields
   * (receivedAt, context…), so twice that is room enough while still keeping one Kafka record small.
   */
  readonly maxWebhookEventBytes: number;
  /**
   * One Webhooks delivery body (answered 413): an Actions batch holds up to 1,000 events by default (4,000 at
   * most), a few MB at typical sizes.
   */
  readonly maxWebhookBodyBytes: number;
}

const KB = 1024;

export const SEGMENT_LIMITS: SegmentLimits = {
  maxEventBytes: 32 * KB,
  maxRequestBytes: 500 * KB,
  maxBatchEvents: 2_500,
  maxWebhookEventBytes: 64 * KB,
  maxWebhookBodyBytes: 8 * KB * KB,
};
