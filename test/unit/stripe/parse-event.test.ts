import { describe, expect, it } from 'vitest';
import type { StripeFact, SubscriptionFact } from '../../../src/domain/stripe/model.js';
import { subscriptionMrr } from '../../../src/domain/stripe/subscription-mrr.js';
import { discountTable } from '../../../src/domain/stripe/discount-lookup.js';
import { parseStripeEvent, stripeEntityKey, StripeParseError } from '../../../src/sources/stripe/index.js';
import { at, fixture } from './fixtures.js';

const T = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function factsOf(raw: unknown): StripeFact[] {
  const result = parseStripeEvent(raw);
  if (!result.ok) throw result.error;
  if (result.ignored) throw new Error(`ignored: ${result.reason}`);
  return result.facts;
}

function subscriptionFactOf(raw: unknown): SubscriptionFact {
  const [fact] = factsOf(raw);
  if (fact?.kind !== 'subscription') throw new Error(`expected a subscription fact, got ${fact?.kind}`);
  return fact;
}

function errorOf(raw: unknown): StripeParseError {
  const result = parseStripeEvent(raw);
  if (result.ok) throw new Error('expected a parse error');
  return result.error;
}

describe('parseStripeEvent: subscriptions across API versions', () => {
  it('pre-basil: period on the subscription, singular discount with coupon', () => {
    const raw = fixture('pre-basil-subscription-updated.json');
    const result = parseStripeEvent(raw);
    expect(result).toMatchObject({
      ok: true,
      ignored: false,
      event: {
        id: 'evt_1PreBasilUpdated',
        type: 'customer.subscription.updated',
        created: T,
        apiVersion: '2024-06-20',
        livemode: false,
      },
    });
    const fact = subscriptionFactOf(raw);
    expect(fact).toMatchObject({
      kind: 'subscription',
      eventId: 'evt_1PreBasilUpdated',
      at: T,
      customerId: 'cus_Pre123',
    });
    expect(fact.deleted).toBe(false);
    expect(fact.subscription).toEqual({
      id: 'sub_1PreBasil',
      customerId: 'cus_Pre123',
      status: 'active',
      currency: 'usd',
      created: T - 20 * DAY,
      items: [
        {
          id: 'si_PreA',
          price: {
            id: 'price_1Seats',
            currency: 'usd',
            unitAmount: 5000,
            billingScheme: 'per_unit',
            tiersMode: null,
            tiers: null,
            transformQuantity: null,
            recurring: { interval: 'month', intervalCount: 1, usageType: 'licensed' },
          },
          quantity: 3,
          discountIds: [],
          currentPeriodStart: T - 20 * DAY,
          currentPeriodEnd: T + 11 * DAY,
        },
      ],
      discountIds: ['di_1PreForever'],
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      pauseCollection: false,
      trialEnd: null,
    });
    expect(fact.discounts).toEqual([
      {
        id: 'di_1PreForever',
        couponId: 'SAVE20',
        percentOff: 20,
        amountOff: null,
        amountOffCurrency: null,
        duration: 'forever',
        durationInMonths: null,
        start: T - 20 * DAY,
        end: null,
        customerId: 'cus_Pre123',
        subscriptionId: 'sub_1PreBasil',
        subscriptionItemId: null,
      },
    ]);
    expect(subscriptionMrr(fact.subscription, discountTable(fact.discounts), T).total).toBe(12000);
  });

  it('basil: periods on items, discounts arrays with ids and expanded objects, expanded customer', () => {
    const fact = subscriptionFactOf(fixture('basil-subscription-updated.json'));
    const { subscription } = fact;
    expect(fact.customerId).toBe('cus_Basil1');
    expect(subscription.discountIds).toEqual(['di_1BasilForeverId', 'di_1BasilRepeat']);
    expect(subscription.cancelAtPeriodEnd).toBe(true);
    expect(subscription.canceledAt).toBe(T - 3600_000);
    expect(subscription.items.map((i) => [i.id, i.discountIds, i.currentPeriodStart, i.currentPeriodEnd])).toEqual([
      ['si_BasilA', ['di_1BasilItem'], T - 5 * DAY, T + 360 * DAY],
      ['si_BasilB', [], T - 5 * DAY, T + 360 * DAY],
    ]);
    // the metered item has no quantity (counts as 1) and a decimal unit amount
    expect(subscription.items[1]).toMatchObject({
      quantity: 1,
      price: { unitAmount: 0.5, recurring: { usageType: 'metered', interval: 'year' } },
    });
    expect(fact.discounts).toEqual([
      expect.objectContaining({
        id: 'di_1BasilRepeat',
        couponId: 'HALF3',
        percentOff: 50,
        duration: 'repeating',
        durationInMonths: 3,
        start: T - 5 * DAY,
        end: T + 85 * DAY,
      }),
    ]);

    const mrr = subscriptionMrr(subscription, discountTable(fact.discounts), T);
    // 2 × 120,000 a year − 50% = 120,000 / 12; the metered item is excluded; the id-only discounts are unresolved.
    expect(mrr.total).toBe(10000);
    expect(mrr.flags).toEqual({ metered: true, scheduledChurn: true, pastDue: false, pauseCollection: false });
    expect(mrr.nextBreakpoint).toBe(T + 85 * DAY);
    expect(mrr.warnings).toHaveLength(2);
    expect(mrr.warnings.join('\n')).toContain('di_1BasilItem');
    expect(mrr.warnings.join('\n')).toContain('di_1BasilForeverId');
  });

  it('clover: discount.source.coupon, expanded or only an id (kept, unresolved)', () => {
    const fact = subscriptionFactOf(fixture('clover-subscription-created.json'));
    expect(fact.discounts).toEqual([
      expect.objectContaining({
        id: 'di_1CloverExpanded',
        couponId: 'TENOFF',
        amountOff: 1000,
        amountOffCurrency: 'eur',
        percentOff: null,
        duration: 'once',
        start: T,
        end: null,
      }),
      expect.objectContaining({ id: 'di_1CloverById', couponId: 'LOYALTY', percentOff: null, amountOff: null }),
    ]);
    const mrr = subscriptionMrr(fact.subscription, discountTable(fact.discounts), T + DAY);
    // weekly 2,500 − 1,000 (once: the first weekly invoice) = 1,500 × 52/12 = 6,500
    expect(mrr.total).toBe(6500);
    expect(mrr.currency).toBe('eur');
    expect(mrr.nextBreakpoint).toBe(T + 7 * DAY);
    expect(mrr.warnings).toEqual([
      'discount di_1CloverById unresolved: coupon LOYALTY was not expanded, its percent/amount off is unknown; not applied',
    ]);
    expect(subscriptionMrr(fact.subscription, discountTable(fact.discounts), T + 7 * DAY).total).toBe(10833);
  });

  it('customer.subscription.deleted is terminal', () => {
    const raw = fixture('basil-subscription-updated.json');
    raw['type'] = 'customer.subscription.deleted';
    expect(subscriptionFactOf(raw).deleted).toBe(true);
  });

  it('a legacy item with only a plan is read from the plan', () => {
    const raw = fixture('pre-basil-subscription-updated.json');
    delete at(raw, 'data', 'object', 'items', 'data', 0)['price'];
    const fact = subscriptionFactOf(raw);
    expect(fact.subscription.items[0]?.price).toEqual({
      id: 'price_1Seats',
      currency: 'usd',
      unitAmount: 5000,
      billingScheme: 'per_unit',
      tiersMode: null,
      tiers: null,
      transformQuantity: null,
      recurring: { interval: 'month', intervalCount: 1, usageType: 'licensed' },
    });
  });
});

