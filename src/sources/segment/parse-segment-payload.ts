import type { z } from 'zod';
import type { JsonObject, JsonValue, SegmentMessage } from '../../domain/segment/model.js';
import type { EpochMs } from '../../domain/time.js';
import { boundRule, DEFAULT_MAX_EVENT_TIME_SKEW_MS, eventTimeBounds, outOfBounds } from '../event-time-bounds.js';
import { formatIsoTimestamp } from './iso-timestamp.js';
import { isJsonValue, isPlainObject } from './json-value.js';
import { mintMessageId } from './minted-message-id.js';
import { SegmentMessageError, type FieldPath, type SegmentErrorCode } from './segment-message-error.js';
import { segmentBatchSchema, segmentMessageSchema, type SegmentMessageInput } from './segment-schemas.js';

/** A validated message plus what the connector needs to publish it. Assignable to SegmentMessage. */
export interface ParsedSegmentMessage extends SegmentMessage {
  readonly receivedAt: EpochMs;
  /** The item's sentAt, else the batch's; null when neither was sent. */
  readonly sentAt: EpochMs | null;
  readonly originalTimestamp: EpochMs | null;
  /** Batch-level context merged under the item's own (item keys win). */
  readonly context: JsonObject;
  readonly integrations: JsonObject;
  /**
   * The normalised Spec message to publish: every field of the original item (unknown ones included), merged
   * context/integrations, the (possibly minted) messageId, the corrected `timestamp`, `receivedAt` and the sentAt
   * it was corrected with, all as ISO-8601. Parsing `raw` again yields this same message.
   */
  readonly raw: JsonObject;
}

export interface SegmentParseOptions {
  /** Arrival time at our endpoint; used when the message does not carry its own `receivedAt`. */
  readonly receivedAt: EpochMs;
  /**
   * How far past `receivedAt` (the option) an event time may lie; DEFAULT_MAX_EVENT_TIME_SKEW_MS when absent.
   * Infinity when decoding a record already on a topic: the processor judges those against its own clock.
   */
  readonly maxEventTimeSkewMs?: number | undefined;
}

export interface SegmentParseResult {
  readonly messages: ParsedSegmentMessage[];
  readonly errors: SegmentMessageError[];
}

interface BatchLevel {
  readonly context: JsonObject | null;
  readonly integrations: JsonObject | null;
  readonly sentAt: EpochMs | null;
}

const NO_BATCH: BatchLevel = { context: null, integrations: null, sentAt: null };
const EMPTY: JsonObject = Object.freeze({});
const TIMESTAMP_FIELDS = new Set(['timestamp', 'originalTimestamp', 'sentAt', 'receivedAt']);

/**
 * Validates a Tracking API call, a `{batch:[…]}` body or a JSON array (Webhooks Actions batched delivery) into
 * Segment messages. A bad item becomes one error and does not reject the others; a bad batch envelope (e.g. an
 * invalid batch-level sentAt) rejects the whole payload, because applying it wrongly would skew every item.
 * Never throws on bad input.
 *
 * Event time (`timestamp`), first rule that applies:
 *  1. the message's own `timestamp`: a caller-set time (server libraries and HTTP API imports) or the value Segment
 *     already corrected (webhook deliveries) wins;
 *  2. `receivedAt − (sentAt − originalTimestamp)` when both exist (sentAt: the item's, else the batch's);
 *  3. `originalTimestamp` (nothing to correct with);
 *  4. `receivedAt` (the message's own when a webhook delivery carries one, else options.receivedAt).
 * That time, and a message's own `receivedAt`, must lie between the epoch and options.receivedAt plus the skew
 * (see event-time-bounds.ts), else the message is refused, naming the field and the rule but never the value.
 * `originalTimestamp` and `sentAt` are device clocks that only enter the correction: a device years off is what the
 * correction is for, so they are not bounded themselves, only what they correct to.
 */
