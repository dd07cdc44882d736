import { describe, expect, it } from 'vitest';
import { applyStripeFact, createCustomerState, deriveProfile } from '../../../src/domain/pipeline/pipeline.js';
import {
  CUSTOMER_STATE_LIMITS,
  customerLastEventAt,
  isTruncated,
  subscriptionsOf,
  versionCount,
  type CustomerState,
  type SubscriptionHistory,
} from '../../../src/domain/revenue/customer-state.js';
import {
  failedChargesOf,
  isCustomerDeleted,
  lastChargeOf,
  paymentMethodsOf,
} from '../../../src/domain/revenue/customer-words.js';
import { decodeEntityState, encodeEntityState, EntityStateEncodeError } from '../../../src/domain/state/index.js';
import type { Discount, Price, StripeFact, SubscriptionSnapshot } from '../../../src/domain/stripe/model.js';
import { DAY, discount, item, price, recurringPrice, subscription, T0 } from '../stripe/builders.js';
import { pipeline } from './entity-streams.js';

const CUSTOMER = 'cus_edge';
let sequence = 0;
const eventId = () => `evt_edge_${++sequence}`;
const base = (at: number) => ({ eventId: eventId(), at, customerId: CUSTOMER });

const tiered: Price = price({
  id: 'price_tiered',
  unitAmount: null,
  billingScheme: 'tiered',
  tiersMode: 'graduated',
  tiers: [
    { upTo: 10, unitAmount: 1_000, flatAmount: 500 },
    { upTo: null, unitAmount: 12.5, flatAmount: null },
  ],
});
const volume: Price = price({
  id: 'price_volume',
  currency: 'eur',
  unitAmount: null,
  billingScheme: 'tiered',
  tiersMode: 'volume',
  tiers: [{ upTo: null, unitAmount: 700, flatAmount: 0 }],
  recurring: { interval: 'year', intervalCount: 3, usageType: 'licensed' },
});
const seats: Price = recurringPrice(1_234.5, 'week', 2, {
  id: 'price_seats',
  transformQuantity: { divideBy: 5, round: 'up' },
});
const metered: Price = price({
  id: 'price_metered',
  recurring: { interval: 'day', intervalCount: 1, usageType: 'metered' },
  transformQuantity: { divideBy: 1000, round: 'down' },
});
const oneTime: Price = price({ id: 'price_setup', unitAmount: 9_900, recurring: null });

const amountOff: Discount = discount({
  id: 'di_amount',
  couponId: 'FIVE_OFF',
  amountOff: 500,
  amountOffCurrency: 'usd',
  duration: 'repeating',
  durationInMonths: 3,
  start: T0,
  end: T0 + 90 * DAY,
  subscriptionId: 'sub_main',
});
const percentOff: Discount = discount({
  id: 'di_percent',
  percentOff: 12.5,
  duration: 'once',
  subscriptionId: null,
  subscriptionItemId: null,
});
const itemDiscount: Discount = discount({
  id: 'di_item',
  percentOff: 50,
  subscriptionId: 'sub_main',
  subscriptionItemId: 'si_tiered',
});

/** Catalogue prices: one id per price, so the price pool shares them between customers. */
function busyPrice(variant: number): Price {
  return recurringPrice(1_000 + variant, 'month', 1, { id: `price_busy_${variant}` });
}

function snapshot(overrides: Partial<SubscriptionSnapshot>): SubscriptionSnapshot {
  return subscription(
    [item('si_tiered', tiered, 12, ['di_item']), item('si_seats', seats, 7), item('si_metered', metered, 0)],
    { id: 'sub_main', customerId: CUSTOMER, discountIds: ['di_amount'], ...overrides },
  );
}