describe('parseStripeEvent: other families', () => {
  it('invoice.payment_failed in basil shape links the subscription through parent.subscription_details', () => {
    expect(factsOf(fixture('basil-invoice-payment-failed.json'))).toEqual([
      {
        kind: 'invoice',
        eventId: 'evt_1InvoiceFailed',
        at: T,
        customerId: 'cus_Basil1',
        invoiceId: 'in_1BasilFail',
        subscriptionId: 'sub_1Basil',
        status: 'open',
        paymentFailed: true,
        amountPaid: 0,
        currency: 'usd',
      },
    ]);
  });

  it('a pre-basil invoice links the subscription through invoice.subscription', () => {
    const raw = fixture('basil-invoice-payment-failed.json');
    const invoice = at(raw, 'data', 'object');
    delete invoice['parent'];
    invoice['subscription'] = 'sub_Old';
    raw['type'] = 'invoice.paid';
    expect(factsOf(raw)[0]).toMatchObject({ kind: 'invoice', subscriptionId: 'sub_Old', paymentFailed: false });
  });

  it('payment_method.detached takes the customer from previous_attributes', () => {
    expect(factsOf(fixture('payment-method-detached.json'))).toEqual([
      {
        kind: 'payment_method',
        eventId: 'evt_1PmDetached',
        at: T,
        customerId: 'cus_Pre123',
        paymentMethodId: 'pm_1Detached',
        cardCountry: 'FR',
        billingCountry: 'DE',
        detached: true,
      },
    ]);
  });

  it('charge.dispute.created with an expanded charge takes the charge customer', () => {
    expect(factsOf(fixture('dispute-created-charge-expanded.json'))).toEqual([
      {
        kind: 'dispute',
        eventId: 'evt_1DisputeCreatedExp',
        at: T,
        customerId: 'cus_Basil1',
        disputeId: 'dp_1DisputeExp',
        chargeId: 'ch_1Disputed',
        status: 'needs_response',
        amount: 4900,
        currency: 'usd',
      },
    ]);
  });

  it('charge.dispute.created with only a charge id is a missing_customer error for the connector to enrich', () => {
    const error = errorOf(fixture('dispute-created-charge-id.json'));
    expect(error).toBeInstanceOf(StripeParseError);
    expect(error.code).toBe('missing_customer');
    expect(error.path).toBe('data.object.charge');
    expect(error.eventId).toBe('evt_1DisputeCreated');
    expect(error.eventType).toBe('charge.dispute.created');
    expect(error.message).toContain('ch_1Disputed');
  });

  it('customer.updated with a pre-basil customer discount', () => {
    const customer = {
      id: 'cus_X',
      object: 'customer',
      email: 'a@b.test',
      name: 'A',
      currency: 'EUR',
      delinquent: true,
      address: { country: 'NL' },
      discount: {
        id: 'di_c',
        object: 'discount',
        coupon: { id: 'C5', object: 'coupon', percent_off: 5, duration: 'forever' },
        customer: 'cus_X',
        start: 1767225600,
        end: null,
      },
      invoice_settings: { default_payment_method: null },
    };
    const raw = {
      id: 'evt_c',
      object: 'event',
      type: 'customer.updated',
      created: 1767225600,
      data: { object: customer },
    };
    expect(factsOf(raw)).toEqual([
      {
        kind: 'customer',
        eventId: 'evt_c',
        at: T,
        customerId: 'cus_X',
        deleted: false,
        email: 'a@b.test',
        name: 'A',
        currency: 'eur',
        delinquent: true,
        addressCountry: 'NL',
        discount: {
          id: 'di_c',
          couponId: 'C5',
          percentOff: 5,
          amountOff: null,
          amountOffCurrency: null,
          duration: 'forever',
          durationInMonths: null,
          start: T,
          end: null,
          customerId: 'cus_X',
          subscriptionId: null,
          subscriptionItemId: null,
        },
      },
    ]);
    expect(factsOf({ ...raw, type: 'customer.deleted' })[0]).toMatchObject({ kind: 'customer', deleted: true });
  });

  it('customer.discount.deleted gives a deleted discount fact keyed by its customer', () => {
    const raw = {
      id: 'evt_d',
      type: 'customer.discount.deleted',
      created: 1767225600,
      livemode: true,
      data: {
        object: {
          id: 'di_1',
          object: 'discount',
          source: { type: 'coupon', coupon: { id: 'X', percent_off: 10, duration: 'forever' } },
          customer: { id: 'cus_E', object: 'customer' },
          subscription: 'sub_E',
          start: 1767225600,
          end: null,
        },
      },
    };
    expect(factsOf(raw)[0]).toMatchObject({
      kind: 'discount',
      customerId: 'cus_E',
      deleted: true,
      discount: { id: 'di_1', couponId: 'X', percentOff: 10, subscriptionId: 'sub_E' },
    });
  });

  it('charge.refunded gives refund and card country', () => {
    const raw = {
      id: 'evt_ch',
      type: 'charge.refunded',
      created: 1767225600,
      data: {
        object: {
          id: 'ch_1',
          object: 'charge',
          customer: 'cus_C',
          status: 'succeeded',
          amount: 5000,
          amount_refunded: 2000,
          currency: 'usd',
          refunded: false,
          payment_method_details: { type: 'card', card: { country: 'US', brand: 'visa' } },
          billing_details: { address: { country: 'CA' } },
        },
      },
    };
    expect(factsOf(raw)[0]).toEqual({
      kind: 'charge',
      eventId: 'evt_ch',
      at: T,
      customerId: 'cus_C',
      chargeId: 'ch_1',
      status: 'succeeded',
      amount: 5000,
      amountRefunded: 2000,
      currency: 'usd',
      cardCountry: 'US',
      billingCountry: 'CA',
    });
  });
});

