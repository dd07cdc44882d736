import { describe, expect, it } from 'vitest';
import { createPipeline, deriveProfile } from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import {
  applyStripeFact,
  createCustomerState,
  type CustomerState,
} from '../../../src/domain/revenue/customer-state.js';
import type { Discount, StripeFact, SubscriptionSnapshot } from '../../../src/domain/stripe/model.js';
import { DAY, discount, item, recurringPrice, subscription, T0 } from '../stripe/builders.js';

const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.1 } }));

let eventSeq = 0;
function subscriptionFact(
  at: number,
  snapshot: SubscriptionSnapshot,
  options: { deleted?: boolean; discounts?: Discount[]; eventId?: string } = {},
): StripeFact {
  return {
    kind: 'subscription',
    eventId: options.eventId ?? `evt_${++eventSeq}`,
    at,
    customerId: snapshot.customerId,
    subscription: snapshot,
    deleted: options.deleted ?? false,
    discounts: options.discounts ?? [],
  };
}

function revenueOf(facts: readonly StripeFact[], at: number) {
  const state: CustomerState = createCustomerState('cus_test');
  for (const fact of facts) applyStripeFact(state, fact);
  const profile = deriveProfile(pipeline, state, at);
  if (profile.revenue === null) throw new Error('a customer profile has revenue');
  return profile.revenue;
}

