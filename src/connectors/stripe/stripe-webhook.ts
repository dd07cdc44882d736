import type { CanonicalEvent } from '../../records/canonical-event.js';
import { encodeDeadLetterValue, type DeadLetter } from '../../records/dead-letter.js';
import { stripeCanonicalEvent } from '../../sources/canonical-events.js';
import { parseStripeEvent } from '../../sources/stripe/index.js';
import { JsonBodyError, parseJsonBody } from '../json-body.js';
import { unexpandedDisputeCharge, withDisputeChargeCustomer } from './charge-customer-resolver.js';
import { checkStripeSignatureHeader, SIGNATURE_TOLERANCE_SECONDS, stripeSignatureMatches } from './stripe-signature.js';

export { SIGNATURE_TOLERANCE_SECONDS } from './stripe-signature.js';

/** The `topic` of a dead letter written by this connector: the webhook route, since no Kafka record existed. */
export const STRIPE_WEBHOOK_DEAD_LETTER_SOURCE = 'webhook:/webhooks/stripe';

/** A refused delivery: 400 whatever the reason (Stripe retries any non-2xx), nothing published. */
export interface StripeWebhookRejection {
  readonly action: 'reject';
  readonly status: 400;
  readonly result: 'rejected_signature' | 'invalid';
  /** The rule, for logs and the answer; never a value from the body. */
  readonly code:
    | 'missing_signature'
    | 'malformed_signature'
    | 'stale_signature'
    | 'invalid_signature'
    | 'invalid_json'
    | 'too_deep'
    | 'invalid_event';
  /** Names the field and the rule, never the value. */
  readonly reason: string;
}

export type StripeWebhookDecision =
  | StripeWebhookRejection
  | { readonly action: 'ignore'; readonly type: string }
  | { readonly action: 'publish'; readonly event: CanonicalEvent }
  /** A dispute whose charge is only an id: learn the charge's customer, then `decideResolvedDispute`. */
  | {
      readonly action: 'resolve_charge_customer';
      readonly chargeId: string;
      readonly eventId: string;
      readonly raw: Readonly<Record<string, unknown>>;
      readonly reason: string;
    }
  /** Signed and valid, but no customer can key it: acknowledged, kept on the dead-letter topic. */
  | {
      readonly action: 'dead_letter';
      readonly code: 'missing_customer';
      readonly eventId: string | null;
      readonly reason: string;
    };

/**
 * What the `Stripe-Signature` header alone decides, before the body is read: a missing, malformed or stale signature
 * is refused there. Undefined: read the body and decide with decideStripeWebhook.
 */
export function refuseStripeHeader(
  signatureHeader: string | undefined,
  receivedAt: number,
): StripeWebhookRejection | undefined {
  const verdict = checkStripeSignatureHeader(signatureHeader, Math.floor(receivedAt / 1000));
  return verdict.ok ? undefined : reject('rejected_signature', verdict.code, verdict.reason);
}

/**
 * What to do with one delivery to POST /webhooks/stripe: verifyStripeWebhook, then decideStripeEvent (the route takes
 * its rate limit between the two).
 */
export function decideStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  receivedAt: number,
  maxEventTimeSkewMs?: number,
): StripeWebhookDecision {
  return (
    verifyStripeWebhook(rawBody, signatureHeader, secrets, receivedAt) ??
    decideStripeEvent(rawBody, receivedAt, maxEventTimeSkewMs)
  );
}

/**
 * Why a delivery is not Stripe's, if it is not: the `Stripe-Signature` header verified over the raw bytes against
 * every configured secret (several while a secret is being rolled), with Stripe's tolerance, before anything of the
 * body is decoded or parsed.
 */
export function verifyStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  receivedAt: number,
): StripeWebhookRejection | undefined {
  const verdict = checkStripeSignatureHeader(
    signatureHeader,
    Math.floor(receivedAt / 1000),
    SIGNATURE_TOLERANCE_SECONDS,
  );
  if (!verdict.ok) return reject('rejected_signature', verdict.code, verdict.reason);
  if (!stripeSignatureMatches(verdict.header, rawBody, secrets)) {
    return reject(
      'rejected_signature',
      'invalid_signature',
      'Stripe-Signature does not match the body with any secret',
    );
  }
  return undefined;
}

/**
 * What to do with a verified delivery. Not JSON (or nested deeper than a Stripe event is) or not a valid event:
 * rejected and never published. Event types the pipeline does not use are acknowledged and ignored, so Stripe stops
 * retrying them. A valid event without a customer to key it by is not refused (Stripe would retry it for 3 days to
 * no avail): a dispute whose charge is not expanded is resolved through the charge, anything else goes to the
 * dead-letter topic.
 */
