import { describe, expect, it } from 'vitest';
import { convertMinor } from '../../../src/domain/money/currency.js';
import { explainSubscriptionMrr, subscriptionMrr } from '../../../src/domain/stripe/subscription-mrr.js';
import { DAY, T0, discount, item, price, recurringPrice, subscription, table } from './builders.js';

const none = table();

function mrrOf(...args: Parameters<typeof subscription>): number {
  return subscriptionMrr(subscription(...args), none, T0).total;
}

describe('reference cases C1–C10 (reference/stripe.md §3)', () => {
  it('C1: 2,500/month × 3 seats = 7,500', () => {
    expect(mrrOf([item('si_1', recurringPrice(2500, 'month'), 3)])).toBe(7500);
  });

  it('C2: 120,000/year → 10,000; 240,000 every 2 years → 10,000; 9,000 every 3 months → 3,000', () => {
    expect(mrrOf([item('si_a', recurringPrice(120000, 'year'))])).toBe(10000);
    expect(mrrOf([item('si_b', recurringPrice(240000, 'year', 2))])).toBe(10000);
    expect(mrrOf([item('si_c', recurringPrice(9000, 'month', 3))])).toBe(3000);
  });

  it('C3: weekly 1,000 × 52/12 = 4,333; daily 100 × 365/12 = 3,042 (ours)', () => {
    expect(mrrOf([item('si_w', recurringPrice(1000, 'week'))])).toBe(4333);
    expect(mrrOf([item('si_d', recurringPrice(100, 'day'))])).toBe(3042);
  });

  it('C4: 8 units over tiers [≤5 @1,000, rest @800]: graduated 7,400, volume 6,400', () => {
    const tiers = [
      { upTo: 5, unitAmount: 1000, flatAmount: null },
      { upTo: null, unitAmount: 800, flatAmount: null },
    ];
    const graduated = price({ unitAmount: null, billingScheme: 'tiered', tiersMode: 'graduated', tiers });
    const volume = price({ unitAmount: null, billingScheme: 'tiered', tiersMode: 'volume', tiers });
    expect(mrrOf([item('si_g', graduated, 8)])).toBe(7400);
    expect(mrrOf([item('si_v', volume, 8)])).toBe(6400);
  });

  it('C4: flat amounts of the tiers the quantity reaches are included', () => {
    const tiers = [
      { upTo: 5, unitAmount: 1000, flatAmount: 200 },
      { upTo: null, unitAmount: 800, flatAmount: 300 },
    ];
    const graduated = price({ unitAmount: null, billingScheme: 'tiered', tiersMode: 'graduated', tiers });
    const volume = price({ unitAmount: null, billingScheme: 'tiered', tiersMode: 'volume', tiers });
    expect(mrrOf([item('si_g', graduated, 8)])).toBe(7400 + 200 + 300);
    expect(mrrOf([item('si_g', graduated, 3)])).toBe(3000 + 200);
    expect(mrrOf([item('si_v', volume, 8)])).toBe(6400 + 300);
  });

  it('C5a: 5,000/month with 20% forever = 4,000', () => {
    const d = discount({ id: 'di_20', percentOff: 20, duration: 'forever' });
    const snapshot = subscription([item('si_1', recurringPrice(5000, 'month'))], { discountIds: ['di_20'] });
    const result = subscriptionMrr(snapshot, table(d), T0);
    expect(result.total).toBe(4000);
    expect(result.nextBreakpoint).toBeNull();
  });

  it('C5b: 10,000/month with 50% for 3 months = 5,000 until Discount.end, then 10,000', () => {
    const start = T0 - 10 * DAY;
    const end = Date.UTC(2026, 3, 5);
    const d = discount({ id: 'di_50', percentOff: 50, duration: 'repeating', durationInMonths: 3, start, end });
    const snapshot = subscription([item('si_1', recurringPrice(10000, 'month'))], { discountIds: ['di_50'] });

    const during = subscriptionMrr(snapshot, table(d), T0);
    expect(during.total).toBe(5000);
    expect(during.nextBreakpoint).toBe(end);

    const justBefore = subscriptionMrr(snapshot, table(d), end - 1);
    expect(justBefore.total).toBe(5000);

    const after = subscriptionMrr(snapshot, table(d), end);
    expect(after.total).toBe(10000);
    expect(after.nextBreakpoint).toBeNull();
  });

  it('C5c: 12,000/year with 10% active = 900', () => {
    const d = discount({ id: 'di_10', percentOff: 10, duration: 'forever' });
    const snapshot = subscription([item('si_1', recurringPrice(12000, 'year'))], { discountIds: ['di_10'] });
    expect(subscriptionMrr(snapshot, table(d), T0).total).toBe(900);
  });

  it('C6: trialing counts 0; the same subscription active counts 4,900', () => {
    const items = [item('si_1', recurringPrice(4900, 'month'))];
    const trialing = subscriptionMrr(subscription(items, { status: 'trialing', trialEnd: T0 + 7 * DAY }), none, T0);
    expect(trialing).toMatchObject({ total: 0, counted: false, reason: 'status trialing' });
    expect(subscriptionMrr(subscription(items), none, T0)).toMatchObject({ total: 4900, counted: true, reason: null });
  });

  it('C7: past_due keeps counting 20,000 (flagged); unpaid and canceled count 0', () => {
    const items = [item('si_1', recurringPrice(20000, 'month'))];
    const pastDue = subscriptionMrr(subscription(items, { status: 'past_due' }), none, T0);
    expect(pastDue.total).toBe(20000);
    expect(pastDue.flags.pastDue).toBe(true);
    expect(subscriptionMrr(subscription(items, { status: 'unpaid' }), none, T0)).toMatchObject({
      total: 0,
      reason: 'status unpaid',
    });
    expect(subscriptionMrr(subscription(items, { status: 'canceled' }), none, T0)).toMatchObject({
      total: 0,
      reason: 'status canceled',
    });
  });

  it('C8: cancel_at_period_end keeps counting 20,000 and flags scheduled churn', () => {
    const snapshot = subscription([item('si_1', recurringPrice(240000, 'year'))], {
      cancelAtPeriodEnd: true,
      canceledAt: T0,
    });
    const result = subscriptionMrr(snapshot, none, T0);
    expect(result.total).toBe(20000);
    expect(result.flags.scheduledChurn).toBe(true);
    expect(subscriptionMrr(subscription(snapshot.items), none, T0).flags.scheduledChurn).toBe(false);
  });

  it('a future cancel_at also flags scheduled churn while the subscription keeps counting', () => {
    const items = [item('si_1', recurringPrice(20000, 'month'))];
    const scheduled = subscriptionMrr(subscription(items, { cancelAt: T0 + 10 * DAY }), none, T0);
    expect(scheduled).toMatchObject({ total: 20000, flags: { scheduledChurn: true } });
    const canceled = subscriptionMrr(subscription(items, { status: 'canceled', cancelAtPeriodEnd: true }), none, T0);
    expect(canceled).toMatchObject({ total: 0, flags: { scheduledChurn: false } });
  });

  it('C9: EUR 9,900 licensed + metered item → 9,900 EUR (metered 0, flagged); 10,890 USD at 1.10', () => {
    const metered = price({
      id: 'price_metered',
      currency: 'eur',
      unitAmount: 1,
      recurring: { interval: 'month', intervalCount: 1, usageType: 'metered' },
    });
    const snapshot = subscription(
      [item('si_lic', recurringPrice(9900, 'month', 1, { currency: 'eur' })), item('si_met', metered, 120000)],
      { currency: 'eur' },
    );
    const result = explainSubscriptionMrr(snapshot, none, T0);
    expect(result.total).toBe(9900);
    expect(result.currency).toBe('eur');
    expect(result.flags.metered).toBe(true);
    expect(result.items.map((i) => i.mrr)).toEqual([9900, 0]);
    expect(result.items[1]?.excludedReason).toContain('metered');
    expect(convertMinor(result.total, 'eur', 'usd', { eur: 1.1 })).toBe(10890);
  });

  it('C10: 4× Gold $500/yr = 16,667; 2× Silver $30/mo = 6,000; 3× Gold $50/mo = 15,000', () => {
    expect(mrrOf([item('si_gold', recurringPrice(50000, 'year'), 4)])).toBe(16667);
    expect(mrrOf([item('si_silver', recurringPrice(3000, 'month'), 2)])).toBe(6000);
    expect(mrrOf([item('si_gold_m', recurringPrice(5000, 'month'), 3)])).toBe(15000);
  });

  it('Stripe glossary portfolio: 100 × 10,000/mo + 50 × 60,000/yr = 1,250,000', () => {
    let total = 0;
    for (let i = 0; i < 100; i++)
      total += mrrOf([item(`si_m${i}`, recurringPrice(10000, 'month'))], { id: `sub_m${i}` });
    for (let i = 0; i < 50; i++) total += mrrOf([item(`si_y${i}`, recurringPrice(60000, 'year'))], { id: `sub_y${i}` });
    expect(total).toBe(1250000);
  });
});

