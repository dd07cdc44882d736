import { normalizeCurrency } from '../../domain/money/currency.js';
import type { Discount, Price, SubscriptionItem, SubscriptionSnapshot } from '../../domain/stripe/model.js';
import { fromUnixSeconds, type EpochMs } from '../../domain/time.js';
import { normalizeDiscount, type DiscountContext } from './normalize-discount.js';
import { normalizePlan, normalizePrice } from './normalize-price.js';
import { idOf, type RawDiscount, type RawSubscription, type RawSubscriptionItem } from './raw-schemas.js';

export interface NormalizedSubscription {
  readonly subscription: SubscriptionSnapshot;
  /** Discount objects embedded in the payload (pre-basil `discount`, expanded `discounts` on it or its items). */
  readonly discounts: readonly Discount[];
}

/**
 * Subscription (any API version) → snapshot + embedded discounts.
 * - Periods: basil+ items carry `current_period_*`; before basil they are on the subscription, copied to each item.
 * - Discounts: basil+ `discounts` arrays (ids or expanded objects) on the subscription and its items; pre-basil
 *   singular `discount` becomes the one subscription-level id.
 * - `quantity` absent (metered items) counts as 1; `currency` absent (old versions) is the first item's.
 */
export function normalizeSubscription(raw: RawSubscription): NormalizedSubscription {
  const customerId = idOf(raw.customer);
  const context: DiscountContext = { customerId, subscriptionId: raw.id };
  const discounts: Discount[] = [];

  const discountIds: string[] = [];
  if (raw.discount) addDiscount(normalizeDiscount(raw.discount, context), discountIds, discounts);
  for (const reference of raw.discounts ?? []) addReference(reference, context, discountIds, discounts);

  const items = raw.items.data.map((item) => normalizeItem(item, raw, context, discounts));
  const currency = raw.currency ?? items[0]?.price.currency ?? '';
  return {
    subscription: {
      id: raw.id,
      customerId,
      status: raw.status,
      currency: normalizeCurrency(currency),
      created: fromUnixSeconds(raw.created),
      items,
      discountIds,
      cancelAtPeriodEnd: raw.cancel_at_period_end ?? false,
      cancelAt: time(raw.cancel_at),
      canceledAt: time(raw.canceled_at),
      endedAt: time(raw.ended_at),
      pauseCollection: raw.pause_collection !== null && raw.pause_collection !== undefined,
      trialEnd: time(raw.trial_end),
    },
    discounts,
  };
}

function normalizeItem(
  raw: RawSubscriptionItem,
  subscription: RawSubscription,
  context: DiscountContext,
  discounts: Discount[],
): SubscriptionItem {
  const discountIds: string[] = [];
  for (const reference of raw.discounts ?? []) addReference(reference, context, discountIds, discounts);
  return {
    id: raw.id,
    price: priceOf(raw),
    quantity: raw.quantity ?? 1,
    discountIds,
    currentPeriodStart: time(raw.current_period_start ?? subscription.current_period_start),
    currentPeriodEnd: time(raw.current_period_end ?? subscription.current_period_end),
  };
}

function priceOf(raw: RawSubscriptionItem): Price {
  if (raw.price) return normalizePrice(raw.price);
  // The schema guarantees a plan when there is no price.
  if (raw.plan) return normalizePlan(raw.plan);
  throw new Error(`subscription item ${raw.id} has neither price nor plan`);
}

function addReference(
  reference: string | RawDiscount,
  context: DiscountContext,
  ids: string[],
  discounts: Discount[],
): void {
  if (typeof reference === 'string') {
    if (!ids.includes(reference)) ids.push(reference);
    return;
  }
  addDiscount(normalizeDiscount(reference, context), ids, discounts);
}

function addDiscount(discount: Discount, ids: string[], discounts: Discount[]): void {
  if (!ids.includes(discount.id)) ids.push(discount.id);
  if (!discounts.some((known) => known.id === discount.id)) discounts.push(discount);
}

function time(seconds: number | null | undefined): EpochMs | null {
  return seconds === null || seconds === undefined ? null : fromUnixSeconds(seconds);
}