describe('customer MRR movements', () => {
  it('C10: new, expansion, contraction, churn, reactivation over a lifecycle', () => {
    const gold = subscription([item('si_gold', recurringPrice(50_000, 'year'), 4)], { id: 'sub_gold' });
    const silver = subscription([item('si_silver', recurringPrice(3_000, 'month'), 2)], { id: 'sub_silver' });
    const monthlyGold = subscription([item('si_gold_m', recurringPrice(5_000, 'month'), 3)], { id: 'sub_gold_m' });
    const t0 = T0;
    const t1 = t0 + 5 * DAY;
    const t2 = t1 + 15 * DAY;
    const t3 = t0 + 365 * DAY;
    const t4 = t3 + 40 * DAY;
    const facts = [
      subscriptionFact(t0, gold),
      subscriptionFact(t1, silver),
      subscriptionFact(t2, { ...silver, status: 'canceled' }, { deleted: true }),
      subscriptionFact(t3, { ...gold, status: 'canceled' }, { deleted: true }),
      subscriptionFact(t4, monthlyGold),
    ];

    expect(revenueOf(facts, t0).movements).toEqual({
      new: 16_667,
      expansion: 0,
      contraction: 0,
      churn: 0,
      reactivation: 0,
    });
    expect(revenueOf(facts, t1).mrr).toBe(22_667);
    const end = revenueOf(facts, t4);
    expect(end.movements).toEqual({
      new: 16_667,
      expansion: 6_000,
      contraction: 6_000,
      churn: 16_667,
      reactivation: 15_000,
    });
    expect(end.mrr).toBe(15_000);
    expect(end.status).toBe('active');
    expect(end.lastMovement).toEqual({ type: 'reactivation', amount: 15_000, at: t4 });
    const churned = revenueOf(facts, t3 + DAY);
    expect(churned.mrr).toBe(0);
    expect(churned.status).toBe('churned');
  });

  it('C6: a trial counts from the trialing → active transition, as new business', () => {
    const trialing = subscription([item('si_1', recurringPrice(4_900, 'month'))], { status: 'trialing' });
    const facts = [subscriptionFact(T0, trialing), subscriptionFact(T0 + 14 * DAY, { ...trialing, status: 'active' })];
    expect(revenueOf(facts, T0 + DAY).mrr).toBe(0);
    expect(revenueOf(facts, T0 + DAY).status).toBe('lead');
    const converted = revenueOf(facts, T0 + 14 * DAY);
    expect(converted.mrr).toBe(4_900);
    expect(converted.lastMovement).toEqual({ type: 'new', amount: 4_900, at: T0 + 14 * DAY });
  });

  it('C7: past_due keeps counting; unpaid is churn at the transition', () => {
    const active = subscription([item('si_1', recurringPrice(20_000, 'month'))]);
    const facts = [
      subscriptionFact(T0, active),
      subscriptionFact(T0 + 10 * DAY, { ...active, status: 'past_due' }),
      subscriptionFact(T0 + 35 * DAY, { ...active, status: 'unpaid' }),
    ];
    const dunning = revenueOf(facts, T0 + 34 * DAY);
    expect(dunning.mrr).toBe(20_000);
    expect(dunning.flags.pastDue).toBe(true);
    const unpaid = revenueOf(facts, T0 + 35 * DAY);
    expect(unpaid.mrr).toBe(0);
    expect(unpaid.movements.churn).toBe(20_000);
    expect(unpaid.lastMovement).toEqual({ type: 'churn', amount: 20_000, at: T0 + 35 * DAY });
  });

  it('C8: cancel_at_period_end counts until deletion, flagged as scheduled churn', () => {
    const yearly = subscription([item('si_1', recurringPrice(240_000, 'year'))]);
    const facts = [
      subscriptionFact(T0, yearly),
      subscriptionFact(T0 + DAY, { ...yearly, cancelAtPeriodEnd: true }),
      subscriptionFact(T0 + 150 * DAY, { ...yearly, status: 'canceled', cancelAtPeriodEnd: true }, { deleted: true }),
    ];
    const scheduled = revenueOf(facts, T0 + 100 * DAY);
    expect(scheduled.mrr).toBe(20_000);
    expect(scheduled.flags.scheduledChurn).toBe(true);
    const ended = revenueOf(facts, T0 + 150 * DAY);
    expect(ended.mrr).toBe(0);
    expect(ended.movements.churn).toBe(20_000);
    expect(ended.flags.scheduledChurn).toBe(false);
  });

  it('C5b: the end of a repeating discount is an expansion at that instant, with no event', () => {
    const end = T0 + 90 * DAY;
    const half = discount({
      id: 'di_half',
      percentOff: 50,
      duration: 'repeating',
      durationInMonths: 3,
      start: T0,
      end,
    });
    const discounted = subscription([item('si_1', recurringPrice(10_000, 'month'))], { discountIds: ['di_half'] });
    const facts = [subscriptionFact(T0, discounted, { discounts: [half] })];
    expect(revenueOf(facts, end - 1).mrr).toBe(5_000);
    const after = revenueOf(facts, end);
    expect(after.mrr).toBe(10_000);
    expect(after.movements).toEqual({ new: 5_000, expansion: 5_000, contraction: 0, churn: 0, reactivation: 0 });
    expect(after.lastMovement).toEqual({ type: 'expansion', amount: 5_000, at: end });
  });

  it('a removed discount (customer.discount.deleted) stops applying at its removal, whatever the arrival order', () => {
    const forever = discount({ id: 'di_forever', percentOff: 20, start: T0 });
    const discounted = subscription([item('si_1', recurringPrice(5_000, 'month'))], { discountIds: ['di_forever'] });
    const removal: StripeFact = {
      kind: 'discount',
      eventId: 'evt_removed',
      at: T0 + 10 * DAY,
      customerId: 'cus_test',
      discount: forever,
      deleted: true,
    };
    const subscribed = subscriptionFact(T0, discounted, { discounts: [forever] });
    for (const facts of [
      [subscribed, removal],
      [removal, subscribed],
    ]) {
      expect(revenueOf(facts, T0 + 9 * DAY).mrr).toBe(4_000);
      expect(revenueOf(facts, T0 + 10 * DAY).mrr).toBe(5_000);
      expect(revenueOf(facts, T0 + 10 * DAY).movements.expansion).toBe(1_000);
    }
  });

  it('C9: EUR MRR converts to USD at the configured rate; metered and tax excluded', () => {
    const eur = subscription(
      [
        item('si_licensed', recurringPrice(9_900, 'month', 1, { currency: 'eur' })),
        item('si_metered', {
          ...recurringPrice(1, 'month', 1, { currency: 'eur' }),
          recurring: { interval: 'month', intervalCount: 1, usageType: 'metered' },
        }),
      ],
      { currency: 'eur' },
    );
    const revenue = revenueOf([subscriptionFact(T0, eur)], T0);
    expect(revenue.mrrByCurrency).toEqual({ eur: 9_900 });
    expect(revenue.mrr).toBe(10_890);
    expect(revenue.flags.metered).toBe(true);
  });

  it('a currency without a rate stays out of the reporting total and is named', () => {
    const gbp = subscription([item('si_1', recurringPrice(1_000, 'month', 1, { currency: 'gbp' }))], {
      currency: 'gbp',
    });
    const revenue = revenueOf([subscriptionFact(T0, gbp)], T0);
    expect(revenue.mrr).toBe(0);
    expect(revenue.mrrByCurrency).toEqual({ gbp: 1_000 });
    expect(revenue.unconvertedCurrencies).toEqual(['gbp']);
  });

  it('an FX rate change re-values history without creating a movement', () => {
    const eur = subscription([item('si_1', recurringPrice(10_000, 'month', 1, { currency: 'eur' }))], {
      currency: 'eur',
    });
    const facts = [subscriptionFact(T0, eur)];
    const state = createCustomerState('cus_test');
    for (const fact of facts) applyStripeFact(state, fact);
    const at110 = deriveProfile(pipeline, state, T0 + DAY).revenue;
    const at120 = deriveProfile(
      createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.2 } })),
      state,
      T0 + DAY,
    ).revenue;
    expect(at110?.movements).toEqual({ new: 11_000, expansion: 0, contraction: 0, churn: 0, reactivation: 0 });
    expect(at120?.movements).toEqual({ new: 12_000, expansion: 0, contraction: 0, churn: 0, reactivation: 0 });
  });

  it('cancelling one of two subscriptions is contraction, not churn', () => {
    const a = subscription([item('si_a', recurringPrice(1_000, 'month'))], { id: 'sub_a' });
    const b = subscription([item('si_b', recurringPrice(2_000, 'month'))], { id: 'sub_b' });
    const revenue = revenueOf(
      [
        subscriptionFact(T0, a),
        subscriptionFact(T0, b),
        subscriptionFact(T0 + DAY, { ...a, status: 'canceled' }, { deleted: true }),
      ],
      T0 + DAY,
    );
    expect(revenue.movements).toEqual({ new: 3_000, expansion: 0, contraction: 1_000, churn: 0, reactivation: 0 });
    expect(revenue.payingSubscriptions).toBe(1);
  });
});