describe('amounts', () => {
  it('transform_quantity: 25 units in packs of 10 at 1,000 a pack: rounded up 3,000, down 2,000', () => {
    const up = recurringPrice(1000, 'month', 1, { transformQuantity: { divideBy: 10, round: 'up' } });
    const down = recurringPrice(1000, 'month', 1, { transformQuantity: { divideBy: 10, round: 'down' } });
    expect(mrrOf([item('si_up', up, 25)])).toBe(3000);
    expect(mrrOf([item('si_down', down, 25)])).toBe(2000);
  });

  it('unit_amount_decimal 12.345 × 100 = 1,234.5 → 1,235 (period amount rounded half up like an invoice line)', () => {
    expect(mrrOf([item('si_dec', recurringPrice(12.345, 'month'), 100)])).toBe(1235);
  });

  it('zero-decimal JPY: ¥1,000/month → 1,000; ¥10,000/year → 833', () => {
    const jpy = (amount: number, interval: 'month' | 'year') =>
      recurringPrice(amount, interval, 1, { currency: 'jpy' });
    expect(mrrOf([item('si_m', jpy(1000, 'month'))], { currency: 'jpy' })).toBe(1000);
    expect(mrrOf([item('si_y', jpy(10000, 'year'))], { currency: 'jpy' })).toBe(833);
    expect(convertMinor(833, 'jpy', 'usd', { jpy: 0.0067 })).toBe(558);
  });

  it('quantity 0 counts 0', () => {
    expect(mrrOf([item('si_1', recurringPrice(5000, 'month'), 0)])).toBe(0);
  });

  it('a tiered price without its tiers counts 0 for that item and warns', () => {
    const tiered = price({ id: 'price_tiered', unitAmount: null, billingScheme: 'tiered', tiersMode: 'volume' });
    const result = subscriptionMrr(
      subscription([item('si_t', tiered, 3), item('si_ok', recurringPrice(1000, 'month'))]),
      none,
      T0,
    );
    expect(result.total).toBe(1000);
    expect(result.warnings).toEqual([
      'item si_t: price price_tiered is tiered but its tiers were not included (expand tiers)',
    ]);
  });

  it('pause_collection counts 0 whatever the status, and is flagged', () => {
    const result = subscriptionMrr(
      subscription([item('si_1', recurringPrice(5000, 'month'))], { pauseCollection: true }),
      none,
      T0,
    );
    expect(result).toMatchObject({ total: 0, counted: false, reason: 'pause_collection set' });
    expect(result.flags.pauseCollection).toBe(true);
  });

  it('incomplete, incomplete_expired and paused count 0', () => {
    for (const status of ['incomplete', 'incomplete_expired', 'paused'] as const) {
      expect(mrrOf([item('si_1', recurringPrice(5000, 'month'))], { status })).toBe(0);
    }
  });
});

