import type { SegmentMessageError } from '../../sources/segment/index.js';
import { SEGMENT_MESSAGE_ID_MAX_LENGTH } from '../../sources/segment/segment-schemas.js';

/**
 * The rule behind each code the Segment parser refuses a message with, as a fixed text. The parser's own detail may
 * quote the offending value (an unparsable timestamp, say), and refusals are logged and answered: they name the
 * field and the rule, never the value. Keyed by plain strings, so a code the parser adds needs no change here to
 * build (it gets the generic rule until it is listed).
 */
const RULES: Readonly<Record<string, string>> = {
  invalid_payload: 'expected a Segment message, a {"batch":[…]} object or a JSON array of messages',
  invalid_json_value: 'the message holds a value JSON cannot carry',
  unknown_message_type: 'type must be identify, track, group, page, screen or alias',
  no_user_anon_id: 'a message needs a userId or an anonymousId',
  missing_event: 'a track call needs a non-empty event name',
  missing_group_id: 'a group call needs a groupId',
  missing_previous_id: 'an alias call needs a previousId',
  message_id_too_long: `messageId may be at most ${String(SEGMENT_MESSAGE_ID_MAX_LENGTH)} characters`,
  invalid_timestamp: 'expected an ISO-8601 date-time',
  timestamp_in_future: 'the time may be at most MAX_EVENT_TIME_SKEW_MS after the message was received',
  timestamp_too_old: 'the time may not be before 1970-01-01T00:00:00.000Z',
  invalid_field: 'the field does not have the type the Segment Spec gives it',
};

/** `batch[2].properties.plan`, `payload.userId`, `batch[0]`: where in the request the refused message is. */
export function messageLocation(index: number | null, path: readonly (string | number)[]): string {
  const field = path.map((part) => (typeof part === 'number' ? `[${String(part)}]` : `.${part}`)).join('');
  return `${index === null ? 'payload' : `batch[${String(index)}]`}${field}`;
}

/** `<location>: <code>: <rule>`, e.g. `batch[3].timestamp: invalid_timestamp: expected an ISO-8601 date-time`. */
export function messageRefusal(error: Pick<SegmentMessageError, 'code' | 'index' | 'path'>): string {
  const rule =
    error.code === 'invalid_field' && error.path.length === 0
      ? 'expected a message object'
      : (RULES[error.code] ?? 'refused by the Segment Spec rule its code names');
  return `${messageLocation(error.index, error.path)}: ${error.code}: ${rule}`;
}
