import { describe, expect, expectTypeOf, it } from 'vitest';
import { segmentInput, stripeInput, type DomainInput } from '../../../src/domain/pipeline/domain-input.js';
import { entityKeyHash, type EntityKeyHash } from '../../../src/domain/pipeline/entity-index.js';
import { parseSegmentPayload } from '../../../src/sources/segment/index.js';
import { parseStripeEvent } from '../../../src/sources/stripe/index.js';

const receivedAt = Date.UTC(2026, 2, 1);

describe('domain inputs', () => {
  it("carry the key hash of the entity they apply to: a Segment message's user, a Stripe event's customer", () => {
    const parsed = parseSegmentPayload(
      { type: 'track', event: 'Signed In', userId: 'u_42', messageId: 'm1', timestamp: '2026-03-01T10:00:00Z' },
      { receivedAt },
    );
    const [message] = parsed.messages;
    if (message === undefined) throw new Error('the message did not parse');
    expect(segmentInput(message).keyHash).toBe(entityKeyHash('u_42'));

    const stripe = parseStripeEvent({
      id: 'evt_1',
      object: 'event',
      type: 'customer.created',
      created: 1_772_359_200,
      data: { object: { id: 'cus_A', object: 'customer', created: 1_772_359_200 } },
    });
    if (!stripe.ok || stripe.ignored) throw new Error('the event did not parse');
    expect(stripeInput(stripe.facts).keyHash).toBe(entityKeyHash('cus_A'));
    expect(stripeInput([]).keyHash).toBe(0);
  });

  // A type test, asserted by the typecheck of `npm test`: a made-up hash would find no state and give its key a second one.
  it('cannot be built with a made-up key hash, only through entityKeyHash', () => {
    expectTypeOf<{ source: 'stripe'; facts: []; keyHash: number }>().not.toExtend<DomainInput>();
    expectTypeOf<{ source: 'stripe'; facts: []; keyHash: EntityKeyHash }>().toExtend<DomainInput>();
  });

  it("keep a Segment message's model fields only, not the parser's raw copy and context", () => {
    const parsed = parseSegmentPayload(
      {
        type: 'track',
        event: 'Order Completed',
        anonymousId: 'anon_1',
        messageId: 'm2',
        properties: { revenue: 12 },
        context: { ip: '203.0.113.9' },
        timestamp: '2026-03-01T10:00:00Z',
      },
      { receivedAt },
    );
    const [message] = parsed.messages;
    if (message === undefined) throw new Error('the message did not parse');
    const input = segmentInput(message);
    if (input.source !== 'segment') throw new Error('not a Segment input');
    expect(Object.keys(input.message).sort()).toEqual(
      [
        'anonymousId',
        'entityKey',
        'event',
        'groupId',
        'messageId',
        'previousId',
        'properties',
        'timestamp',
        'traits',
        'type',
        'userId',
      ].sort(),
    );
    expect(input.message).toMatchObject({ entityKey: 'anon_1', event: 'Order Completed', properties: { revenue: 12 } });
  });
});
