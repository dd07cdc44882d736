import { describe, expect, it } from 'vitest';
import { countryCode } from '../../../src/domain/codes.js';
import { applyStripeFact, createCustomerState } from '../../../src/domain/pipeline/pipeline.js';
import { CUSTOMER_STATE_LIMITS, customerLastEventAt } from '../../../src/domain/revenue/customer-state.js';
import {
  countryNumber,
  customerVersionOf,
  customerWordsOf,
  disputesOf,
  failedChargesOf,
  lastChargeOf,
  paymentMethodCountry,
  paymentMethodsOf,
  type CustomerNumbers,
} from '../../../src/domain/revenue/customer-words.js';
import { encodeEntityState } from '../../../src/domain/state/index.js';
import type { DisputeStatus, StripeFact } from '../../../src/domain/stripe/model.js';
import { DAY, T0 } from '../stripe/builders.js';
import { pipeline } from '../state/entity-streams.js';

const CUSTOMER = 'cus_words';
const base = (id: string, at: number) => ({ eventId: `evt_${id}`, at, customerId: CUSTOMER });

function paymentMethod(id: string, at: number, card: string | null, detached = false): StripeFact {
  return {
    kind: 'payment_method',
    ...base(`${id}_${String(at)}`, at),
    paymentMethodId: id,
    cardCountry: card,
    billingCountry: null,
    detached,
  };
}

function dispute(id: string, at: number, status: DisputeStatus): StripeFact {
  return {
    kind: 'dispute',
    ...base(`${id}_${status}`, at),
    disputeId: id,
    chargeId: null,
    status,
    amount: 100,
    currency: 'usd',
  };
}

function failedCharge(id: string, at: number): StripeFact {
  return {
    kind: 'charge',
    ...base(id, at),
    chargeId: id,
    status: 'failed',
    amount: 100,
    amountRefunded: 0,
    currency: 'usd',
    cardCountry: null,
    billingCountry: null,
  };
}

function stateAfter(facts: readonly StripeFact[]) {
  const state = createCustomerState(CUSTOMER);
  for (const fact of facts) applyStripeFact(state, fact);
  return state;
}

