import type { Discount } from '../../domain/stripe/model.js';
import { normalizeCustomer, type CustomerFields } from './normalize-customer.js';
import { normalizeSubscription, type NormalizedSubscription } from './normalize-subscription.js';
import { StripeParseError } from './parse-error.js';
import { customerWithSubscriptionsSchema, subscriptionSchema } from './raw-schemas.js';

export type StripeObjectParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StripeParseError };

export type ParsedSubscription = NormalizedSubscription;

export interface ParsedCustomer extends CustomerFields {
  readonly subscriptions: readonly ParsedSubscription[];
  /** false when Stripe reported more subscriptions than it embedded (`subscriptions.has_more`): list them apart. */
  readonly subscriptionsComplete: boolean;
  /** Every discount found: the customer's own and those embedded in its subscriptions. */
  readonly discounts: readonly Discount[];
}

/** A Subscription object (API retrieve/list, any version) → snapshot + embedded discounts. Never throws. */
export function parseSubscriptionObject(raw: unknown): StripeObjectParseResult<ParsedSubscription> {
  const parsed = subscriptionSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: StripeParseError.fromZod(parsed.error, []) };
  return { ok: true, value: normalizeSubscription(parsed.data) };
}

/**
 * A Customer with `subscriptions` expanded (`expand[]=data.subscriptions` on the list API, `expand[]=subscriptions`
 * on retrieve) → customer fields + its subscriptions. A customer without `subscriptions` is an error at that path:
 * without the expansion we cannot tell "no subscriptions" from "not included". Never throws.
 */
export function parseCustomerWithSubscriptions(raw: unknown): StripeObjectParseResult<ParsedCustomer> {
  const parsed = customerWithSubscriptionsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: StripeParseError.fromZod(parsed.error, []) };
  const customer = normalizeCustomer(parsed.data, false);
  const subscriptions = parsed.data.subscriptions.data.map(normalizeSubscription);
  const discounts: Discount[] = customer.discount === null ? [] : [customer.discount];
  for (const subscription of subscriptions) {
    for (const discount of subscription.discounts) {
      if (!discounts.some((known) => known.id === discount.id)) discounts.push(discount);
    }
  }
  return {
    ok: true,
    value: {
      ...customer,
      subscriptions,
      subscriptionsComplete: parsed.data.subscriptions.has_more !== true,
      discounts,
    },
  };
}