describe('parseStripeEvent: what we do not use, and invalid input', () => {
  it('an event type we do not use is ignored, whatever its object', () => {
    const result = parseStripeEvent({
      id: 'evt_p',
      type: 'product.updated',
      created: 1767225600,
      data: { object: {} },
    });
    expect(result).toMatchObject({ ok: true, ignored: true, reason: 'event type product.updated is not used' });
    expect(parseStripeEvent({ id: 'evt_u', type: 'invoice.upcoming', created: 1, data: { object: {} } })).toMatchObject(
      {
        ok: true,
        ignored: true,
      },
    );
    expect(
      parseStripeEvent({ id: 'evt_r', type: 'charge.refund.updated', created: 1, data: { object: {} } }),
    ).toMatchObject({ ok: true, ignored: true });
  });

  it('unknown extra fields anywhere are fine', () => {
    const raw = fixture('basil-subscription-updated.json');
    raw['brand_new_field'] = { nested: [1, 2] };
    at(raw, 'data', 'object')['future_thing'] = 'x';
    at(raw, 'data', 'object', 'items', 'data', 0, 'price')['something_new'] = true;
    expect(subscriptionFactOf(raw).subscription.id).toBe('sub_1Basil');
  });

  it('missing data.object.id → invalid, path data.object.id', () => {
    const raw = fixture('pre-basil-subscription-updated.json');
    delete at(raw, 'data', 'object')['id'];
    const error = errorOf(raw);
    expect(error.code).toBe('invalid');
    expect(error.path).toBe('data.object.id');
    expect(error.eventId).toBe('evt_1PreBasilUpdated');
  });

  it('quantity of the wrong type → invalid, path to the quantity', () => {
    const raw = fixture('basil-subscription-updated.json');
    at(raw, 'data', 'object', 'items', 'data', 0)['quantity'] = '2';
    expect(errorOf(raw).path).toBe('data.object.items.data.0.quantity');
  });

  it("interval 'fortnight' → invalid, path to the interval", () => {
    const raw = fixture('basil-subscription-updated.json');
    at(raw, 'data', 'object', 'items', 'data', 0, 'price', 'recurring')['interval'] = 'fortnight';
    const error = errorOf(raw);
    expect(error.path).toBe('data.object.items.data.0.price.recurring.interval');
    expect(error.message).toContain('data.object.items.data.0.price.recurring.interval');
  });

  it('a malformed unit_amount_decimal → invalid, path to it', () => {
    const raw = fixture('basil-subscription-updated.json');
    at(raw, 'data', 'object', 'items', 'data', 1, 'price')['unit_amount_decimal'] = '12,5';
    expect(errorOf(raw).path).toBe('data.object.items.data.1.price.unit_amount_decimal');
  });

  it('a discount with no coupon at all → invalid at source.coupon', () => {
    const raw = fixture('clover-subscription-created.json');
    delete at(raw, 'data', 'object', 'discounts', 0, 'source')['coupon'];
    expect(errorOf(raw).path).toBe('data.object.discounts.0.source.coupon');
  });

  it('a bad field inside an expanded discount (id-or-object union) is named, not just the union', () => {
    const raw = fixture('basil-subscription-updated.json');
    at(raw, 'data', 'object', 'discounts', 1, 'coupon')['percent_off'] = 'half';
    expect(errorOf(raw).path).toBe('data.object.discounts.1.coupon.percent_off');
  });

  it('not an event at all → invalid at the root fields, never a throw', () => {
    expect(errorOf(null).code).toBe('invalid');
    expect(errorOf({ type: 'customer.created', created: 1, data: { object: {} } }).path).toBe('id');
    expect(errorOf({ id: 'evt', type: 'customer.created', created: 'yesterday', data: { object: {} } }).path).toBe(
      'created',
    );
  });
});

describe('stripeEntityKey', () => {
  it('reads the customer id of each family without a full parse', () => {
    expect(stripeEntityKey(fixture('pre-basil-subscription-updated.json'))).toBe('cus_Pre123');
    expect(stripeEntityKey(fixture('basil-subscription-updated.json'))).toBe('cus_Basil1');
    expect(stripeEntityKey(fixture('basil-invoice-payment-failed.json'))).toBe('cus_Basil1');
    expect(stripeEntityKey(fixture('payment-method-detached.json'))).toBe('cus_Pre123');
    expect(stripeEntityKey(fixture('dispute-created-charge-expanded.json'))).toBe('cus_Basil1');
    expect(stripeEntityKey({ type: 'customer.created', data: { object: { id: 'cus_N', object: 'customer' } } })).toBe(
      'cus_N',
    );
  });

  it('is null when the payload does not say', () => {
    expect(stripeEntityKey(fixture('dispute-created-charge-id.json'))).toBeNull();
    expect(stripeEntityKey('nonsense')).toBeNull();
    expect(stripeEntityKey({ type: 'charge.succeeded', data: { object: { customer: null } } })).toBeNull();
  });
});
