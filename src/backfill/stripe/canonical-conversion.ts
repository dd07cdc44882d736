import type { CanonicalEvent } from '../../records/canonical-event.js';
import { stripeCanonicalEvent } from '../../sources/canonical-events.js';
import { parseStripeEvent } from '../../sources/stripe/index.js';
import {
  unexpandedDisputeCharge,
  withDisputeChargeCustomer,
  type ChargeCustomerResolver,
} from '../../connectors/stripe/charge-customer-resolver.js';

export type Conversion =
  | { readonly outcome: 'event'; readonly event: CanonicalEvent }
  /** An event type the pipeline does not use. */
  | { readonly outcome: 'ignored' }
  /** Valid, but nothing names a customer to key it by (a guest charge, a dispute on one). */
  | { readonly outcome: 'no_customer'; readonly reason: string }
  /** Does not match what the pipeline reads: the reason names the field. */
  | { readonly outcome: 'invalid'; readonly reason: string };

/**
 * A Stripe event (its JSON text and parsed value) → the canonical event published for it, exactly as the webhook
 * connector would make it. A dispute whose charge is only an id is re-keyed through `resolver` when one is given.
 */
export async function convertStripeEvent(
  text: string,
  raw: unknown,
  receivedAt: number,
  resolver: ChargeCustomerResolver | undefined,
): Promise<Conversion> {
  const result = stripeCanonicalEvent(text, receivedAt);
  if (result.ok) {
    const [event] = result.events;
    return event === undefined ? { outcome: 'ignored' } : { outcome: 'event', event };
  }
  // Failure path only: parse again for the typed error code.
  const parsed = parseStripeEvent(raw);
  if (parsed.ok) return { outcome: 'invalid', reason: result.errors.map((error) => error.message).join('; ') };
  if (parsed.error.code !== 'missing_customer') return { outcome: 'invalid', reason: parsed.error.message };
  const chargeId = unexpandedDisputeCharge(raw);
  if (chargeId === null || resolver === undefined) return { outcome: 'no_customer', reason: parsed.error.message };
  const customerId = await resolver.customerOf(chargeId);
  if (customerId === null) {
    return { outcome: 'no_customer', reason: `the disputed charge ${chargeId} has no customer (or does not exist)` };
  }
  const resolved = stripeCanonicalEvent(
    withDisputeChargeCustomer(raw as Readonly<Record<string, unknown>>, customerId),
    receivedAt,
  );
  const [event] = resolved.events;
  if (!resolved.ok || event === undefined) {
    return { outcome: 'invalid', reason: resolved.ok ? 'not used' : resolved.errors.map((e) => e.message).join('; ') };
  }
  return { outcome: 'event', event };
}