export function parseSegmentPayload(raw: unknown, options: SegmentParseOptions): SegmentParseResult {
  if (Array.isArray(raw)) return parseItems(raw as unknown[], NO_BATCH, options);
  if (isPlainObject(raw) && 'batch' in raw) {
    const batch = segmentBatchSchema.safeParse(raw);
    if (!batch.success) return { messages: [], errors: [errorFromIssues(batch.error.issues, null)] };
    const level: BatchLevel = {
      context: batch.data.context ?? null,
      integrations: batch.data.integrations ?? null,
      sentAt: batch.data.sentAt ?? null,
    };
    return parseItems(batch.data.batch, level, options);
  }
  if (isPlainObject(raw)) {
    const result = parseItem(raw, null, NO_BATCH, options);
    return result instanceof SegmentMessageError
      ? { messages: [], errors: [result] }
      : { messages: [result], errors: [] };
  }
  const error = new SegmentMessageError(
    'invalid_payload',
    null,
    [],
    'expected a Segment message, a {"batch":[…]} object or a JSON array of messages',
  );
  return { messages: [], errors: [error] };
}

function parseItems(items: readonly unknown[], level: BatchLevel, options: SegmentParseOptions): SegmentParseResult {
  const messages: ParsedSegmentMessage[] = [];
  const errors: SegmentMessageError[] = [];
  for (let index = 0; index < items.length; index++) {
    const result = parseItem(items[index], index, level, options);
    if (result instanceof SegmentMessageError) errors.push(result);
    else messages.push(result);
  }
  return { messages, errors };
}

function parseItem(
  item: unknown,
  index: number | null,
  level: BatchLevel,
  options: SegmentParseOptions,
): ParsedSegmentMessage | SegmentMessageError {
  if (!isPlainObject(item)) return new SegmentMessageError('invalid_field', index, [], 'expected a message object');
  if (!isJsonValue(item)) {
    return new SegmentMessageError('invalid_json_value', index, [], 'message contains a value JSON cannot carry');
  }
  const parsed = segmentMessageSchema.safeParse(item);
  if (!parsed.success) return errorFromIssues(parsed.error.issues, index);
  const input = parsed.data;

  const semanticError = checkRequiredFields(input, index);
  if (semanticError !== null) return semanticError;
  const entityKey = (input.userId ?? input.anonymousId) as string;

  const receivedAt = input.receivedAt ?? options.receivedAt;
  const sentAt = input.sentAt ?? level.sentAt;
  const originalTimestamp = input.originalTimestamp ?? null;
  const timestamp = correctedTimestamp(input.timestamp ?? null, originalTimestamp, sentAt, receivedAt);
  const timeError = eventTimeError(input, timestamp, sentAt, index, options);
  if (timeError !== null) return timeError;

  const context = mergeObjects(level.context, input.context ?? null);
  const integrations = mergeObjects(level.integrations, input.integrations ?? null);

  const normalised: Record<string, JsonValue> = { ...item };
  if (context !== EMPTY || 'context' in item) normalised['context'] = context;
  if (integrations !== EMPTY || 'integrations' in item) normalised['integrations'] = integrations;
  for (const field of ['userId', 'anonymousId', 'groupId', 'previousId'] as const) {
    const value = input[field];
    if (value !== null) normalised[field] = value;
  }
  if (sentAt !== null) normalised['sentAt'] = formatIsoTimestamp(sentAt);
  const receivedAtIso = formatIsoTimestamp(receivedAt);
  const messageId =
    input.messageId != null && input.messageId !== '' ? input.messageId : mintMessageId(normalised, receivedAtIso);
  normalised['messageId'] = messageId;
  normalised['timestamp'] = formatIsoTimestamp(timestamp);
  normalised['receivedAt'] = receivedAtIso;

  const type = input.type;
  const carriesProperties = type === 'track' || type === 'page' || type === 'screen';
  const carriesTraits = type === 'identify' || type === 'group';
  return {
    type,
    messageId,
    userId: input.userId,
    anonymousId: input.anonymousId,
    entityKey,
    timestamp,
    event: type === 'track' ? (input.event ?? null) : carriesProperties ? (input.name ?? null) : null,
    properties: carriesProperties ? (input.properties ?? EMPTY) : EMPTY,
    traits: carriesTraits ? (input.traits ?? EMPTY) : EMPTY,
    groupId: input.groupId,
    previousId: input.previousId,
    receivedAt,
    sentAt,
    originalTimestamp,
    context,
    integrations,
    raw: normalised,
  };
}