describe('discounts', () => {
  it('amount_off 500 USD per monthly invoice: 3,000 → 2,500', () => {
    const d = discount({ id: 'di_500', amountOff: 500, amountOffCurrency: 'usd' });
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'))], { discountIds: ['di_500'] });
    expect(subscriptionMrr(snapshot, table(d), T0).total).toBe(2500);
  });

  it('amount_off on a yearly price is per yearly invoice: (120,000 − 12,000) / 12 = 9,000', () => {
    const d = discount({ id: 'di_off', amountOff: 12000, amountOffCurrency: 'usd' });
    const snapshot = subscription([item('si_1', recurringPrice(120000, 'year'))], { discountIds: ['di_off'] });
    expect(subscriptionMrr(snapshot, table(d), T0).total).toBe(9000);
  });

  it('amount_off larger than the amount clamps the item at 0', () => {
    const d = discount({ id: 'di_big', amountOff: 10000, amountOffCurrency: 'usd' });
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'))], { discountIds: ['di_big'] });
    expect(subscriptionMrr(snapshot, table(d), T0).total).toBe(0);
  });

  it('a subscription-level amount_off is split by largest remainder: 100 over three 1,000 items → 34/33/33', () => {
    const d = discount({ id: 'di_100', amountOff: 100, amountOffCurrency: 'usd' });
    const snapshot = subscription(
      [1, 2, 3].map((n) => item(`si_${n}`, recurringPrice(1000, 'month'))),
      { discountIds: ['di_100'] },
    );
    const result = explainSubscriptionMrr(snapshot, table(d), T0);
    expect(result.items.map((i) => i.discountsApplied[0]?.amount)).toEqual([34, 33, 33]);
    expect(result.items.map((i) => i.mrr)).toEqual([966, 967, 967]);
    expect(result.total).toBe(2900);
  });

  it('the split is proportional to period amounts and skips metered items', () => {
    const d = discount({ id: 'di_1000', amountOff: 1000, amountOffCurrency: 'usd' });
    const metered = price({ recurring: { interval: 'month', intervalCount: 1, usageType: 'metered' } });
    const snapshot = subscription(
      [
        item('si_a', recurringPrice(3000, 'month')),
        item('si_m', metered, 50),
        item('si_b', recurringPrice(1000, 'month')),
      ],
      { discountIds: ['di_1000'] },
    );
    const result = explainSubscriptionMrr(snapshot, table(d), T0);
    expect(result.items.map((i) => i.mrr)).toEqual([2250, 0, 750]);
    expect(result.total).toBe(3000);
  });

  it('item-level discounts apply before subscription-level ones', () => {
    const itemHalf = discount({ id: 'di_item', percentOff: 50, subscriptionItemId: 'si_a' });
    const subOff = discount({ id: 'di_sub', amountOff: 1000, amountOffCurrency: 'usd' });
    const snapshot = subscription(
      [item('si_a', recurringPrice(4000, 'month'), 1, ['di_item']), item('si_b', recurringPrice(2000, 'month'))],
      { discountIds: ['di_sub'] },
    );
    const result = explainSubscriptionMrr(snapshot, table(itemHalf, subOff), T0);
    // si_a: 4,000 − 50% = 2,000; then 1,000 off is split 2,000 : 2,000 → 500 each.
    expect(result.items.map((i) => i.mrr)).toEqual([1500, 1500]);
    expect(result.items[0]?.discountsApplied).toEqual([
      { id: 'di_item', couponId: 'co_di_item', level: 'item', off: '50%', amount: 2000 },
      { id: 'di_sub', couponId: 'co_di_sub', level: 'subscription', off: '1000 usd', amount: 500 },
    ]);
  });

  it('amount_off in another currency is not applied and warns', () => {
    const d = discount({ id: 'di_eur', amountOff: 500, amountOffCurrency: 'eur' });
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'))], { discountIds: ['di_eur'] });
    const result = subscriptionMrr(snapshot, table(d), T0);
    expect(result.total).toBe(3000);
    expect(result.warnings).toEqual([
      'subscription sub_test: discount di_eur takes amount_off in eur but bills in usd; not applied',
    ]);
  });

  it('an item-level amount_off in another currency warns naming the item', () => {
    const d = discount({ id: 'di_eur', amountOff: 500, amountOffCurrency: 'eur' });
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'), 1, ['di_eur'])]);
    const result = subscriptionMrr(snapshot, table(d), T0);
    expect(result.total).toBe(3000);
    expect(result.warnings).toEqual([
      'item si_1: discount di_eur takes amount_off in eur but bills in usd; not applied',
    ]);
  });

  it('a once discount covers one billing interval from its start: 50% on a monthly 10,000 until start + 1 month', () => {
    const start = Date.UTC(2026, 0, 31);
    const d = discount({ id: 'di_once', percentOff: 50, duration: 'once', start });
    const snapshot = subscription([item('si_1', recurringPrice(10000, 'month'))], { discountIds: ['di_once'] });
    const firstInvoice = subscriptionMrr(snapshot, table(d), start + DAY);
    expect(firstInvoice.total).toBe(5000);
    // Jan 31 + 1 month is clamped to Feb 28.
    expect(firstInvoice.nextBreakpoint).toBe(Date.UTC(2026, 1, 28));
    expect(subscriptionMrr(snapshot, table(d), Date.UTC(2026, 1, 28)).total).toBe(10000);
  });

  it('a once discount on a yearly price lasts a year', () => {
    const d = discount({ id: 'di_once', percentOff: 50, duration: 'once', start: T0 });
    const snapshot = subscription([item('si_1', recurringPrice(120000, 'year'))], { discountIds: ['di_once'] });
    expect(subscriptionMrr(snapshot, table(d), T0 + 300 * DAY)).toMatchObject({
      total: 5000,
      nextBreakpoint: Date.UTC(2027, 0, 15),
    });
  });

  it('an unknown discount id is reported unresolved and not applied', () => {
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'))], { discountIds: ['di_missing'] });
    const result = subscriptionMrr(snapshot, none, T0);
    expect(result.total).toBe(3000);
    expect(result.warnings).toEqual([
      'discount di_missing unresolved: not among the known discounts (not expanded or not received); not applied',
    ]);
  });

  it('a discount whose coupon value is unknown (clover coupon id) is reported and not applied', () => {
    const d = discount({ id: 'di_co', couponId: 'LOYALTY' });
    const snapshot = subscription([item('si_1', recurringPrice(3000, 'month'))], { discountIds: ['di_co'] });
    const result = subscriptionMrr(snapshot, table(d), T0);
    expect(result.total).toBe(3000);
    expect(result.warnings).toEqual([
      'discount di_co unresolved: coupon LOYALTY was not expanded, its percent/amount off is unknown; not applied',
    ]);
  });

  it('a discount in the table but not on the snapshot does not apply', () => {
    const d = discount({ id: 'di_20', percentOff: 20 });
    expect(subscriptionMrr(subscription([item('si_1', recurringPrice(5000, 'month'))]), table(d), T0).total).toBe(5000);
  });

  it('a discount that starts later applies from its start, which is the next breakpoint', () => {
    const start = T0 + 5 * DAY;
    const d = discount({ id: 'di_later', percentOff: 20, start });
    const snapshot = subscription([item('si_1', recurringPrice(5000, 'month'))], { discountIds: ['di_later'] });
    expect(subscriptionMrr(snapshot, table(d), T0)).toMatchObject({ total: 5000, nextBreakpoint: start });
    expect(subscriptionMrr(snapshot, table(d), start)).toMatchObject({ total: 4000, nextBreakpoint: null });
  });

  it('the next breakpoint is the earliest end among the active discounts', () => {
    const early = discount({ id: 'di_a', percentOff: 10, duration: 'repeating', end: T0 + 10 * DAY });
    const late = discount({ id: 'di_b', percentOff: 10, duration: 'repeating', end: T0 + 40 * DAY });
    const snapshot = subscription([item('si_1', recurringPrice(10000, 'month'))], { discountIds: ['di_b', 'di_a'] });
    const result = subscriptionMrr(snapshot, table(early, late), T0);
    // 10,000 − 10% = 9,000; − 10% = 8,100 (each discount on what the previous left)
    expect(result).toMatchObject({ total: 8100, nextBreakpoint: T0 + 10 * DAY });
  });

  it('a customer-level discount applies only to subscriptions without their own discount', () => {
    const customerWide = discount({ id: 'di_cus', percentOff: 10, subscriptionId: null });
    const own = discount({ id: 'di_own', amountOff: 100, amountOffCurrency: 'usd' });
    const items = [item('si_1', recurringPrice(5000, 'month'))];
    const lookup = table(customerWide, own);
    expect(subscriptionMrr(subscription(items), lookup, T0, 'di_cus').total).toBe(4500);
    expect(subscriptionMrr(subscription(items, { discountIds: ['di_own'] }), lookup, T0, 'di_cus').total).toBe(4900);
  });

  it('a lookup function gives the same result as a table', () => {
    const d = discount({ id: 'di_20', percentOff: 20 });
    const snapshot = subscription([item('si_1', recurringPrice(5000, 'month'))], { discountIds: ['di_20'] });
    const byTable = subscriptionMrr(snapshot, table(d), T0);
    const byFunction = subscriptionMrr(snapshot, (id) => (id === 'di_20' ? d : undefined), T0);
    expect(byFunction).toEqual(byTable);
    expect(byFunction.total).toBe(4000);
  });

  it('a not-counted subscription ignores its discounts and has no breakpoint', () => {
    const d = discount({ id: 'di_50', percentOff: 50, duration: 'repeating', end: T0 + 10 * DAY });
    const snapshot = subscription([item('si_1', recurringPrice(10000, 'month'))], {
      status: 'trialing',
      discountIds: ['di_50'],
    });
    expect(subscriptionMrr(snapshot, table(d), T0)).toMatchObject({ total: 0, nextBreakpoint: null, warnings: [] });
  });
});