export function decideStripeEvent(
  rawBody: Buffer,
  receivedAt: number,
  maxEventTimeSkewMs?: number,
): StripeWebhookDecision {
  const raw = parseJsonBody(rawBody);
  if (raw instanceof JsonBodyError) return reject('invalid', raw.code, raw.message);
  const parsed = parseStripeEvent(raw);
  if (!parsed.ok) {
    if (parsed.error.code === 'missing_customer') return missingCustomerDecision(raw, parsed.error);
    return reject('invalid', 'invalid_event', invalidField(parsed.error.path));
  }
  if (parsed.ignored) return { action: 'ignore', type: parsed.event.type };
  // The bytes are UTF-8 (parseJsonBody checked), so this text is exactly what Stripe signed, and is what is published.
  const result = stripeCanonicalEvent(TEXT.decode(rawBody), receivedAt, maxEventTimeSkewMs);
  const [event] = result.events;
  if (!result.ok) return reject('invalid', 'invalid_event', canonicalRefusal(result.errors[0]));
  if (result.ignored || event === undefined) return { action: 'ignore', type: parsed.event.type };
  return { action: 'publish', event };
}

const TEXT = new TextDecoder('utf-8');

/**
 * The decision for a dispute once its charge's customer is known (`customerId`), or known not to exist (null: the
 * charge has no customer, or Stripe does not know it).
 */
export function decideResolvedDispute(
  pending: Extract<StripeWebhookDecision, { action: 'resolve_charge_customer' }>,
  customerId: string | null,
  receivedAt: number,
  maxEventTimeSkewMs?: number,
): StripeWebhookDecision {
  if (customerId === null) {
    return {
      action: 'dead_letter',
      code: 'missing_customer',
      eventId: pending.eventId,
      reason: `the disputed charge ${pending.chargeId} has no customer (or does not exist)`,
    };
  }
  const result = stripeCanonicalEvent(
    withDisputeChargeCustomer(pending.raw, customerId),
    receivedAt,
    maxEventTimeSkewMs,
  );
  const [event] = result.events;
  if (!result.ok || event === undefined) {
    const reason = result.ok ? 'event type not used' : 'the dispute is not a valid event once its customer is set';
    return reject('invalid', 'invalid_event', reason);
  }
  return { action: 'publish', event };
}

/** The dead-letter record for a delivery: the raw body as received, keyed by event id. */
export function stripeWebhookDeadLetter(
  rawBody: Buffer,
  decision: Extract<StripeWebhookDecision, { action: 'dead_letter' }>,
  at: number,
): DeadLetter {
  return {
    topic: STRIPE_WEBHOOK_DEAD_LETTER_SOURCE,
    // No Kafka record existed: there are no real coordinates to give.
    partition: 0,
    offset: '0',
    key: decision.eventId,
    reason: decision.reason,
    error_code: decision.code,
    value: encodeDeadLetterValue(rawBody),
    at,
  };
}

/** A signed, valid event that names no customer: resolved through its disputed charge, else dead-lettered. */
function missingCustomerDecision(
  raw: unknown,
  error: { readonly eventId: string | null; readonly message: string },
): StripeWebhookDecision {
  const eventId = error.eventId;
  const chargeId = unexpandedDisputeCharge(raw);
  if (chargeId !== null && eventId !== null) {
    return {
      action: 'resolve_charge_customer',
      chargeId,
      eventId,
      raw: raw as Readonly<Record<string, unknown>>,
      reason: error.message,
    };
  }
  return { action: 'dead_letter', code: 'missing_customer', eventId, reason: error.message };
}

function reject(
  result: StripeWebhookRejection['result'],
  code: StripeWebhookRejection['code'],
  reason: string,
): StripeWebhookRejection {
  return { action: 'reject', status: 400, result, code, reason };
}

/**
 * Why a parsed event still cannot be published: the source's own rule where it is not about the JSON or its shape
 * (those were checked above, and their messages may quote input).
 */
function canonicalRefusal(error: { readonly code: string; readonly message: string } | undefined): string {
  const generic = 'not a Stripe event the pipeline can read';
  return error === undefined || error.code === 'not_json' || error.code === 'invalid_payload' ? generic : error.message;
}

function invalidField(path: string): string {
  return `${path === '' ? '(root)' : path}: does not match the Stripe event schema`;
}
