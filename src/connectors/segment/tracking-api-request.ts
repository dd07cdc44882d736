import type { SegmentMessageType } from '../../domain/segment/model.js';
import type { EpochMs } from '../../domain/time.js';
import { isPlainObject } from '../../sources/segment/json-value.js';
import { JsonBodyError, parseJsonBody } from '../json-body.js';
import { rateLimited, rejection, type SegmentDecision } from './segment-decision.js';
import { decideMessages, oversizeEvent, withoutFields } from './segment-messages.js';
import type { TrackingApiEndpoint } from './tracking-api-endpoints.js';
import { writeKeyFromAuthorization, writeKeyFromBody, type AcceptedWriteKeys } from './write-key.js';

export interface TrackingApiRequest {
  readonly endpoint: TrackingApiEndpoint;
  readonly authorization: string | undefined;
  /** The raw body, already held to the request size limit. */
  readonly body: Buffer;
  readonly receivedAt: EpochMs;
}

export interface TrackingApiPolicy {
  readonly writeKeys: AcceptedWriteKeys;
  readonly maxEventBytes: number;
  readonly maxBatchEvents: number;
  readonly maxEventTimeSkewMs?: number | undefined;
  /**
   * Takes one request from the rate limit of the accepted key the body presents: 0 when it may go, else the
   * milliseconds to wait (answered 429). Absent when the key was admitted from the Authorization header already.
   */
  readonly admitBodyKey?: ((writeKey: string) => number) | undefined;
}

/**
 * Fields a sender does not get to put on a published message: its credential, and the arrival time, which we
 * stamp as Segment's servers do (a client-sent receivedAt would bypass the sentAt clock-skew correction).
 */
const SERVER_FIELDS = ['writeKey', 'receivedAt'] as const;

/**
 * One request to a Tracking-API-compatible endpoint: the write key first (401, Basic header or body), its rate limit
 * (429), then the shape, Segment's size rules (400 naming the message) and the messages themselves (see
 * decideMessages). The body's nesting is bounded before it is parsed (400).
 */
export function decideTrackingApiRequest(request: TrackingApiRequest, policy: TrackingApiPolicy): SegmentDecision {
  const body = parseJsonBody(request.body);
  const bodyKey = body instanceof JsonBodyError ? undefined : writeKeyFromBody(body);
  const verdict = policy.writeKeys.verify(writeKeyFromAuthorization(request.authorization), bodyKey);
  if (!verdict.ok) return rejection(401, 'rejected_write_key', verdict.code, verdict.message);
  if (bodyKey !== undefined && policy.admitBodyKey !== undefined) {
    const waitMs = policy.admitBodyKey(bodyKey);
    if (waitMs > 0) return rateLimited(waitMs, 'its write key');
  }
  if (body instanceof JsonBodyError) return rejection(400, 'invalid', body.code, body.message);
  const endpoint = request.endpoint;
  return endpoint.kind === 'single'
    ? decideSingleCall(body, endpoint.type, request.receivedAt, policy)
    : decideBatch(body, request.receivedAt, policy);
}

function decideSingleCall(
  body: unknown,
  type: SegmentMessageType,
  receivedAt: EpochMs,
  policy: TrackingApiPolicy,
): SegmentDecision {
  if (!isPlainObject(body)) {
    return rejection(400, 'invalid', 'invalid_payload', 'expected one Segment message (a JSON object)');
  }
  if ('batch' in body) {
    return rejection(400, 'invalid', 'invalid_payload', 'a {"batch":[…]} body goes to /v1/batch');
  }
  const message = { ...(withoutFields(body, SERVER_FIELDS) as Record<string, unknown>), type };
  return (
    oversizeEvent([message], true, policy.maxEventBytes) ??
    decideMessages(message, { receivedAt, maxEventTimeSkewMs: policy.maxEventTimeSkewMs })
  );
}

function decideBatch(body: unknown, receivedAt: EpochMs, policy: TrackingApiPolicy): SegmentDecision {
  const items = isPlainObject(body) ? body['batch'] : undefined;
  if (!isPlainObject(body) || !Array.isArray(items)) {
    return rejection(400, 'invalid', 'invalid_payload', 'expected {"batch":[…]} with an array of messages');
  }
  if (items.length > policy.maxBatchEvents) {
    return rejection(
      400,
      'too_large',
      'too_many_events',
      `the batch holds ${String(items.length)} messages; a batch may hold at most ${String(policy.maxBatchEvents)}`,
    );
  }
  const prepared = items.map((item: unknown) => withoutFields(item, SERVER_FIELDS));
  return (
    oversizeEvent(prepared, false, policy.maxEventBytes) ??
    decideMessages({ ...body, batch: prepared }, { receivedAt, maxEventTimeSkewMs: policy.maxEventTimeSkewMs })
  );
}
