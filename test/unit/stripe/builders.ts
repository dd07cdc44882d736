import type { Discount, Price, SubscriptionItem, SubscriptionSnapshot } from '../../../src/domain/stripe/model.js';
import type { EpochMs } from '../../../src/domain/time.js';

/** 2026-01-15T00:00:00Z */
export const T0: EpochMs = Date.UTC(2026, 0, 15);
export const DAY = 86_400_000;

export function price(overrides: Partial<Price> = {}): Price {
  return {
    id: 'price_test',
    currency: 'usd',
    unitAmount: 1000,
    billingScheme: 'per_unit',
    tiersMode: null,
    tiers: null,
    transformQuantity: null,
    recurring: { interval: 'month', intervalCount: 1, usageType: 'licensed' },
    ...overrides,
  };
}

export function recurringPrice(
  unitAmount: number | null,
  interval: 'day' | 'week' | 'month' | 'year',
  intervalCount = 1,
  overrides: Partial<Price> = {},
): Price {
  return price({ unitAmount, recurring: { interval, intervalCount, usageType: 'licensed' }, ...overrides });
}

export function item(id: string, itemPrice: Price, quantity = 1, discountIds: string[] = []): SubscriptionItem {
  return { id, price: itemPrice, quantity, discountIds, currentPeriodStart: null, currentPeriodEnd: null };
}

export function subscription(
  items: readonly SubscriptionItem[],
  overrides: Partial<SubscriptionSnapshot> = {},
): SubscriptionSnapshot {
  return {
    id: 'sub_test',
    customerId: 'cus_test',
    status: 'active',
    currency: 'usd',
    created: T0 - 30 * DAY,
    items,
    discountIds: [],
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    pauseCollection: false,
    trialEnd: null,
    ...overrides,
  };
}

export function discount(overrides: Partial<Discount> & Pick<Discount, 'id'>): Discount {
  return {
    couponId: `co_${overrides.id}`,
    percentOff: null,
    amountOff: null,
    amountOffCurrency: null,
    duration: 'forever',
    durationInMonths: null,
    start: T0 - DAY,
    end: null,
    customerId: 'cus_test',
    subscriptionId: 'sub_test',
    subscriptionItemId: null,
    ...overrides,
  };
}

export function table(...discounts: Discount[]): Map<string, Discount> {
  return new Map(discounts.map((d) => [d.id, d]));
}
