import { normalizeCurrency } from '../../domain/money/currency.js';
import type { Discount } from '../../domain/stripe/model.js';
import { fromUnixSeconds } from '../../domain/time.js';
import { idOf, type RawCoupon, type RawDiscount } from './raw-schemas.js';

/** Where a discount was found, to fill what older payloads leave out. */
export interface DiscountContext {
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
}

/**
 * Discount (any API version) → domain Discount.
 * - The coupon is `coupon` (up to basil) or `source.coupon` (clover). A coupon given only as an id (not expanded)
 *   is kept with percentOff and amountOff both null: the MRR rules report it as unresolved instead of guessing.
 *   Its duration is then inferred from `end` (set → repeating, else forever); the MRR rules do not apply it anyway.
 * - Discounts created before Stripe gave them ids get a deterministic id `<coupon>:<subscription or customer>`.
 */
export function normalizeDiscount(raw: RawDiscount, context: DiscountContext): Discount {
  const coupon: RawCoupon | string | null = raw.coupon ?? raw.source?.coupon ?? null;
  const couponId = coupon === null ? '' : typeof coupon === 'string' ? coupon : coupon.id;
  const subscriptionId = idOf(raw.subscription) ?? context.subscriptionId;
  const customerId = idOf(raw.customer) ?? context.customerId;
  const end = raw.end === null || raw.end === undefined ? null : fromUnixSeconds(raw.end);
  const expanded = coupon !== null && typeof coupon !== 'string' ? coupon : null;
  return {
    id: raw.id ?? `${couponId}:${subscriptionId ?? customerId ?? ''}`,
    couponId,
    percentOff: expanded?.percent_off ?? null,
    amountOff: expanded?.amount_off ?? null,
    amountOffCurrency:
      expanded?.currency === null || expanded?.currency === undefined ? null : normalizeCurrency(expanded.currency),
    duration: expanded?.duration ?? (end === null ? 'forever' : 'repeating'),
    durationInMonths: expanded?.duration_in_months ?? null,
    start: fromUnixSeconds(raw.start),
    end,
    customerId,
    subscriptionId,
    subscriptionItemId: raw.subscription_item ?? null,
  };
}
