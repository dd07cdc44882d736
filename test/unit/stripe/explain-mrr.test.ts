import { describe, expect, it } from 'vitest';
import { explainMrr, formatExplainMrrText } from '../../../src/cli/commands/explain-mrr.js';
import { StripeParseError } from '../../../src/sources/stripe/parse-error.js';
import { at, fixture } from './fixtures.js';

const T = Date.UTC(2026, 0, 1);

describe('explainMrr', () => {
  it('a customer with expanded subscriptions: per-subscription values, customer discount, totals per currency', () => {
    const report = explainMrr(fixture('customer-with-subscriptions.json'), { at: T });
    expect(report.at).toBe(T);
    expect(report.atIso).toBe('2026-01-01T00:00:00.000Z');
    expect(report.customerIds).toEqual(['cus_Portfolio']);
    expect(report.subscriptions.map((s) => [s.subscriptionId, s.total, s.reason])).toEqual([
      // 4 × 50,000/yr − 10% customer-wide discount = 180,000 / 12
      ['sub_1Gold', 15000, null],
      // 2 × 3,000/mo − 500 once (its own discount overrides the customer's)
      ['sub_1Silver', 5500, null],
      ['sub_1Trial', 0, 'status trialing'],
    ]);
    expect(report.subscriptions[1]?.nextBreakpoint).toBe(Date.UTC(2026, 0, 30));
    expect(report.totals).toEqual([{ currency: 'usd', mrr: 20500 }]);
    expect(report.warnings).toEqual([]);
  });

  it('after the once discount has covered its month the Silver subscription counts in full', () => {
    const report = explainMrr(fixture('customer-with-subscriptions.json'), { at: Date.UTC(2026, 0, 30) });
    expect(report.subscriptions.map((s) => s.total)).toEqual([15000, 6000, 0]);
    expect(report.totals).toEqual([{ currency: 'usd', mrr: 21000 }]);
  });

  it('a subscription object (the data.object of an event) and a list of subscriptions with two currencies', () => {
    const basil = at(fixture('basil-subscription-updated.json'), 'data', 'object');
    const clover = at(fixture('clover-subscription-created.json'), 'data', 'object');
    const single = explainMrr(basil, { at: T });
    expect(single.subscriptions.map((s) => s.total)).toEqual([10000]);
    expect(single.customerIds).toEqual(['cus_Basil1']);

    const list = explainMrr({ object: 'list', data: [clover, basil], has_more: false }, { at: T + 86_400_000 });
    expect(list.totals).toEqual([
      { currency: 'eur', mrr: 6500 },
      { currency: 'usd', mrr: 10000 },
    ]);
    expect(list.customerIds).toEqual(['cus_Clover1', 'cus_Basil1']);
  });

  it('the report survives JSON.stringify unchanged (it is the --json output)', () => {
    const report = explainMrr(fixture('customer-with-subscriptions.json'), { at: T });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('warns when Stripe embedded only part of the subscriptions', () => {
    const raw = fixture('customer-with-subscriptions.json');
    at(raw, 'subscriptions')['has_more'] = true;
    expect(explainMrr(raw, { at: T }).warnings).toEqual([
      'customer cus_Portfolio: subscriptions.has_more is true, only the embedded ones are counted',
    ]);
  });

  it('invalid input throws a StripeParseError naming the field', () => {
    const raw = fixture('customer-with-subscriptions.json');
    at(raw, 'subscriptions', 'data', 1, 'items', 'data', 0, 'price', 'recurring')['interval'] = 'fortnight';
    expect(() => explainMrr(raw, { at: T })).toThrow(StripeParseError);
    try {
      explainMrr(raw, { at: T });
    } catch (error) {
      expect((error as StripeParseError).path).toBe('subscriptions.data.1.items.data.0.price.recurring.interval');
    }
  });

  it('a customer without expanded subscriptions is an error at subscriptions; list items carry their index', () => {
    const customer = { id: 'cus_1', object: 'customer', email: null };
    expect(() => explainMrr(customer, { at: T })).toThrow(/^subscriptions: /);
    const basil = at(fixture('basil-subscription-updated.json'), 'data', 'object');
    delete basil['status'];
    try {
      explainMrr({ object: 'list', data: [basil] }, { at: T });
      expect.unreachable();
    } catch (error) {
      expect((error as StripeParseError).path).toBe('data.0.status');
    }
  });
});

describe('formatExplainMrrText', () => {
  it('prints each item with its rule, discounts, MRR in minor and major units, and totals', () => {
    const basil = at(fixture('basil-subscription-updated.json'), 'data', 'object');
    expect(formatExplainMrrText(explainMrr(basil, { at: T }))).toBe(
      [
        'MRR at 2026-01-01T00:00:00.000Z for customer cus_Basil1',
        '',
        'subscription sub_1Basil (usd): 10000 minor units = 100.00 USD',
        '  counted: yes',
        '  flags: metered items excluded, scheduled churn (cancels at period end)',
        '  item si_BasilA: price price_1Annual, qty 2, every 1 year',
        '    rule: 120000 × 2 = 240000 per 1 year; − 50% (subscription discount di_1BasilRepeat) 120000 = 120000; ÷ 12 ÷ 1 = 10000',
        '    discount di_1BasilRepeat (coupon HALF3, subscription): 50% → −120000',
        '    MRR: 10000 minor units = 100.00 USD',
        '  item si_BasilB: price price_1Usage, qty 1, every 1 year',
        '    rule: metered usage (usage_type=metered) is excluded from MRR → 0',
        '    MRR: 0 minor units = 0.00 USD',
        '  changes at: 2026-03-27T00:00:00.000Z (a discount ends or starts)',
        '  warning: discount di_1BasilItem unresolved: not among the known discounts (not expanded or not received); not applied',
        '  warning: discount di_1BasilForeverId unresolved: not among the known discounts (not expanded or not received); not applied',
        '',
        'total usd: 10000 minor units = 100.00 USD',
        '',
      ].join('\n'),
    );
  });

  it('prints not-counted subscriptions with the reason, and zero-decimal currencies without decimals', () => {
    const raw = fixture('customer-with-subscriptions.json');
    const text = formatExplainMrrText(explainMrr(raw, { at: T }));
    expect(text).toContain(
      'subscription sub_1Trial (usd): 0 minor units = 0.00 USD\n  counted: no (status trialing)\n',
    );
    expect(text).toContain('total usd: 20500 minor units = 205.00 USD\n');

    const yen = at(fixture('clover-subscription-created.json'), 'data', 'object');
    yen['currency'] = 'jpy';
    yen['discounts'] = [];
    at(yen, 'items', 'data', 0, 'price')['currency'] = 'jpy';
    expect(formatExplainMrrText(explainMrr(yen, { at: T }))).toContain('total jpy: 10833 minor units = 10833 JPY\n');
  });
});