describe('explainSubscriptionMrr', () => {
  it('explains each item: factor, discounts and the rule in words', () => {
    const d = discount({ id: 'di_20', percentOff: 20 });
    const snapshot = subscription([item('si_w', recurringPrice(1000, 'week', 1, { id: 'price_weekly' }), 5)], {
      discountIds: ['di_20'],
    });
    const [explained] = explainSubscriptionMrr(snapshot, table(d), T0).items;
    expect(explained).toEqual({
      itemId: 'si_w',
      priceId: 'price_weekly',
      quantity: 5,
      interval: 'week',
      intervalCount: 1,
      periodAmount: 5000,
      discountsApplied: [{ id: 'di_20', couponId: 'co_di_20', level: 'subscription', off: '20%', amount: 1000 }],
      periodAmountAfterDiscounts: 4000,
      factor: '× 52/12 ÷ 1',
      mrr: 17333,
      rule: '1000 × 5 = 5000 per 1 week; − 20% (subscription discount di_20) 1000 = 4000; × 52/12 ÷ 1 = 17333',
      excludedReason: null,
    });
  });

  it('explains tiers, excluded items and not-counted subscriptions', () => {
    const tiers = [
      { upTo: 5, unitAmount: 1000, flatAmount: null },
      { upTo: null, unitAmount: 800, flatAmount: 500 },
    ];
    const graduated = price({
      id: 'price_g',
      unitAmount: null,
      billingScheme: 'tiered',
      tiersMode: 'graduated',
      tiers,
    });
    const metered = price({ id: 'price_m', recurring: { interval: 'month', intervalCount: 1, usageType: 'metered' } });
    const counted = explainSubscriptionMrr(subscription([item('si_g', graduated, 8), item('si_m', metered)]), none, T0);
    expect(counted.items.map((i) => i.rule)).toEqual([
      'graduated tiers: 5 × 1000 + 3 × 800 + flat 500 = 7900 per 1 month; ÷ 1 = 7900',
      'metered usage (usage_type=metered) is excluded from MRR → 0',
    ]);
    const trialing = explainSubscriptionMrr(
      subscription([item('si_g', graduated, 8)], { status: 'trialing' }),
      none,
      T0,
    );
    expect(trialing.items[0]).toMatchObject({ periodAmount: 7900, mrr: 0, excludedReason: 'status trialing' });
  });
});
