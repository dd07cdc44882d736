import { describe, expect, it } from 'vitest';
import { backfillEventId, syntheticStripeEvent } from '../../../src/backfill/stripe/synthetic-event.js';
import { parseStripeEvent, stripeEntityKey } from '../../../src/sources/stripe/index.js';
import {
  chargeObject,
  customerObject,
  disputeObject,
  invoiceObject,
  paymentMethodObject,
  subscriptionObject,
} from '../../support/fake-stripe-api.js';

const T = 1_767_225_600;

function eventOf(result: ReturnType<typeof syntheticStripeEvent>) {
  if (!result.ok) throw new Error(result.error.message);
  return result;
}

describe('syntheticStripeEvent', () => {
  it('gives the same object state the same event id, and a changed object a new one', () => {
    const subscription = subscriptionObject('sub_1', 'cus_1', T, { quantity: 2 });
    const first = eventOf(syntheticStripeEvent('subscription', subscription));
    const again = eventOf(syntheticStripeEvent('subscription', structuredClone(subscription)));
    const reordered = eventOf(
      syntheticStripeEvent('subscription', Object.fromEntries(Object.entries(subscription).reverse())),
    );
    const changed = eventOf(
      syntheticStripeEvent('subscription', subscriptionObject('sub_1', 'cus_1', T, { quantity: 3 })),
    );
    expect(first.event.id).toMatch(/^evt_backfill_sub_1_[0-9a-f]{16}$/);
    expect(again.event.id).toBe(first.event.id);
    expect(reordered.event.id).toBe(first.event.id);
    expect(changed.event.id).not.toBe(first.event.id);
    expect(first.event.id).toBe(backfillEventId('sub_1', subscription));
  });

  it('derives the id from SHA-256 of the canonical JSON, so ids stay stable across versions of this code', () => {
    // sha256('{"created":1,"id":"cus_1","object":"customer"}') starts 05a4024978196a05.
    expect(backfillEventId('cus_1', { object: 'customer', id: 'cus_1', created: 1 })).toBe(
      'evt_backfill_cus_1_05a4024978196a05',
    );
  });

  it('announces an active subscription as updated at its newest past timestamp, and the parser takes it', () => {
    const subscription = subscriptionObject('sub_1', 'cus_1', T, { quantity: 2 });
    (subscription['items'] as { data: { current_period_start: number }[] }).data[0]!.current_period_start =
      T + 86_400 * 30;
    const { event, text } = eventOf(syntheticStripeEvent('subscription', subscription));
    expect(event).toMatchObject({
      object: 'event',
      type: 'customer.subscription.updated',
      created: T + 86_400 * 30,
      livemode: false,
      api_version: null,
      data: { object: subscription },
    });
    expect(JSON.parse(text)).toEqual(event);
    const parsed = parseStripeEvent(JSON.parse(text));
    expect(parsed).toMatchObject({
      ok: true,
      ignored: false,
      facts: [{ kind: 'subscription', customerId: 'cus_1', deleted: false, at: (T + 86_400 * 30) * 1000 }],
    });
  });

  it('announces a canceled subscription as deleted at the moment it ended', () => {
    const subscription = subscriptionObject('sub_2', 'cus_2', T, { status: 'canceled', endedAt: T + 5_000 });
    const { event } = eventOf(syntheticStripeEvent('subscription', subscription));
    expect(event.type).toBe('customer.subscription.deleted');
    expect(event.created).toBe(T + 5_000);
    expect(parseStripeEvent(event)).toMatchObject({ ok: true, facts: [{ kind: 'subscription', deleted: true }] });
  });

  it('publishes a customer without its expanded subscriptions', () => {
    const customer = {
      ...customerObject('cus_3', T),
      subscriptions: { object: 'list', has_more: false, data: [subscriptionObject('sub_3', 'cus_3', T)] },
    };
    const { event } = eventOf(syntheticStripeEvent('customer', customer));
    expect(event.type).toBe('customer.updated');
    expect(event.created).toBe(T);
    expect(event.data.object).toEqual(customerObject('cus_3', T));
    expect(event.id).toBe(backfillEventId('cus_3', customerObject('cus_3', T)));
    expect(stripeEntityKey(event)).toBe('cus_3');
  });

  it('names invoices and charges by their status, timed by their latest transition', () => {
    expect(eventOf(syntheticStripeEvent('invoice', invoiceObject('in_1', 'cus_1', T, 'paid'))).event).toMatchObject({
      type: 'invoice.paid',
      created: T + 3_600,
    });
    expect(eventOf(syntheticStripeEvent('invoice', invoiceObject('in_2', 'cus_1', T, 'open'))).event).toMatchObject({
      type: 'invoice.finalized',
      created: T + 60,
    });
    expect(eventOf(syntheticStripeEvent('charge', chargeObject('ch_1', 'cus_1', T))).event.type).toBe(
      'charge.succeeded',
    );
    expect(
      eventOf(syntheticStripeEvent('charge', chargeObject('ch_2', 'cus_1', T, { status: 'failed' }))).event.type,
    ).toBe('charge.failed');
    expect(
      eventOf(syntheticStripeEvent('charge', chargeObject('ch_3', 'cus_1', T, { amountRefunded: 100 }))).event.type,
    ).toBe('charge.refunded');
    expect(
      eventOf(syntheticStripeEvent('payment_method', paymentMethodObject('pm_1', 'cus_1', T))).event,
    ).toMatchObject({
      type: 'payment_method.attached',
      created: T,
    });
  });

  it('cuts an expanded dispute charge down to its id and customer, so the dispute is keyed by customer', () => {
    const dispute = { ...disputeObject('dp_1', 'ch_1', T, 'lost'), charge: chargeObject('ch_1', 'cus_9', T - 100) };
    const { event } = eventOf(syntheticStripeEvent('dispute', dispute));
    expect(event.type).toBe('charge.dispute.closed');
    expect(event.data.object['charge']).toEqual({ id: 'ch_1', object: 'charge', customer: 'cus_9' });
    expect(parseStripeEvent(event)).toMatchObject({
      ok: true,
      facts: [{ kind: 'dispute', customerId: 'cus_9', chargeId: 'ch_1', status: 'lost' }],
    });
    const open = eventOf(syntheticStripeEvent('dispute', disputeObject('dp_2', 'ch_2', T)));
    expect(open.event.type).toBe('charge.dispute.updated');
  });

  it('refuses an object without the fields it is built from, naming the field', () => {
    const result = syntheticStripeEvent('subscription', {
      ...subscriptionObject('sub_x', 'cus_1', T),
      created: 'yesterday',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.path).toBe('created');
    const missingId = syntheticStripeEvent('charge', { object: 'charge', created: T, status: 'succeeded' });
    expect(missingId.ok ? '' : missingId.error.path).toBe('id');
  });
});