describe('customer words', () => {
  it('hold every two-letter country and give back the shared code string', () => {
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (const first of letters) {
      for (const second of letters) {
        const code = first + second;
        const state = stateAfter([
          paymentMethod('pm_1', T0, code),
          {
            kind: 'charge',
            ...base('ch_ok', T0 + DAY),
            chargeId: 'ch_ok',
            status: 'succeeded',
            amount: 100,
            amountRefunded: 0,
            currency: 'usd',
            cardCountry: null,
            billingCountry: code,
          },
        ]);
        expect(paymentMethodCountry(state.words)).toBe(code);
        expect(lastChargeOf(state.words)?.billingCountry).toBe(code);
      }
    }
    expect(countryNumber(null)).toBe(0);
    expect(() => countryNumber('USA')).toThrow(RangeError);
    expect(() => countryNumber('us')).toThrow(RangeError);
  });

  it('the parsers let only two-letter countries through, upper-cased', () => {
    expect(countryCode('nl')).toBe('NL');
    expect(countryCode('USA')).toBeNull();
    expect(countryCode('')).toBeNull();
    expect(countryCode('1A')).toBeNull();
    expect(countryCode(undefined)).toBeNull();
  });

  it('keep disputes and payment methods ascending by version whatever order they arrive in', () => {
    const facts = [
      dispute('dp_a', T0 + DAY, 'needs_response'),
      dispute('dp_b', T0 + 2 * DAY, 'under_review'),
      dispute('dp_a', T0 + 3 * DAY, 'lost'),
      paymentMethod('pm_a', T0 + DAY, 'FR'),
      paymentMethod('pm_b', T0 + 2 * DAY, 'DE'),
      paymentMethod('pm_a', T0 + 3 * DAY, 'ES'),
    ];
    const inOrder = stateAfter(facts);
    const reversed = stateAfter([...facts].reverse());
    expect(reversed.words).toEqual(inOrder.words);
    expect(disputesOf(inOrder.words).map((record) => [record.at, record.status])).toEqual([
      [T0 + 2 * DAY, 'under_review'],
      [T0 + 3 * DAY, 'lost'],
    ]);
    expect(paymentMethodsOf(inOrder.words).map((method) => method.cardCountry)).toEqual(['DE', 'ES']);
    expect(paymentMethodCountry(inOrder.words)).toBe('ES');
  });

  it('a detached payment method stays detached, and the country falls back to an attached one', () => {
    const state = stateAfter([
      paymentMethod('pm_old', T0, 'FR'),
      paymentMethod('pm_new', T0 + DAY, 'DE'),
      paymentMethod('pm_new', T0 + 2 * DAY, 'DE', true),
      paymentMethod('pm_new', T0 + 3 * DAY, 'IT'),
    ]);
    expect(paymentMethodsOf(state.words).map((method) => [method.cardCountry, method.detached])).toEqual([
      ['FR', false],
      ['DE', true],
    ]);
    expect(paymentMethodCountry(state.words)).toBe('FR');
  });

  it('keep the newest records up to the limits, and each failed charge once', () => {
    const facts: StripeFact[] = [];
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.paymentMethods + 3; i++) {
      facts.push(paymentMethod(`pm_${String(i)}`, T0 + i * DAY, 'NL'));
    }
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.disputes + 2; i++) facts.push(dispute(`dp_${String(i)}`, T0 + i, 'won'));
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.failedCharges + 5; i++)
      facts.push(failedCharge(`ch_${String(i)}`, T0 + i));
    facts.push(failedCharge('ch_0_again', T0));
    const state = stateAfter(facts);
    const methods = paymentMethodsOf(state.words);
    expect(methods).toHaveLength(CUSTOMER_STATE_LIMITS.paymentMethods);
    expect(methods[0]?.at).toBe(T0 + 3 * DAY);
    expect(disputesOf(state.words)).toHaveLength(CUSTOMER_STATE_LIMITS.disputes);
    expect(disputesOf(state.words)[0]?.at).toBe(T0 + 2);
    expect(failedChargesOf(state.words)).toHaveLength(CUSTOMER_STATE_LIMITS.failedCharges);
    const again = stateAfter([failedCharge('ch_x', T0), failedCharge('ch_x', T0 + DAY)]);
    expect(failedChargesOf(again.words)).toHaveLength(1);
    expect(customerLastEventAt(again)).toBe(T0);
  });

  it('at the limits, any order keeps the same records, and one delivered again once dropped changes nothing', () => {
    const facts: StripeFact[] = [];
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.failedCharges + 6; i++)
      facts.push(failedCharge(`ch_${String(i)}`, T0 + i));
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.paymentMethods + 2; i++) {
      facts.push(paymentMethod(`pm_${String(i)}`, T0 + i * DAY, 'SE'));
    }
    for (let i = 0; i < CUSTOMER_STATE_LIMITS.disputes + 3; i++) facts.push(dispute(`dp_${String(i)}`, T0 + i, 'lost'));
    const forward = stateAfter(facts);
    const backward = stateAfter([...facts].reverse());
    expect(backward.words).toEqual(forward.words);
    expect(failedChargesOf(forward.words)).toHaveLength(CUSTOMER_STATE_LIMITS.failedCharges);
    for (const fact of facts) expect(applyStripeFact(forward, fact)).toBe(false);
    expect(forward.words).toEqual(backward.words);
  });

  it('built from values, give the same values back; refuse lists over the limits', () => {
    const numbers: CustomerNumbers = {
      lastEventAt: T0 + 9 * DAY,
      customer: { at: T0, tie: -2_147_483_648, delinquent: true, deleted: false, addressCountry: 'PT' },
      lastCharge: { at: T0 + DAY, tie: 2_147_483_647, cardCountry: 'JP', billingCountry: null },
      paymentMethods: [
        { at: T0, rank: 1, tie: 7, idHash: -5, cardCountry: null, billingCountry: 'BR', detached: false },
        { at: T0 + DAY, rank: 2, tie: -7, idHash: 9, cardCountry: 'CA', billingCountry: 'US', detached: true },
      ],
      failedCharges: [-4, 3],
      disputes: [{ at: T0 + 2 * DAY, rank: 1, tie: 0, idHash: 11, status: 'appeal_under_review' }],
    };
    const words = customerWordsOf(numbers);
    expect(customerVersionOf(words)).toEqual(numbers.customer);
    expect(lastChargeOf(words)).toEqual(numbers.lastCharge);
    expect(paymentMethodsOf(words)).toEqual(numbers.paymentMethods);
    expect(failedChargesOf(words)).toEqual(numbers.failedCharges);
    expect(disputesOf(words)).toEqual(numbers.disputes);
    const empty = customerWordsOf({ ...numbers, customer: null, lastCharge: null });
    expect(customerVersionOf(empty)).toBeNull();
    expect(lastChargeOf(empty)).toBeNull();
    const many = Array.from({ length: CUSTOMER_STATE_LIMITS.failedCharges + 1 }, (_, i) => i);
    expect(() => customerWordsOf({ ...numbers, failedCharges: many })).toThrow(RangeError);
  });

  it('the same disputes in any order encode to the same bytes', () => {
    const facts = [
      dispute('dp_a', T0 + DAY, 'needs_response'),
      dispute('dp_b', T0 + 2 * DAY, 'under_review'),
      dispute('dp_a', T0 + 3 * DAY, 'won'),
    ];
    const orders = [facts, [facts[1], facts[2], facts[0]], [facts[2], facts[0], facts[1]]] as StripeFact[][];
    const encoded = orders.map((order) => Buffer.from(encodeEntityState(stateAfter(order), pipeline)).toString('hex'));
    expect(new Set(encoded).size).toBe(1);
  });
});
