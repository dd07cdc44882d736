import { z } from 'zod';
import { epochMsSchema, idSchema } from './record-fields.js';

export const CANONICAL_EVENT_SCHEMA_VERSION = 1;

export const eventSources = ['stripe', 'segment'] as const;
export type EventSource = (typeof eventSources)[number];

/** schemas/canonical-event.avsc — the envelope of every record on stripe.events and segment.events. */
export const canonicalEventSchema = z.object({
  /** Stripe event id or Segment messageId: the reducer's deduplication key. */
  event_id: idSchema,
  source: z.enum(eventSources),
  /** Stripe event type or Segment message type (`track`, `identify`, …). */
  type: idSchema,
  /** Stripe customer id; Segment userId, else anonymousId. Also the Kafka record key. */
  entity_key: idSchema,
  occurred_at: epochMsSchema,
  received_at: epochMsSchema,
  /** Raw JSON text of the vendor event/message, kept verbatim so fields we do not model still reach the reducer. */
  payload: z.string(),
  schema_version: z.int32().positive().default(CANONICAL_EVENT_SCHEMA_VERSION),
});

export type CanonicalEvent = z.output<typeof canonicalEventSchema>;
