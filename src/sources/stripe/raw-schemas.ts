import { z } from 'zod';
import { DISPUTE_STATUSES, SUBSCRIPTION_STATUSES } from '../../domain/stripe/model.js';

/*
 * The Stripe fields we read, across API versions (pre-basil, basil 2025-03-31, clover 2025-09-30 and later).
 * Objects are loose: unknown fields pass through and never fail a parse. Times are Unix seconds.
 */

/** An expandable reference: the id, or the expanded object (which may be a deleted stub). */
export const expandable = z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]);
export type RawExpandable = z.infer<typeof expandable>;

export function idOf(reference: RawExpandable): string;
export function idOf(reference: RawExpandable | null | undefined): string | null;
export function idOf(reference: RawExpandable | null | undefined): string | null {
  if (reference === null || reference === undefined) return null;
  return typeof reference === 'string' ? reference : reference.id;
}

const unixSeconds = z.number().int();
const currency = z.string().min(1);
/** Stripe's `*_decimal` amounts: a decimal string of minor units, e.g. "1234.5678". */
export const decimalAmount = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number string');

const tier = z.looseObject({
  up_to: z.union([z.number().int().nonnegative(), z.literal('inf')]).nullish(),
  unit_amount: z.number().nullish(),
  unit_amount_decimal: decimalAmount.nullish(),
  flat_amount: z.number().nullish(),
  flat_amount_decimal: decimalAmount.nullish(),
});
export type RawTier = z.infer<typeof tier>;

const interval = z.enum(['day', 'week', 'month', 'year']);
const usageType = z.enum(['licensed', 'metered']);
const billingScheme = z.enum(['per_unit', 'tiered']);
const tiersMode = z.enum(['graduated', 'volume']);
const transform = z.looseObject({ divide_by: z.number().int().positive(), round: z.enum(['up', 'down']) });

export const priceSchema = z.looseObject({
  id: z.string().min(1),
  currency,
  unit_amount: z.number().nullish(),
  unit_amount_decimal: decimalAmount.nullish(),
  billing_scheme: billingScheme.nullish(),
  tiers_mode: tiersMode.nullish(),
  tiers: z.array(tier).nullish(),
  transform_quantity: transform.nullish(),
  recurring: z
    .looseObject({
      interval,
      interval_count: z.number().int().positive().nullish(),
      usage_type: usageType.nullish(),
    })
    .nullish(),
});
export type RawPrice = z.infer<typeof priceSchema>;

/** The legacy Plan object, on subscription items of accounts that predate Prices. */
export const planSchema = z.looseObject({
  id: z.string().min(1),
  currency,
  amount: z.number().nullish(),
  amount_decimal: decimalAmount.nullish(),
  interval,
  interval_count: z.number().int().positive().nullish(),
  usage_type: usageType.nullish(),
  billing_scheme: billingScheme.nullish(),
  tiers_mode: tiersMode.nullish(),
  tiers: z.array(tier).nullish(),
  transform_usage: transform.nullish(),
});
export type RawPlan = z.infer<typeof planSchema>;

export const couponSchema = z.looseObject({
  id: z.string().min(1),
  percent_off: z.number().min(0).max(100).nullish(),
  amount_off: z.number().int().nonnegative().nullish(),
  currency: currency.nullish(),
  duration: z.enum(['once', 'repeating', 'forever']),
  duration_in_months: z.number().int().positive().nullish(),
});
export type RawCoupon = z.infer<typeof couponSchema>;

/**
 * Discount: `coupon` up to basil; `source.coupon` (an id, or the expanded coupon) from clover 2025-09-30.
 * Discounts from before 2020 carry no id.
 */
export const discountSchema = z
  .looseObject({
    id: z.string().min(1).nullish(),
    coupon: couponSchema.nullish(),
    source: z.looseObject({ coupon: z.union([z.string().min(1), couponSchema]).nullish() }).nullish(),
    start: unixSeconds,
    end: unixSeconds.nullish(),
    customer: expandable.nullish(),
    subscription: expandable.nullish(),
    subscription_item: z.string().nullish(),
  })
  .refine((discount) => discount.coupon != null || discount.source?.coupon != null, {
    message: 'discount has neither coupon nor source.coupon',
    path: ['source', 'coupon'],
  });
export type RawDiscount = z.infer<typeof discountSchema>;

/** basil+ `discounts`: ids, or expanded Discount objects. */
const discountReferences = z.array(z.union([z.string().min(1), discountSchema]));

