import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { SegmentMessageError } from '../../sources/segment/index.js';

/** What became of one request: the `result` label of persona_stream_webhook_requests_total{route,result}. */
export const segmentRequestResults = [
  'accepted',
  'ignored',
  'rejected_signature',
  'rejected_write_key',
  'invalid',
  'too_large',
  'broker_unavailable',
] as const;
export type SegmentRequestResult = (typeof segmentRequestResults)[number];

/** Why a request (or one message of it) was refused; the parser's own codes name the message-level rules. */
export type SegmentRejectionCode =
  | 'missing_write_key'
  | 'invalid_write_key'
  | 'missing_signature'
  | 'invalid_signature'
  | 'invalid_json'
  | 'invalid_payload'
  | 'event_too_large'
  | 'request_too_large'
  | 'too_many_events'
  | 'broker_unavailable'
  | 'method_not_allowed'
  | SegmentMessageError['code'];

/** One refused message of a request: its position (null for a single call), the rule and the offending field. */
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
  /** The messages of a batch that were refused while the others were published. */
  readonly errors?: readonly SegmentItemError[];
}

export interface SegmentErrorBody {
  readonly success: false;
  readonly code: SegmentRejectionCode;
  readonly message: string;
  readonly errors?: readonly SegmentItemError[];
}

export type SegmentRejectedResult = Exclude<SegmentRequestResult, 'accepted' | 'ignored' | 'broker_unavailable'>;

/** The pure verdict on one request; the route carries it out (publishing first when asked to). */
export type SegmentDecision =
  | {
      readonly action: 'publish';
      /** In request order; the route answers 200 only once the broker acknowledged all of them. */
      readonly events: readonly CanonicalEvent[];
      readonly body: SegmentSuccessBody;
    }
  | { readonly action: 'ignore'; readonly reason: string; readonly body: SegmentSuccessBody }
  | {
      readonly action: 'reject';
      readonly status: 400 | 401 | 413;
      readonly result: SegmentRejectedResult;
      readonly body: SegmentErrorBody;
    };

export function rejection(
  status: 400 | 401 | 413,
  result: SegmentRejectedResult,
  code: SegmentRejectionCode,
  message: string,
  errors?: readonly SegmentItemError[],
): SegmentDecision {
  const body: SegmentErrorBody =
    errors === undefined ? { success: false, code, message } : { success: false, code, message, errors };
  return { action: 'reject', status, result, body };
}
