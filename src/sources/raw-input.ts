import { segmentInput, stripeInput, type DomainInput } from '../domain/pipeline/domain-input.js';
import type { EpochMs } from '../domain/time.js';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from './event-time-bounds.js';
import { parseSegmentPayload } from './segment/index.js';
import { stripeEventTimeRefusal } from './stripe/event-time.js';
import { parseStripeEvent } from './stripe/index.js';

export interface DecodedRawInput {
  readonly inputs: DomainInput[];
  /** Why (parts of) the value were rejected; the accepted parts are in `inputs`. */
  readonly errors: string[];
  /** Stripe event types we do not use, skipped on purpose. */
  readonly ignored: number;
}

/** A Stripe event is recognised by `object: "event"`; anything else is read as a Segment payload. */
function isStripeEvent(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { object?: unknown }).object === 'event';
}

/**
 * Decodes one raw vendor value — a Stripe event, or a Segment message, batch or array of messages — into domain
 * inputs, with the connectors' rules (event time at most a day after `receivedAt`). Never throws: everything
 * rejected is described in `errors`.
 */
export function decodeRawInput(raw: unknown, receivedAt: EpochMs): DecodedRawInput {
  if (isStripeEvent(raw)) {
    const result = parseStripeEvent(raw);
    if (!result.ok) return { inputs: [], errors: [result.error.message], ignored: 0 };
    if (result.ignored) return { inputs: [], errors: [], ignored: 1 };
    const refusal = stripeEventTimeRefusal(result.event, receivedAt, DEFAULT_MAX_EVENT_TIME_SKEW_MS);
    if (refusal !== null) return { inputs: [], errors: [refusal], ignored: 0 };
    return { inputs: [stripeInput(result.facts)], errors: [], ignored: 0 };
  }
  const result = parseSegmentPayload(raw, { receivedAt });
  return {
    inputs: result.messages.map(segmentInput),
    errors: result.errors.map((error) => error.message),
    ignored: 0,
  };
}
