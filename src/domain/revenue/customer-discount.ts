import { compareVersions, type CustomerState, type DiscountRecord } from './customer-state.js';

/** The customer-wide coupon (a discount tied to the customer, not to a subscription or item), newest first. */
export function customerDiscountIdOf(state: CustomerState): string | null {
  let newest: DiscountRecord | null = null;
  for (const record of state.discounts) {
    const discount = record.discount;
    if (discount.subscriptionId !== null || discount.subscriptionItemId !== null) continue;
    if (newest === null || compareVersions(record, newest) > 0) newest = record;
  }
  return newest?.discount.id ?? null;
}
