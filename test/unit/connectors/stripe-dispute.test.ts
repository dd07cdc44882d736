import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  ChargeCustomerResolver,
  ChargeLookupError,
  unexpandedDisputeCharge,
  withDisputeChargeCustomer,
} from '../../../src/connectors/stripe/charge-customer-resolver.js';
import {
  decideResolvedDispute,
  decideStripeWebhook,
  stripeWebhookDeadLetter,
  type StripeWebhookDecision,
} from '../../../src/connectors/stripe/stripe-webhook.js';
import { decodeDeadLetterValue, deadLetterSchema } from '../../../src/records/dead-letter.js';
import { decodeCanonicalEvent } from '../../../src/sources/canonical-events.js';

const SECRET = 'whsec_test_dispute';
const NOW = 1_767_225_700_000;

function fixtureText(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/stripe/${name}`, import.meta.url)), 'utf8');
}

function decide(text: string): StripeWebhookDecision {
  const header = Stripe.webhooks.generateTestHeaderString({ payload: text, secret: SECRET });
  return decideStripeWebhook(Buffer.from(text), header, [SECRET], NOW);
}

function pendingOf(decision: StripeWebhookDecision) {
  if (decision.action !== 'resolve_charge_customer') throw new Error(`expected a resolution, got ${decision.action}`);
  return decision;
}

describe('a charge.dispute.* webhook whose charge is not expanded', () => {
  const text = fixtureText('dispute-created-charge-id.json');

  it('asks for the charge’s customer instead of being refused', () => {
    expect(decide(text)).toMatchObject({
      action: 'resolve_charge_customer',
      chargeId: 'ch_1Disputed',
      eventId: 'evt_1DisputeCreated',
    });
  });

  it('once the customer is known, is published keyed by it with the charge expanded in the payload', () => {
    const decision = decideResolvedDispute(pendingOf(decide(text)), 'cus_Resolved', NOW);
    if (decision.action !== 'publish') throw new Error(`expected publish, got ${decision.action}`);
    expect(decision.event).toMatchObject({
      event_id: 'evt_1DisputeCreated',
      type: 'charge.dispute.created',
      entity_key: 'cus_Resolved',
      occurred_at: 1_767_225_600_000,
      received_at: NOW,
    });
    const payload = JSON.parse(decision.event.payload) as { data: { object: Record<string, unknown> } };
    expect(payload.data.object['charge']).toEqual({ id: 'ch_1Disputed', object: 'charge', customer: 'cus_Resolved' });
    // The processor reads the same payload again on replay and finds the customer there.
    expect(decodeCanonicalEvent(decision.event)).toMatchObject([
      {
        source: 'stripe',
        facts: [{ kind: 'dispute', customerId: 'cus_Resolved', chargeId: 'ch_1Disputed', amount: 4900 }],
      },
    ]);
  });

  it('goes to the dead-letter topic when the charge has no customer', () => {
    expect(decideResolvedDispute(pendingOf(decide(text)), null, NOW)).toEqual({
      action: 'dead_letter',
      code: 'missing_customer',
      eventId: 'evt_1DisputeCreated',
      reason: 'the disputed charge ch_1Disputed has no customer (or does not exist)',
    });
  });

  it('is still refused when it is invalid for another reason', () => {
    const invalid = text.replace('"needs_response"', '"pondering"');
    expect(decide(invalid)).toMatchObject({ action: 'reject', status: 400 });
  });
});

describe('a valid event without any customer', () => {
  const guestCharge = JSON.stringify({
    id: 'evt_guest',
    object: 'event',
    type: 'charge.succeeded',
    created: 1_767_225_600,
    data: {
      object: { id: 'ch_guest', object: 'charge', customer: null, status: 'succeeded', amount: 500, currency: 'usd' },
    },
  });

  it('is dead-lettered with missing_customer rather than refused (Stripe would retry it for days)', () => {
    expect(decide(guestCharge)).toEqual({
      action: 'dead_letter',
      code: 'missing_customer',
      eventId: 'evt_guest',
      reason: 'data.object.customer: charge has no customer (event evt_guest)',
    });
  });

  it('becomes a dead-letter record holding the raw body', () => {
    const decision = decide(guestCharge);
    if (decision.action !== 'dead_letter') throw new Error('expected a dead letter');
    const letter = stripeWebhookDeadLetter(Buffer.from(guestCharge), decision, NOW);
    expect(deadLetterSchema.parse(letter)).toEqual({
      topic: 'webhook:/webhooks/stripe',
      partition: 0,
      offset: '0',
      key: 'evt_guest',
      reason: 'data.object.customer: charge has no customer (event evt_guest)',
      error_code: 'missing_customer',
      value: Buffer.from(guestCharge).toString('base64'),
      at: NOW,
    });
    expect(decodeDeadLetterValue(letter.value)?.toString('utf8')).toBe(guestCharge);
  });
});

describe('unexpandedDisputeCharge / withDisputeChargeCustomer', () => {
  it('find the charge id of dispute events only, and expand it without touching the rest', () => {
    const raw = JSON.parse(fixtureText('dispute-created-charge-id.json')) as Record<string, unknown>;
    expect(unexpandedDisputeCharge(raw)).toBe('ch_1Disputed');
    expect(unexpandedDisputeCharge(JSON.parse(fixtureText('dispute-created-charge-expanded.json')))).toBeNull();
    expect(unexpandedDisputeCharge({ ...raw, type: 'charge.succeeded' })).toBeNull();
    const rewritten = JSON.parse(withDisputeChargeCustomer(raw, 'cus_1')) as typeof raw;
    const data = raw['data'] as { object: Record<string, unknown> };
    expect(rewritten).toEqual({
      ...raw,
      data: {
        ...data,
        object: { ...data.object, charge: { id: 'ch_1Disputed', object: 'charge', customer: 'cus_1' } },
      },
    });
  });
});

describe('ChargeCustomerResolver', () => {
  function counting(answers: Record<string, string | null>) {
    const calls: string[] = [];
    const lookup = (chargeId: string) => {
      calls.push(chargeId);
      return Promise.resolve(chargeId in answers ? { customerId: answers[chargeId] ?? null } : null);
    };
    return { calls, lookup };
  }

  it('asks Stripe once per charge while it stays among the most recently used', async () => {
    const { calls, lookup } = counting({ ch_a: 'cus_a', ch_b: 'cus_b', ch_c: null });
    const resolver = new ChargeCustomerResolver(lookup, 2);
    expect(await resolver.customerOf('ch_a')).toBe('cus_a');
    expect(await resolver.customerOf('ch_b')).toBe('cus_b');
    expect(await resolver.customerOf('ch_a')).toBe('cus_a');
    // ch_c (no customer) evicts the least recently used, ch_b.
    expect(await resolver.customerOf('ch_c')).toBeNull();
    expect(await resolver.customerOf('ch_c')).toBeNull();
    expect(await resolver.customerOf('ch_a')).toBe('cus_a');
    expect(await resolver.customerOf('ch_b')).toBe('cus_b');
    expect(calls).toEqual(['ch_a', 'ch_b', 'ch_c', 'ch_b']);
  });

  it('does not remember a charge Stripe does not know, and lets lookup failures through', async () => {
    const { calls, lookup } = counting({});
    const resolver = new ChargeCustomerResolver(lookup);
    expect(await resolver.customerOf('ch_missing')).toBeNull();
    expect(await resolver.customerOf('ch_missing')).toBeNull();
    expect(calls).toEqual(['ch_missing', 'ch_missing']);
    const failing = new ChargeCustomerResolver(() =>
      Promise.reject(new ChargeLookupError('ch_x', { cause: new Error('socket hang up') })),
    );
    await expect(failing.customerOf('ch_x')).rejects.toThrow('could not fetch charge ch_x: socket hang up');
  });
});
