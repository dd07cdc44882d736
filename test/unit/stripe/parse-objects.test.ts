import { describe, expect, it } from 'vitest';
import { parseCustomerWithSubscriptions, parseSubscriptionObject } from '../../../src/sources/stripe/index.js';
import { at, fixture } from './fixtures.js';

describe('parseSubscriptionObject', () => {
  it('reads a bare subscription object like the event payload', () => {
    const result = parseSubscriptionObject(at(fixture('clover-subscription-created.json'), 'data', 'object'));
    if (!result.ok) throw result.error;
    expect(result.value.subscription).toMatchObject({ id: 'sub_1Clover', customerId: 'cus_Clover1', currency: 'eur' });
    expect(result.value.discounts.map((d) => d.id)).toEqual(['di_1CloverExpanded', 'di_1CloverById']);
  });

  it('returns a typed error with the path for invalid input', () => {
    const result = parseSubscriptionObject({ id: 'sub_1', customer: 'cus_1', status: 'active', created: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'invalid', path: 'items' });
  });

  it('takes the currency from the first price when an old payload has none on the subscription', () => {
    const raw = at(fixture('pre-basil-subscription-updated.json'), 'data', 'object');
    delete raw['currency'];
    at(raw, 'items', 'data', 0, 'price')['currency'] = 'GBP';
    const result = parseSubscriptionObject(raw);
    if (!result.ok) throw result.error;
    expect(result.value.subscription.currency).toBe('gbp');
  });
});

describe('parseCustomerWithSubscriptions', () => {
  it('reads the customer, its discount and its subscriptions, and gathers every embedded discount', () => {
    const result = parseCustomerWithSubscriptions(fixture('customer-with-subscriptions.json'));
    if (!result.ok) throw result.error;
    const customer = result.value;
    expect(customer).toMatchObject({
      customerId: 'cus_Portfolio',
      email: 'billing@portfolio.test',
      name: 'Portfolio BV',
      currency: 'usd',
      delinquent: false,
      addressCountry: 'NL',
      deleted: false,
      subscriptionsComplete: true,
    });
    expect(customer.discount).toMatchObject({ id: 'di_1CustomerWide', percentOff: 10, subscriptionId: null });
    expect(customer.subscriptions.map((s) => s.subscription.id)).toEqual(['sub_1Gold', 'sub_1Silver', 'sub_1Trial']);
    expect(customer.discounts.map((d) => d.id)).toEqual(['di_1CustomerWide', 'di_1SilverOnce']);
  });

  it('requires the subscriptions expansion', () => {
    const result = parseCustomerWithSubscriptions({ id: 'cus_1', object: 'customer' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.path).toBe('subscriptions');
  });
});