/** One of everything the customer state keeps, including histories long enough to be truncated. */
function edgeFacts(): StripeFact[] {
  const facts: StripeFact[] = [
    {
      kind: 'customer',
      ...base(T0),
      deleted: false,
      email: 'zoë@example.com',
      name: 'Zoë 🚀 \ud800 lone surrogate',
      currency: 'usd',
      delinquent: true,
      addressCountry: 'DE',
      discount: percentOff,
    },
    {
      kind: 'subscription',
      ...base(T0 + 1),
      subscription: snapshot({
        status: 'trialing',
        trialEnd: T0 + 14 * DAY,
        cancelAt: T0 + 400 * DAY,
        cancelAtPeriodEnd: true,
        pauseCollection: true,
      }),
      deleted: false,
      discounts: [amountOff, itemDiscount],
    },
    {
      kind: 'subscription',
      ...base(T0 + 20 * DAY + 123),
      subscription: snapshot({ status: 'active', canceledAt: T0 + 19 * DAY, endedAt: -0 }),
      deleted: false,
      discounts: [],
    },
    {
      kind: 'subscription',
      ...base(T0 + DAY),
      subscription: subscription([item('si_volume', volume, 40), item('si_setup', oneTime, 1)], {
        id: 'sub_eur',
        customerId: CUSTOMER,
        currency: 'eur',
        created: -86_400_000,
      }),
      deleted: false,
      discounts: [],
    },
    {
      kind: 'subscription',
      ...base(T0 + 60 * DAY),
      subscription: subscription([item('si_volume', volume, 40)], {
        id: 'sub_eur',
        customerId: CUSTOMER,
        currency: 'eur',
        status: 'canceled',
        endedAt: T0 + 60 * DAY,
      }),
      deleted: true,
      discounts: [],
    },
    { kind: 'discount', ...base(T0 + 30 * DAY), discount: amountOff, deleted: true },
    {
      kind: 'payment_method',
      ...base(T0 + 2),
      paymentMethodId: 'pm_old',
      cardCountry: 'FR',
      billingCountry: null,
      detached: false,
    },
    {
      kind: 'payment_method',
      ...base(T0 + 5 * DAY),
      paymentMethodId: 'pm_old',
      cardCountry: 'FR',
      billingCountry: null,
      detached: true,
    },
    {
      kind: 'payment_method',
      ...base(T0 + 6 * DAY),
      paymentMethodId: 'pm_new',
      cardCountry: null,
      billingCountry: 'NL',
      detached: false,
    },
    {
      kind: 'charge',
      ...base(T0 + 3 * DAY),
      chargeId: 'ch_ok',
      status: 'succeeded',
      amount: 100,
      amountRefunded: 0,
      currency: 'usd',
      cardCountry: 'JP',
      billingCountry: 'JP',
    },
    {
      kind: 'dispute',
      ...base(T0 + 4 * DAY),
      disputeId: 'dp_1',
      chargeId: 'ch_ok',
      status: 'warning_needs_response',
      amount: 100,
      currency: 'usd',
    },
    {
      kind: 'dispute',
      ...base(T0 + 9 * DAY),
      disputeId: 'dp_2',
      chargeId: null,
      status: 'lost',
      amount: 100,
      currency: 'usd',
    },
  ];
  for (let i = 0; i < CUSTOMER_STATE_LIMITS.failedCharges + 3; i++) {
    facts.push({
      kind: 'charge',
      ...base(T0 + i * DAY),
      chargeId: `ch_failed_${i}`,
      status: 'failed',
      amount: 100,
      amountRefunded: 0,
      currency: 'usd',
      cardCountry: null,
      billingCountry: null,
    });
  }
  // More versions than a history keeps: the oldest are dropped and the history is marked truncated.
  for (let i = 0; i < CUSTOMER_STATE_LIMITS.versionsPerSubscription + 4; i++) {
    facts.push({
      kind: 'subscription',
      ...base(T0 + (100 + i) * DAY),
      subscription: subscription([item('si_busy', busyPrice(i % 5), 1 + (i % 3))], {
        id: 'sub_busy',
        customerId: CUSTOMER,
        status: i % 4 === 3 ? 'past_due' : 'active',
      }),
      deleted: false,
      discounts: [],
    });
  }
  facts.push({
    kind: 'customer',
    ...base(T0 + 200 * DAY),
    deleted: true,
    email: null,
    name: null,
    currency: null,
    delinquent: false,
    addressCountry: null,
    discount: null,
  });
  return facts;
}

