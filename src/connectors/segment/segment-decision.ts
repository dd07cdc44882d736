import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { SegmentMessageError } from '../../sources/segment/index.js';
import type { ConnectorResult } from '../connector-result.js';

/** What became of one request: the `result` label of persona_stream_webhook_requests_total{route,result}. */
export type SegmentRequestResult = Exclude<ConnectorResult, 'dead_lettered' | 'lookup_failed'>;

/** Why a request (or one message of it) was refused; the parser's own codes name the message-level rules. */
export type SegmentRejectionCode =
  | 'missing_write_key'
  | 'invalid_write_key'
  | 'missing_signature'
  | 'invalid_signature'
  | 'invalid_batch_token'
  | 'batch_not_enabled'
  | 'invalid_json'
  | 'too_deep'
  | 'invalid_payload'
  | 'event_too_large'
  | 'request_too_large'
  | 'too_many_events'
  | 'rate_limited'
  | 'in_flight'
  | 'broker_unavailable'
  | 'method_not_allowed'
  | SegmentMessageError['code'];

/**
 * One refused message of a request: its position (null for a single call), the rule and the offending field. The
 * message names the field and the rule, never the value (it is logged, and sent back to whoever sent it).
 */
export interface SegmentItemError {
  readonly index: number | null;
  readonly code: SegmentRejectionCode;
  readonly field: string;
  readonly message: string;
}

/**
 * Segment documents no response body (its SDKs read the status only), so the shape is ours, modelled on what
 * api.segment.io is commonly seen to answer: `{"success":true}` / `{"success":false,"message","code"}`.
 */
export interface SegmentSuccessBody {
  readonly success: true;
  /** Present when nothing was published because nothing in the request is used (deletion requests, empty batch). */
  readonly ignored?: true;
  /** Present when nothing was published because every message of it already was (a replayed delivery). */
  readonly duplicate?: true;
  /** The messages of a batch that were refused while the others were published. */
  readonly errors?: readonly SegmentItemError[];
}

export interface SegmentErrorBody {
  readonly success: false;
  readonly code: SegmentRejectionCode;
  readonly message: string;
  readonly errors?: readonly SegmentItemError[];
}

export type SegmentRejectedResult = Exclude<
  SegmentRequestResult,
  'accepted' | 'ignored' | 'duplicate' | 'broker_unavailable' | 'aborted'
>;

export type SegmentRejectionStatus = 400 | 401 | 403 | 405 | 413 | 429;

export interface SegmentRejection {
  readonly action: 'reject';
  readonly status: SegmentRejectionStatus;
  readonly result: SegmentRejectedResult;
  readonly body: SegmentErrorBody;
  /** With 429: when the sender may try again. */
  readonly retryAfterMs?: number;
}

/** The pure verdict on one request; the route carries it out (publishing first when asked to). */
export type SegmentDecision =
  | {
      readonly action: 'publish';
      /** In request order; the route answers 200 only once the broker acknowledged all of them. */
      readonly events: readonly CanonicalEvent[];
      readonly body: SegmentSuccessBody;
    }
  | { readonly action: 'ignore'; readonly reason: string; readonly body: SegmentSuccessBody }
  | SegmentRejection;

export function rejection(
  status: SegmentRejectionStatus,
  result: SegmentRejectedResult,
  code: SegmentRejectionCode,
  message: string,
  errors?: readonly SegmentItemError[],
): SegmentRejection {
  const body: SegmentErrorBody =
    errors === undefined ? { success: false, code, message } : { success: false, code, message, errors };
  return { action: 'reject', status, result, body };
}

/** 429: the key or source is over its rate limit. */
export function rateLimited(retryAfterMs: number, over: string): SegmentRejection {
  return {
    ...rejection(429, 'rate_limited', 'rate_limited', `over the rate limit of ${over}; retry after Retry-After`),
    retryAfterMs,
  };
}

/** A decision that a body no check foresaw made throw (a RangeError, say) is a 400, never a 500. */
export function guardedDecision(decide: () => SegmentDecision): SegmentDecision {
  try {
    return decide();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return rejection(400, 'invalid', 'invalid_payload', 'the body could not be read as Segment messages');
  }
}
