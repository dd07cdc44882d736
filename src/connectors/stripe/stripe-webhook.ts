import Stripe from 'stripe';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { encodeDeadLetterValue, type DeadLetter } from '../../records/dead-letter.js';
import { stripeCanonicalEvent } from '../../sources/canonical-events.js';
import { parseStripeEvent } from '../../sources/stripe/index.js';
import { unexpandedDisputeCharge, withDisputeChargeCustomer } from './charge-customer-resolver.js';

/** Stripe's own default: a signed timestamp older than this is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The `topic` of a dead letter written by this connector: the webhook route, since no Kafka record existed. */
export const STRIPE_WEBHOOK_DEAD_LETTER_SOURCE = 'webhook:/webhooks/stripe';

export type StripeWebhookDecision =
  | { readonly action: 'reject'; readonly status: 400; readonly reason: string }
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
 * What to do with one delivery to POST /webhooks/stripe. The `Stripe-Signature` header is verified over the raw
 * bytes with the stripe SDK against every configured secret (several while a secret is being rolled); anything
 * unsigned, mis-signed, stale, not JSON or not a valid event is rejected and never published. Event types the
 * pipeline does not use are acknowledged and ignored, so Stripe stops retrying them. A valid event without a
 * customer to key it by is not refused (Stripe would retry it for 3 days to no avail): a dispute whose charge is
 * not expanded is resolved through the charge, anything else goes to the dead-letter topic.
 */
export function decideStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  receivedAt: number,
): StripeWebhookDecision {
  if (signatureHeader === undefined || signatureHeader === '') {
    return { action: 'reject', status: 400, reason: 'missing Stripe-Signature header' };
  }
  const text = rawBody.toString('utf8');
  if (!secrets.some((secret) => signatureMatches(text, signatureHeader, secret))) {
    return { action: 'reject', status: 400, reason: 'Stripe-Signature does not match (or its timestamp is too old)' };
  }
  const result = stripeCanonicalEvent(text, receivedAt);
  if (!result.ok) {
    return (
      missingCustomerDecision(text) ?? {
        action: 'reject',
        status: 400,
        reason: result.errors.map((error) => error.message).join('; '),
      }
    );
  }
  const [event] = result.events;
  if (result.ignored || event === undefined) return { action: 'ignore', type: eventType(text) };
  return { action: 'publish', event };
}

/**
 * The decision for a dispute once its charge's customer is known (`customerId`), or known not to exist (null: the
 * charge has no customer, or Stripe does not know it).
 */
export function decideResolvedDispute(
  pending: Extract<StripeWebhookDecision, { action: 'resolve_charge_customer' }>,
  customerId: string | null,
  receivedAt: number,
): StripeWebhookDecision {
  if (customerId === null) {
    return {
      action: 'dead_letter',
      code: 'missing_customer',
      eventId: pending.eventId,
      reason: `the disputed charge ${pending.chargeId} has no customer (or does not exist)`,
    };
  }
  const result = stripeCanonicalEvent(withDisputeChargeCustomer(pending.raw, customerId), receivedAt);
  const [event] = result.events;
  if (!result.ok || event === undefined) {
    const reason = result.ok ? 'event type not used' : result.errors.map((error) => error.message).join('; ');
    return { action: 'reject', status: 400, reason };
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

/** Only on the failure path: parse again to tell "no customer" (kept) from "invalid" (refused). */
function missingCustomerDecision(text: string): StripeWebhookDecision | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    return null;
  }
  const parsed = parseStripeEvent(raw);
  if (parsed.ok || parsed.error.code !== 'missing_customer') return null;
  const eventId = parsed.error.eventId;
  const chargeId = unexpandedDisputeCharge(raw);
  if (chargeId !== null && eventId !== null) {
    return {
      action: 'resolve_charge_customer',
      chargeId,
      eventId,
      raw: raw as Readonly<Record<string, unknown>>,
      reason: parsed.error.message,
    };
  }
  return { action: 'dead_letter', code: 'missing_customer', eventId, reason: parsed.error.message };
}

function signatureMatches(payload: string, header: string, secret: string): boolean {
  try {
    Stripe.webhooks.constructEvent(payload, header, secret, SIGNATURE_TOLERANCE_SECONDS);
    return true;
  } catch (error) {
    // constructEvent verifies first, then parses: any other error (invalid JSON) means the signature was good.
    return !(error instanceof Stripe.errors.StripeSignatureVerificationError);
  }
}

function eventType(text: string): string {
  try {
    const type = (JSON.parse(text) as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}