function checkRequiredFields(input: SegmentMessageInput, index: number | null): SegmentMessageError | null {
  if (input.userId === null && input.anonymousId === null) {
    return new SegmentMessageError('no_user_anon_id', index, ['userId'], 'a message needs a userId or an anonymousId');
  }
  switch (input.type) {
    case 'track':
      if (input.event == null || input.event.trim() === '') {
        return new SegmentMessageError('missing_event', index, ['event'], 'a track call needs a non-empty event name');
      }
      return null;
    case 'group':
      if (input.groupId === null) {
        return new SegmentMessageError('missing_group_id', index, ['groupId'], 'a group call needs a groupId');
      }
      return null;
    case 'alias':
      if (input.previousId === null) {
        return new SegmentMessageError(
          'missing_previous_id',
          index,
          ['previousId'],
          'an alias call needs a previousId',
        );
      }
      return null;
    case 'identify':
    case 'page':
    case 'screen':
      return null;
  }
}

function correctedTimestamp(
  timestamp: EpochMs | null,
  originalTimestamp: EpochMs | null,
  sentAt: EpochMs | null,
  receivedAt: EpochMs,
): EpochMs {
  if (timestamp !== null) return timestamp;
  if (originalTimestamp !== null)
    return sentAt !== null ? receivedAt - (sentAt - originalTimestamp) : originalTimestamp;
  return receivedAt;
}

/** The first of the message's own receivedAt and its event time that lies outside the bounds, as a refusal. */
function eventTimeError(
  input: SegmentMessageInput,
  timestamp: EpochMs,
  sentAt: EpochMs | null,
  index: number | null,
  options: SegmentParseOptions,
): SegmentMessageError | null {
  const skew = options.maxEventTimeSkewMs ?? DEFAULT_MAX_EVENT_TIME_SKEW_MS;
  const bounds = eventTimeBounds(options.receivedAt, skew, 'the message was received');
  const checks: readonly (readonly [EpochMs | null | undefined, TimeSource])[] = [
    [input.receivedAt, { field: 'receivedAt', name: 'receivedAt' }],
    [timestamp, timeSource(input, sentAt)],
  ];
  for (const [at, source] of checks) {
    if (at == null) continue;
    const problem = outOfBounds(at, bounds);
    if (problem === null) continue;
    const code = problem === 'in_future' ? 'timestamp_in_future' : 'timestamp_too_old';
    return new SegmentMessageError(code, index, [source.field], `${source.name} ${boundRule(problem, bounds)}`);
  }
  return null;
}

interface TimeSource {
  /** The field a sender should look at. */
  readonly field: string;
  /** How the refusal names the time. */
  readonly name: string;
}

/** Where the event time came from (rules 1–4 of parseSegmentPayload). */
function timeSource(input: SegmentMessageInput, sentAt: EpochMs | null): TimeSource {
  if (input.timestamp != null) return { field: 'timestamp', name: 'timestamp' };
  if (input.originalTimestamp == null) return { field: 'receivedAt', name: 'receivedAt' };
  if (sentAt === null) return { field: 'originalTimestamp', name: 'originalTimestamp' };
  return {
    field: 'originalTimestamp',
    name: 'the event time corrected from originalTimestamp and sentAt (receivedAt − (sentAt − originalTimestamp))',
  };
}

function mergeObjects(batchLevel: JsonObject | null, own: JsonObject | null): JsonObject {
  if (batchLevel === null) return own ?? EMPTY;
  if (own === null) return batchLevel;
  return { ...batchLevel, ...own };
}

function errorFromIssues(issues: readonly z.core.$ZodIssue[], index: number | null): SegmentMessageError {
  const first = issues[0];
  if (first === undefined) return new SegmentMessageError('invalid_field', index, [], 'invalid message');
  const path: FieldPath = first.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
  const detail = issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
  return new SegmentMessageError(codeForIssue(first), index, path, detail);
}

function codeForIssue(issue: z.core.$ZodIssue): SegmentErrorCode {
  const field = issue.path[0];
  if (field === 'type') return 'unknown_message_type';
  if (field === 'messageId' && issue.code === 'too_big') return 'message_id_too_long';
  if (typeof field === 'string' && TIMESTAMP_FIELDS.has(field)) return 'invalid_timestamp';
  return 'invalid_field';
}
