import type { EpochMs } from '../../domain/time.js';
import { parseSegmentPayload, type SegmentMessageError } from '../../sources/segment/index.js';
import { isPlainObject } from '../../sources/segment/json-value.js';
import { rejection, type SegmentDecision, type SegmentItemError } from './segment-decision.js';
import { segmentEnvelope } from './segment-envelope.js';
import { messageRefusal } from './message-rules.js';

/** Refused messages listed in one response at most; the count in the message still covers them all. */
export const MAX_LISTED_ERRORS = 100;

/** The message without the given fields; the same object when it has none of them (no copy on the hot path). */
export function withoutFields(item: unknown, fields: readonly string[]): unknown {
  if (!isPlainObject(item) || !fields.some((field) => field in item)) return item;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) if (!fields.includes(key)) copy[key] = value;
  return copy;
}

/**
 * The first message over `maxBytes` as compact JSON (how Segment's own libraries measure it), named by its position
 * (not by its messageId, which is the sender's text); `single` when the request is one message rather than a batch.
 */
export function oversizeEvent(
  items: readonly unknown[],
  single: boolean,
  maxBytes: number,
): SegmentDecision | undefined {
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (bytes <= maxBytes) continue;
    const which = single ? 'the event' : `batch[${String(index)}]`;
    const message = `${which} is ${String(bytes)} bytes; an event may be at most ${String(maxBytes)} bytes`;
    return rejection(400, 'too_large', 'event_too_large', message, [
      { index: single ? null : index, code: 'event_too_large', field: '', message },
    ]);
  }
  return undefined;
}

export interface MessagesOptions {
  readonly receivedAt: EpochMs;
  /** How far past `receivedAt` an event time may lie; the parser's default when absent. */
  readonly maxEventTimeSkewMs?: number | undefined;
  /** Items that are acknowledged without being published (Webhooks deletion requests): not reported as refused. */
  readonly ignoredItem?: (index: number) => boolean;
}

/**
 * Parses a checked payload (one message, `{"batch":[…]}` or an array) and decides: every valid message is
 * published, even when others in the same batch are refused (those are listed in the 200 body); a request with
 * nothing valid is refused as a whole with 400; a request with nothing to publish and nothing wrong is ignored.
 */
export function decideMessages(payload: unknown, options: MessagesOptions): SegmentDecision {
  const result = parseSegmentPayload(payload, {
    receivedAt: options.receivedAt,
    maxEventTimeSkewMs: options.maxEventTimeSkewMs,
  });
  const ignoredItem = options.ignoredItem;
  const refused =
    ignoredItem === undefined
      ? result.errors
      : result.errors.filter((error) => error.index === null || !ignoredItem(error.index));
  const errors = refused.slice(0, MAX_LISTED_ERRORS).map(itemError);
  const [first] = refused;
  if (result.messages.length === 0) {
    if (first === undefined) {
      const ignored = result.errors.length;
      const reason = ignored > 0 ? `${ignored} deletion request(s) acknowledged, not used` : 'no messages';
      return { action: 'ignore', reason, body: { success: true, ignored: true } };
    }
    const reason = messageRefusal(first);
    const message = refused.length === 1 ? reason : `all ${String(refused.length)} messages refused; first: ${reason}`;
    return rejection(400, 'invalid', first.code, message, errors);
  }
  const events = result.messages.map(segmentEnvelope);
  return { action: 'publish', events, body: errors.length === 0 ? { success: true } : { success: true, errors } };
}

function itemError(error: SegmentMessageError): SegmentItemError {
  return {
    index: error.index,
    code: error.code,
    field: error.path.map(String).join('.'),
    message: messageRefusal(error),
  };
}
