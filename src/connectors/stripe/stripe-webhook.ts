import Stripe from 'stripe';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { stripeCanonicalEvent } from '../../sources/canonical-events.js';

/** Stripe's own default: a signed timestamp older than this is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type StripeWebhookDecision =
  | { readonly action: 'reject'; readonly status: 400; readonly reason: string }
  | { readonly action: 'ignore'; readonly type: string }
  | { readonly action: 'publish'; readonly event: CanonicalEvent };

/**
 * What to do with one delivery to POST /webhooks/stripe. The `Stripe-Signature` header is verified over the raw
 * bytes with the stripe SDK against every configured secret (several while a secret is being rolled); anything
 * unsigned, mis-signed, stale, not JSON or not a valid event is rejected and never published. Event types the
 * pipeline does not use are acknowledged and ignored, so Stripe stops retrying them.
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
    return { action: 'reject', status: 400, reason: result.errors.map((error) => error.message).join('; ') };
  }
  const [event] = result.events;
  if (result.ignored || event === undefined) return { action: 'ignore', type: eventType(text) };
  return { action: 'publish', event };
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
