import type { CurrencyCode } from '../money/currency.js';
import type { EpochMs } from '../time.js';

/**
 * Stripe objects normalised across API versions (pre-basil, basil 2025-03-31, clover 2025-09-30 and later).
 * The source parsers (src/sources/stripe) turn raw events into these; the MRR rules read only these.
 * Amounts are in minor units of their currency; an amount from `*_decimal` fields may be fractional.
 */

export const SUBSCRIPTION_STATUSES = [
  'active',
  'past_due',
  'trialing',
  'incomplete',
  'incomplete_expired',
  'unpaid',
  'canceled',
  'paused',
] as const;

export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export type RecurringInterval = 'day' | 'week' | 'month' | 'year';

export interface PriceTier {
  /** Inclusive upper bound of the tier in units; null = infinity. */
  readonly upTo: number | null;
  readonly unitAmount: number | null;
  readonly flatAmount: number | null;
}

export interface Price {
  readonly id: string;
  readonly currency: CurrencyCode;
  /** unit_amount, or unit_amount_decimal when unit_amount is null (may be fractional). */
  readonly unitAmount: number | null;
  readonly billingScheme: 'per_unit' | 'tiered';
  readonly tiersMode: 'graduated' | 'volume' | null;
  /** null when the event did not carry tiers (Stripe only includes them when expanded). */
  readonly tiers: readonly PriceTier[] | null;
  readonly transformQuantity: { readonly divideBy: number; readonly round: 'up' | 'down' } | null;
  /** null for a one-time price. */
  readonly recurring: {
    readonly interval: RecurringInterval;
    readonly intervalCount: number;
    readonly usageType: 'licensed' | 'metered';
  } | null;
}

export type CouponDuration = 'once' | 'repeating' | 'forever';

export interface Discount {
  readonly id: string;
  readonly couponId: string;
  readonly percentOff: number | null;
  /** Minor units of `amountOffCurrency`, off every invoice (billing period) while the discount is active. */
  readonly amountOff: number | null;
  readonly amountOffCurrency: CurrencyCode | null;
  readonly duration: CouponDuration;
  readonly durationInMonths: number | null;
  readonly start: EpochMs;
  /** Stripe's Discount.end: set for `repeating`, null for `once` and `forever`. */
  readonly end: EpochMs | null;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly subscriptionItemId: string | null;
}

export interface SubscriptionItem {
  readonly id: string;
  readonly price: Price;
  readonly quantity: number;
  /** Ids of discounts applied to this item (basil+ `items.data[].discounts`). */
  readonly discountIds: readonly string[];
  readonly currentPeriodStart: EpochMs | null;
  readonly currentPeriodEnd: EpochMs | null;
}

export interface SubscriptionSnapshot {
  readonly id: string;
  readonly customerId: string;
  readonly status: SubscriptionStatus;
  readonly currency: CurrencyCode;
  readonly created: EpochMs;
  readonly items: readonly SubscriptionItem[];
  /** Ids of subscription-level discounts (basil+ `discounts`, or the id of the pre-basil singular `discount`). */
  readonly discountIds: readonly string[];
  readonly cancelAtPeriodEnd: boolean;
  readonly cancelAt: EpochMs | null;
  readonly canceledAt: EpochMs | null;
  readonly endedAt: EpochMs | null;
  /** `pause_collection` is set (collection paused; status may still be active). */
  readonly pauseCollection: boolean;
  readonly trialEnd: EpochMs | null;
}

interface FactBase {
  /** Stripe event id (`evt_…`), or a deterministic synthetic id for backfilled objects. */
  readonly eventId: string;
  /** Event time: Stripe's `event.created`. */
  readonly at: EpochMs;
  readonly customerId: string;
}

export interface CustomerFact extends FactBase {
  readonly kind: 'customer';
  readonly deleted: boolean;
  readonly email: string | null;
  readonly name: string | null;
  readonly currency: CurrencyCode | null;
  readonly delinquent: boolean;
  readonly addressCountry: string | null;
  /** Customer-level discount embedded in the customer object (pre-basil), if any. */
  readonly discount: Discount | null;
}

export interface SubscriptionFact extends FactBase {
  readonly kind: 'subscription';
  readonly subscription: SubscriptionSnapshot;
  /** `customer.subscription.deleted`: terminal; no later snapshot resurrects the subscription. */
  readonly deleted: boolean;
  /** Discount objects found embedded in the snapshot (pre-basil `discount`, or expanded `discounts`). */
  readonly discounts: readonly Discount[];
}

export interface DiscountFact extends FactBase {
  readonly kind: 'discount';
  readonly discount: Discount;
  /** `customer.discount.deleted`: the discount stops applying at `at`. */
  readonly deleted: boolean;
}

export interface InvoiceFact extends FactBase {
  readonly kind: 'invoice';
  readonly invoiceId: string;
  readonly subscriptionId: string | null;
  readonly status: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void' | null;
  /** The event reports a failed payment attempt (`invoice.payment_failed`). */
  readonly paymentFailed: boolean;
  readonly amountPaid: number;
  readonly currency: CurrencyCode;
}

export interface ChargeFact extends FactBase {
  readonly kind: 'charge';
  readonly chargeId: string;
  readonly status: 'succeeded' | 'pending' | 'failed';
  readonly amount: number;
  readonly amountRefunded: number;
  readonly currency: CurrencyCode;
  readonly cardCountry: string | null;
  readonly billingCountry: string | null;
}

export interface PaymentMethodFact extends FactBase {
  readonly kind: 'payment_method';
  readonly paymentMethodId: string;
  readonly cardCountry: string | null;
  readonly billingCountry: string | null;
  readonly detached: boolean;
}

export const DISPUTE_STATUSES = [
  'needs_response',
  'under_review',
  'won',
  'lost',
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'prevented',
  // Stripe's dispute appeals (the stripe-node 23 typings list them; our reference summary did not).
  'appeal_needs_response',
  'appeal_under_review',
] as const;

export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export interface DisputeFact extends FactBase {
  readonly kind: 'dispute';
  readonly disputeId: string;
  readonly chargeId: string | null;
  readonly status: DisputeStatus;
  readonly amount: number;
  readonly currency: CurrencyCode;
}

export type StripeFact =
  CustomerFact | SubscriptionFact | DiscountFact | InvoiceFact | ChargeFact | PaymentMethodFact | DisputeFact;
