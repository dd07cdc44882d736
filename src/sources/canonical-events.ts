import { segmentInput, stripeInput, type DomainInput } from '../domain/pipeline/domain-input.js';
import type { EpochMs } from '../domain/time.js';
import { CANONICAL_EVENT_SCHEMA_VERSION, type CanonicalEvent } from '../records/canonical-event.js';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from './event-time-bounds.js';
import { parseSegmentPayload } from './segment/index.js';
import { stripeEventTimeRefusal } from './stripe/event-time.js';
import { parseStripeEvent } from './stripe/index.js';

/** Why a raw input or a canonical event could not become domain input. */
export class CanonicalEventError extends Error {
  constructor(
    readonly code: 'invalid_payload' | 'not_json' | 'source_mismatch' | 'event_time',
    message: string,
  ) {
    super(message);
    this.name = 'CanonicalEventError';
  }
}

export type CanonicalResult =
  | { readonly ok: true; readonly events: readonly CanonicalEvent[]; readonly ignored: boolean }
  | { readonly ok: false; readonly errors: readonly CanonicalEventError[]; readonly events: readonly CanonicalEvent[] };

/**
 * A Stripe event as the envelope published on `stripe.events`: keyed by customer, timed by `event.created`, its
 * payload the event's own JSON text. Events we do not use are `ignored` (nothing to publish); an invalid one is an
 * error (a 4xx to the sender, never published), and so is one created more than `maxEventTimeSkewMs` after
 * `receivedAt`: Stripe retries a refused delivery for days, so an event refused while our clock lags is taken later.
 */
export function stripeCanonicalEvent(
  rawText: string,
  receivedAt: EpochMs,
  maxEventTimeSkewMs = DEFAULT_MAX_EVENT_TIME_SKEW_MS,
): CanonicalResult {
  const raw = parseJson(rawText);
  if (raw instanceof CanonicalEventError) return { ok: false, errors: [raw], events: [] };
  const result = parseStripeEvent(raw);
  if (!result.ok)
    return { ok: false, errors: [new CanonicalEventError('invalid_payload', result.error.message)], events: [] };
  if (result.ignored) return { ok: true, events: [], ignored: true };
  const customerId = result.facts[0]?.customerId;
  if (customerId === undefined) return { ok: true, events: [], ignored: true };
  const refusal = stripeEventTimeRefusal(result.event, receivedAt, maxEventTimeSkewMs);
  if (refusal !== null) return { ok: false, errors: [new CanonicalEventError('event_time', refusal)], events: [] };
  return {
    ok: true,
    ignored: false,
    events: [
      {
        event_id: result.event.id,
        source: 'stripe',
        type: result.event.type,
        entity_key: customerId,
        occurred_at: result.event.created,
        received_at: receivedAt,
        payload: rawText,
        schema_version: CANONICAL_EVENT_SCHEMA_VERSION,
      },
    ],
  };
}

/**
 * A Segment call, batch or webhook delivery as envelopes on `segment.events`, one per message: keyed by userId
 * (else anonymousId), timed by the corrected timestamp, the payload the normalised message (so replays see the same
 * messageId and timestamp). Valid messages of a batch are kept even when others are rejected.
 */
export function segmentCanonicalEvents(
  rawText: string,
  receivedAt: EpochMs,
  maxEventTimeSkewMs = DEFAULT_MAX_EVENT_TIME_SKEW_MS,
): CanonicalResult {
  const raw = parseJson(rawText);
  if (raw instanceof CanonicalEventError) return { ok: false, errors: [raw], events: [] };
  const result = parseSegmentPayload(raw, { receivedAt, maxEventTimeSkewMs });
  const events: CanonicalEvent[] = result.messages.map((message) => ({
    event_id: message.messageId,
    source: 'segment',
    type: message.type,
    entity_key: message.entityKey,
    occurred_at: message.timestamp,
    received_at: message.receivedAt,
    payload: JSON.stringify(message.raw),
    schema_version: CANONICAL_EVENT_SCHEMA_VERSION,
  }));
  if (result.errors.length > 0) {
    return {
      ok: false,
      errors: result.errors.map((error) => new CanonicalEventError('invalid_payload', error.message)),
      events,
    };
  }
  return { ok: true, events, ignored: false };
}

/**
 * The processor's side: a canonical event back into domain input. Parsing is the same as at the edge, so a record
 * that passed the connector decodes the same way on every replay; one that does not is an error for the dead-letter
 * topic. Only the edge's bound on event time relative to arrival is left out: a record's `received_at` may be
 * whatever an older connector let through, so the processor bounds event time by its own clock instead.
 */
export function decodeCanonicalEvent(event: CanonicalEvent): DomainInput[] | CanonicalEventError {
  const raw = parseJson(event.payload);
  if (raw instanceof CanonicalEventError) return raw;
  if (event.source === 'stripe') {
    const result = parseStripeEvent(raw);
    if (!result.ok) return new CanonicalEventError('invalid_payload', result.error.message);
    return result.ignored ? [] : [stripeInput(result.facts)];
  }
  const result = parseSegmentPayload(raw, {
    receivedAt: event.received_at,
    maxEventTimeSkewMs: Number.POSITIVE_INFINITY,
  });
  const [error] = result.errors;
  if (error !== undefined) return new CanonicalEventError('invalid_payload', error.message);
  if (result.messages.length !== 1) {
    return new CanonicalEventError(
      'source_mismatch',
      `a segment event holds one message, found ${result.messages.length}`,
    );
  }
  return result.messages.map(segmentInput);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return new CanonicalEventError('not_json', `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
