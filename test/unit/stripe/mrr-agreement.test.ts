import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Discount, Price, SubscriptionSnapshot } from '../../../src/domain/stripe/model.js';
import { explainSubscriptionMrr, subscriptionMrr } from '../../../src/domain/stripe/subscription-mrr.js';
import { DAY, T0, discount, item, price, subscription, table } from './builders.js';

const priceArb: fc.Arbitrary<Price> = fc
  .record({
    unitAmount: fc.oneof(fc.integer({ min: 0, max: 500_000 }), fc.constant(null)),
    interval: fc.constantFrom('day' as const, 'week' as const, 'month' as const, 'year' as const),
    intervalCount: fc.integer({ min: 1, max: 3 }),
    usageType: fc.constantFrom('licensed' as const, 'licensed' as const, 'metered' as const),
    tiered: fc.boolean(),
    currency: fc.constantFrom('usd', 'usd', 'usd', 'eur'),
  })
  .map(({ unitAmount, interval, intervalCount, usageType, tiered, currency }) =>
    price({
      currency,
      unitAmount: tiered ? null : unitAmount,
      billingScheme: tiered ? 'tiered' : 'per_unit',
      tiersMode: tiered ? 'graduated' : null,
      tiers: tiered
        ? [
            { upTo: 3, unitAmount: unitAmount ?? 100, flatAmount: null },
            { upTo: null, unitAmount: 50, flatAmount: 10 },
          ]
        : null,
      recurring: { interval, intervalCount, usageType },
    }),
  );

const discountArb = (id: string): fc.Arbitrary<Discount> =>
  fc
    .record({
      percent: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constant(null)),
      amountOff: fc.integer({ min: 1, max: 20_000 }),
      currency: fc.constantFrom('usd', 'eur'),
      duration: fc.constantFrom('once' as const, 'repeating' as const, 'forever' as const),
      startOffsetDays: fc.integer({ min: -60, max: 10 }),
      lengthDays: fc.integer({ min: 1, max: 120 }),
    })
    .map(({ percent, amountOff, currency, duration, startOffsetDays, lengthDays }) =>
      discount({
        id,
        percentOff: percent,
        amountOff: percent === null ? amountOff : null,
        amountOffCurrency: percent === null ? currency : null,
        duration,
        start: T0 + startOffsetDays * DAY,
        end: duration === 'repeating' ? T0 + (startOffsetDays + lengthDays) * DAY : null,
      }),
    );

const caseArb: fc.Arbitrary<{ snapshot: SubscriptionSnapshot; discounts: Map<string, Discount>; at: number }> = fc
  .record({
    prices: fc.array(priceArb, { minLength: 1, maxLength: 4 }),
    quantities: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 4, maxLength: 4 }),
    discounts: fc.tuple(discountArb('di_a'), discountArb('di_b'), discountArb('di_c')),
    subscriptionDiscountIds: fc.subarray(['di_a', 'di_b', 'di_missing']),
    itemDiscountIds: fc.subarray(['di_c', 'di_a']),
    status: fc.constantFrom('active' as const, 'active' as const, 'past_due' as const, 'trialing' as const),
    atOffsetDays: fc.integer({ min: -5, max: 90 }),
  })
  .map(({ prices, quantities, discounts, subscriptionDiscountIds, itemDiscountIds, status, atOffsetDays }) => ({
    snapshot: subscription(
      prices.map((p, i) => item(`si_${i}`, p, quantities[i] ?? 1, i === 0 ? itemDiscountIds : [])),
      { status, discountIds: subscriptionDiscountIds },
    ),
    discounts: table(...discounts),
    at: T0 + atOffsetDays * DAY,
  }));

describe('subscriptionMrr and explainSubscriptionMrr agree', () => {
  it('on every generated subscription: same numbers, and the items add up to the total', () => {
    fc.assert(
      fc.property(caseArb, ({ snapshot, discounts, at }) => {
        const fast = subscriptionMrr(snapshot, discounts, at);
        const { items, ...explained } = explainSubscriptionMrr(snapshot, discounts, at);
        expect(explained).toEqual(fast);
        expect(items.reduce((sum, i) => sum + i.mrr, 0)).toBe(fast.total);
        expect(fast.total).toBeGreaterThanOrEqual(0);
        for (const i of items) expect(i.mrr).toBeGreaterThanOrEqual(0);
        if (fast.nextBreakpoint !== null) expect(fast.nextBreakpoint).toBeGreaterThan(at);
      }),
      { numRuns: 500, seed: 20260115 },
    );
  });

  it('the value right before the next breakpoint equals the value now', () => {
    fc.assert(
      fc.property(caseArb, ({ snapshot, discounts, at }) => {
        const now = subscriptionMrr(snapshot, discounts, at);
        if (now.nextBreakpoint === null) return;
        expect(subscriptionMrr(snapshot, discounts, now.nextBreakpoint - 1).total).toBe(now.total);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