export const subscriptionItemSchema = z
  .looseObject({
    id: z.string().min(1),
    price: priceSchema.nullish(),
    plan: planSchema.nullish(),
    quantity: z.number().int().nonnegative().nullish(),
    discounts: discountReferences.nullish(),
    current_period_start: unixSeconds.nullish(),
    current_period_end: unixSeconds.nullish(),
  })
  .refine((item) => item.price != null || item.plan != null, {
    message: 'subscription item has neither price nor plan',
    path: ['price'],
  });
export type RawSubscriptionItem = z.infer<typeof subscriptionItemSchema>;

export const subscriptionSchema = z.looseObject({
  id: z.string().min(1),
  customer: expandable,
  status: z.enum(SUBSCRIPTION_STATUSES),
  currency: currency.nullish(),
  created: unixSeconds,
  items: z.looseObject({ data: z.array(subscriptionItemSchema), has_more: z.boolean().nullish() }),
  /** pre-basil singular discount. */
  discount: discountSchema.nullish(),
  discounts: discountReferences.nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: unixSeconds.nullish(),
  canceled_at: unixSeconds.nullish(),
  ended_at: unixSeconds.nullish(),
  pause_collection: z.looseObject({}).nullish(),
  trial_end: unixSeconds.nullish(),
  /** pre-basil: the period lives on the subscription. */
  current_period_start: unixSeconds.nullish(),
  current_period_end: unixSeconds.nullish(),
});
export type RawSubscription = z.infer<typeof subscriptionSchema>;

const address = z.looseObject({ country: z.string().nullish() });

const customerShape = {
  id: z.string().min(1),
  email: z.string().nullish(),
  name: z.string().nullish(),
  currency: currency.nullish(),
  delinquent: z.boolean().nullish(),
  address: address.nullish(),
  discount: discountSchema.nullish(),
  deleted: z.boolean().nullish(),
};
export const customerSchema = z.looseObject(customerShape);
export type RawCustomer = z.infer<typeof customerSchema>;

/** A customer as the list/retrieve API returns it with `expand[]=subscriptions` (`data.subscriptions` in lists). */
export const customerWithSubscriptionsSchema = z.looseObject({
  ...customerShape,
  subscriptions: z.looseObject({ data: z.array(subscriptionSchema), has_more: z.boolean().nullish() }),
});
export type RawCustomerWithSubscriptions = z.infer<typeof customerWithSubscriptionsSchema>;

export const invoiceSchema = z.looseObject({
  id: z.string().min(1),
  customer: expandable.nullish(),
  currency,
  status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']).nullish(),
  amount_paid: z.number().int(),
  /** pre-basil */
  subscription: expandable.nullish(),
  /** basil+ */
  parent: z
    .looseObject({
      subscription_details: z.looseObject({ subscription: expandable.nullish() }).nullish(),
    })
    .nullish(),
});
export type RawInvoice = z.infer<typeof invoiceSchema>;

const billingDetails = z.looseObject({ address: address.nullish() });

export const chargeSchema = z.looseObject({
  id: z.string().min(1),
  customer: expandable.nullish(),
  status: z.enum(['succeeded', 'pending', 'failed']),
  amount: z.number().int(),
  amount_refunded: z.number().int().nullish(),
  currency,
  payment_method_details: z.looseObject({ card: z.looseObject({ country: z.string().nullish() }).nullish() }).nullish(),
  billing_details: billingDetails.nullish(),
});
export type RawCharge = z.infer<typeof chargeSchema>;

export const disputeSchema = z.looseObject({
  id: z.string().min(1),
  /** The charge id, or the expanded charge (only its customer is read from it). */
  charge: z.union([z.string().min(1), z.looseObject({ id: z.string().min(1), customer: expandable.nullish() })]),
  status: z.enum(DISPUTE_STATUSES),
  amount: z.number().int(),
  currency,
});
export type RawDispute = z.infer<typeof disputeSchema>;

export const paymentMethodSchema = z.looseObject({
  id: z.string().min(1),
  customer: expandable.nullish(),
  card: z.looseObject({ country: z.string().nullish() }).nullish(),
  billing_details: billingDetails.nullish(),
});
export type RawPaymentMethod = z.infer<typeof paymentMethodSchema>;

export const eventEnvelopeSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  created: unixSeconds,
  api_version: z.string().nullish(),
  livemode: z.boolean().nullish(),
  data: z.looseObject({
    object: z.looseObject({}),
    previous_attributes: z.looseObject({}).nullish(),
  }),
});
export type RawEventEnvelope = z.infer<typeof eventEnvelopeSchema>;