describe('at-least-once, unordered delivery', () => {
  const base = subscription([item('si_1', recurringPrice(1_000, 'month'), 1)]);
  const v1 = subscriptionFact(T0, base, { eventId: 'evt_v1' });
  const v2 = subscriptionFact(
    T0 + DAY,
    { ...base, items: [item('si_1', recurringPrice(1_000, 'month'), 3)] },
    { eventId: 'evt_v2' },
  );
  const deleted = subscriptionFact(
    T0 + 2 * DAY,
    { ...base, status: 'canceled' },
    { deleted: true, eventId: 'evt_del' },
  );
  const lateUpdate = subscriptionFact(
    T0 + 3 * DAY,
    { ...base, items: [item('si_1', recurringPrice(1_000, 'month'), 9)] },
    { eventId: 'evt_late' },
  );

  it('a duplicate event is a no-op', () => {
    const state = createCustomerState('cus_test');
    expect(applyStripeFact(state, v1)).toBe(true);
    expect(applyStripeFact(state, v1)).toBe(false);
    expect(revenueOf([v1, v1, v1], T0).movements.new).toBe(1_000);
  });

  it('a stale snapshot never overwrites a newer one', () => {
    expect(revenueOf([v2, v1], T0 + DAY)).toEqual(revenueOf([v1, v2], T0 + DAY));
    expect(revenueOf([v2, v1], T0 + DAY).mrr).toBe(3_000);
  });

  it('a late updated after deleted never resurrects the subscription', () => {
    const inOrder = revenueOf([v1, v2, deleted, lateUpdate], T0 + 5 * DAY);
    expect(inOrder.mrr).toBe(0);
    expect(revenueOf([lateUpdate, deleted, v2, v1], T0 + 5 * DAY)).toEqual(inOrder);
    expect(revenueOf([v1, lateUpdate, v2, deleted], T0 + 5 * DAY)).toEqual(inOrder);
  });

  it('a deletion and an update in the same second: the deletion wins', () => {
    const sameSecond = subscriptionFact(T0 + 2 * DAY, base, { eventId: 'evt_same' });
    expect(revenueOf([v1, deleted, sameSecond], T0 + 3 * DAY).mrr).toBe(0);
    expect(revenueOf([v1, sameSecond, deleted], T0 + 3 * DAY).mrr).toBe(0);
  });
});
