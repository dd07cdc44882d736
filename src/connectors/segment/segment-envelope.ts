import { CANONICAL_EVENT_SCHEMA_VERSION, type CanonicalEvent } from '../../records/canonical-event.js';
import type { ParsedSegmentMessage } from '../../sources/segment/index.js';

/**
 * A validated message as the envelope published on `segment.events`: the same mapping as
 * segmentCanonicalEvents (src/sources/canonical-events.ts), applied to a body the connector has already parsed
 * and checked, so the request's JSON is parsed once.
 */
export function segmentEnvelope(message: ParsedSegmentMessage): CanonicalEvent {
  return {
    event_id: message.messageId,
    source: 'segment',
    type: message.type,
    entity_key: message.entityKey,
    occurred_at: message.timestamp,
    received_at: message.receivedAt,
    payload: JSON.stringify(message.raw),
    schema_version: CANONICAL_EVENT_SCHEMA_VERSION,
  };
}
