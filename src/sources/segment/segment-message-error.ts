/**
 * Why a Segment message was rejected. `no_user_anon_id` is the Segment HTTP API's own code; the others name the
 * rule the Tracking API applies (a nameless track is dropped, a group needs a groupId, messageId ≤ 100 chars), or
 * ours on event time (`timestamp_in_future`, `timestamp_too_old`: see event-time-bounds.ts).
 */
export type SegmentErrorCode =
  | 'invalid_payload'
  | 'invalid_json_value'
  | 'unknown_message_type'
  | 'no_user_anon_id'
  | 'missing_event'
  | 'missing_group_id'
  | 'missing_previous_id'
  | 'message_id_too_long'
  | 'invalid_timestamp'
  | 'timestamp_in_future'
  | 'timestamp_too_old'
  | 'invalid_field';

export type FieldPath = readonly (string | number)[];

/** One rejected message (or a rejected payload when `index` is null); the others in the batch are unaffected. */
export class SegmentMessageError extends Error {
  constructor(
    readonly code: SegmentErrorCode,
    /** Position in the batch / JSON array; null for a single message or a payload-level problem. */
    readonly index: number | null,
    /** Path of the offending field inside the message (or inside the payload when `index` is null). */
    readonly path: FieldPath,
    readonly detail: string,
  ) {
    super(`${describeLocation(index, path)}: ${code}: ${detail}`);
    this.name = 'SegmentMessageError';
  }
}

function describeLocation(index: number | null, path: FieldPath): string {
  const field = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
  const where = index === null ? 'payload' : `batch[${index}]`;
  return field === '' ? where : `${where}${field}`;
}
