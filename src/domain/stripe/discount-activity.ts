import type { EpochMs } from '../time.js';
import { addBillingInterval } from './billing-interval.js';
import type { Discount, Price } from './model.js';

/**
 * A coupon is resolved when its value is known. The parsers keep a discount whose coupon arrived as a bare id
 * (clover's `discount.source.coupon` not expanded) with both percent_off and amount_off null: such a discount is
 * reported by the MRR rules as unresolved and never applied, rather than guessed.
 */
export function isCouponResolved(discount: Discount): boolean {
  return discount.percentOff !== null || discount.amountOff !== null;
}

/**
 * When a discount stops applying:
 * - repeating: Stripe's Discount.end (start + duration_in_months);
 * - forever: never (null), until the discount is removed from the subscription;
 * - once: Stripe sets no end; the discount covers the first invoice only, so we treat it as active from its start
 *   for one billing interval of the price it applies to (`billing`), then inactive. Without a recurring price it
 *   never applies past its start.
 * An explicit `end` always wins.
 */
export function discountEffectiveEnd(discount: Discount, billing: Price['recurring']): EpochMs | null {
  if (discount.end !== null) return discount.end;
  if (discount.duration !== 'once') return null;
  return billing === null
    ? discount.start
    : addBillingInterval(discount.start, billing.interval, billing.intervalCount);
}

/** Active at `at`: started (start ≤ at) and not ended (end null or at < end). Presence on the snapshot is the caller's. */
export function isDiscountActiveAt(discount: Discount, effectiveEnd: EpochMs | null, at: EpochMs): boolean {
  return discount.start <= at && (effectiveEnd === null || at < effectiveEnd);
}