function liveState(facts: readonly StripeFact[]): CustomerState {
  const state = createCustomerState(CUSTOMER);
  for (const fact of facts) applyStripeFact(state, fact);
  return state;
}

function history(state: CustomerState, id: string): SubscriptionHistory {
  const found = subscriptionsOf(state).find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no history ${id}`);
  return found;
}

describe('customer state codec', () => {
  const facts = edgeFacts();

  it('the edge state covers what it claims to', () => {
    const state = liveState(facts);
    expect(isTruncated(history(state, 'sub_busy'))).toBe(true);
    expect(versionCount(history(state, 'sub_eur'))).toBe(2);
    expect(paymentMethodsOf(state.words).map((method) => method.detached)).toEqual([true, false]);
    expect(state.discounts.find((record) => record.discount.id === 'di_amount')?.removedAt).toBe(T0 + 30 * DAY);
    expect(failedChargesOf(state.words)).toHaveLength(CUSTOMER_STATE_LIMITS.failedCharges);
    expect(isCustomerDeleted(state.words)).toBe(true);
    expect(lastChargeOf(state.words)?.cardCountry).toBe('JP');
  });

  it('restores every part of the state at every step of its history', () => {
    const state = createCustomerState(CUSTOMER);
    const twin = createCustomerState(CUSTOMER);
    for (const fact of facts) {
      applyStripeFact(state, fact);
      applyStripeFact(twin, fact);
      const bytes = encodeEntityState(state, pipeline);
      const restored = decodeEntityState(bytes, pipeline) as CustomerState;
      expect(restored).toEqual(twin);
      expect(encodeEntityState(restored, pipeline)).toEqual(bytes);
      for (const at of [fact.at, T0 + 15 * DAY, T0 + 45 * DAY, T0 + 500 * DAY]) {
        expect(deriveProfile(pipeline, restored, at)).toEqual(deriveProfile(pipeline, twin, at));
      }
    }
  });

  it('keeps −0, fractions, lone surrogates and −Infinity exactly', () => {
    const restored = decodeEntityState(encodeEntityState(liveState(facts), pipeline), pipeline) as CustomerState;
    const main = history(restored, 'sub_main');
    const endedAt = main.words.find((word) => Object.is(word, -0));
    expect(Object.is(endedAt, -0)).toBe(true);
    expect(main.refs).toContainEqual(seats);
    const empty = decodeEntityState(encodeEntityState(createCustomerState('cus_empty'), pipeline), pipeline);
    expect(empty).toEqual(createCustomerState('cus_empty'));
    expect(customerLastEventAt(empty as CustomerState)).toBe(Number.NEGATIVE_INFINITY);
    const named = createCustomerState(CUSTOMER);
    applyStripeFact(named, facts[0]!);
    expect((decodeEntityState(encodeEntityState(named, pipeline), pipeline) as CustomerState).name).toBe(
      'Zoë 🚀 \ud800 lone surrogate',
    );
  });

  it('decoded prices are the pooled instances live states share', () => {
    const live = liveState(facts);
    const restored = decodeEntityState(encodeEntityState(live, pipeline), pipeline) as CustomerState;
    const pricesOf = (state: CustomerState) =>
      history(state, 'sub_busy').refs.filter((ref) => typeof ref === 'object' && ref !== null && !Array.isArray(ref));
    const livePrices = pricesOf(live);
    expect(livePrices.length).toBeGreaterThan(1);
    const restoredPrices = pricesOf(restored);
    expect(restoredPrices).toHaveLength(livePrices.length);
    restoredPrices.forEach((restoredPrice, i) => {
      expect(restoredPrice).toBe(livePrices[i]);
    });
  });

  it('is compact: a paying customer with six versions of a subscription takes 260 bytes', () => {
    const state = createCustomerState('cus_0000001abcdefgh');
    const at = Date.UTC(2026, 1, 1);
    applyStripeFact(state, {
      kind: 'customer',
      eventId: 'evt_1',
      at,
      customerId: state.customerId,
      deleted: false,
      email: 'buyer1@example.com',
      name: 'Customer 1',
      currency: null,
      delinquent: false,
      addressCountry: 'US',
      discount: null,
    });
    for (let month = 0; month < 6; month++) {
      applyStripeFact(state, {
        kind: 'subscription',
        eventId: `evt_sub_${month}`,
        at: at + month * 30 * DAY,
        customerId: state.customerId,
        subscription: subscription([item('si_0000001abcdefgh', recurringPrice(4_900, 'month'), 1 + month)], {
          id: 'sub_0000001abcdefgh',
          customerId: state.customerId,
        }),
        deleted: false,
        discounts: [],
      });
    }
    const bytes = encodeEntityState(state, pipeline);
    expect(bytes.length).toBeLessThan(JSON.stringify(state).length / 3);
    expect(bytes.length).toBe(260);
  });

  it('the same discounts and subscription versions in any order encode to the same bytes', () => {
    const first = discount({ id: 'di_first', percentOff: 10, duration: 'forever' });
    const second = discount({ id: 'di_second', percentOff: 20, duration: 'forever' });
    const version = (at: number, status: 'active' | 'past_due', quantity: number): StripeFact => ({
      kind: 'subscription',
      ...base(at),
      subscription: subscription([item('si_order', seats, quantity)], {
        id: 'sub_order',
        customerId: CUSTOMER,
        status,
      }),
      deleted: false,
      discounts: [],
    });
    const ordered: StripeFact[] = [
      { kind: 'discount', ...base(T0 + DAY), discount: first, deleted: false },
      { kind: 'discount', ...base(T0 + 2 * DAY), discount: second, deleted: false },
      { kind: 'discount', ...base(T0 + 3 * DAY), discount: { ...first, percentOff: 15 }, deleted: false },
      version(T0 + DAY, 'active', 3),
      version(T0 + 2 * DAY, 'past_due', 3),
      version(T0 + 3 * DAY, 'active', 5),
    ];
    const orders = [ordered, [...ordered].reverse(), [2, 5, 0, 4, 1, 3].map((i) => ordered[i] as StripeFact)];
    const encoded = orders.map((order) => Buffer.from(encodeEntityState(liveState(order), pipeline)).toString('hex'));
    expect(new Set(encoded).size).toBe(1);
  });

  it('refuses a state that breaks the reducer’s invariants instead of writing another one', () => {
    const state = liveState(facts);
    // A failed charge's id hash that is not a 32-bit integer (the first failed-charge word, after the payment methods).
    const words = state.words.slice();
    words[8 + 4 * paymentMethodsOf(words).length] = 1.5;
    const broken = { ...state, words };
    expect(() => encodeEntityState(broken, pipeline)).toThrow(EntityStateEncodeError);
    const busy = history(state, 'sub_busy');
    const badBody = { ...state, firstSubscription: { ...busy, words: [...busy.words, 1, 2], next: null } };
    expect(() => encodeEntityState(badBody, pipeline)).toThrow(/subscription\.body/);
    // Histories linked out of id order encode, but a record holding them so is refused when read.
    const main = history(state, 'sub_main');
    const descending = { ...state, firstSubscription: { ...main, next: { ...busy, next: null } } };
    expect(() => decodeEntityState(encodeEntityState(descending, pipeline), pipeline)).toThrow(/ascending id order/);
  });
});
