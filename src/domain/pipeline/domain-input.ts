import type { SegmentMessage } from '../segment/model.js';
import type { StripeFact } from '../stripe/model.js';
import { entityKeyHash, type EntityKeyHash } from './entity-index.js';

/**
 * One input of the reducer: the facts of one Stripe event, or one Segment message, with the entityKeyHash of the
 * entity it applies to (a Stripe event's first fact's customer; 0 for an event without facts). The hash is taken
 * when the input is built, while its key is still in the cache: taken when the input is applied, reading the key
 * was a chain of cache misses (input, message, key) for every input, about a quarter of the reducer's time.
 */
export type DomainInput =
  | { readonly source: 'stripe'; readonly facts: readonly StripeFact[]; readonly keyHash: EntityKeyHash | 0 }
  | { readonly source: 'segment'; readonly message: SegmentMessage; readonly keyHash: EntityKeyHash };

export function stripeInput(facts: readonly StripeFact[]): DomainInput {
  const customerId = facts[0]?.customerId;
  return { source: 'stripe', facts, keyHash: customerId === undefined ? 0 : entityKeyHash(customerId) };
}

/**
 * Keeps the model's fields of the message only. A parser's message usually carries more (the normalised raw message,
 * its context): left behind here, that is garbage at once, rather than live until the whole batch is applied, copied
 * by every young-generation collection on the way.
 */
export function segmentInput(message: SegmentMessage): DomainInput {
  const slim: SegmentMessage = {
    type: message.type,
    messageId: message.messageId,
    userId: message.userId,
    anonymousId: message.anonymousId,
    entityKey: message.entityKey,
    timestamp: message.timestamp,
    event: message.event,
    properties: message.properties,
    traits: message.traits,
    groupId: message.groupId,
    previousId: message.previousId,
  };
  return { source: 'segment', message: slim, keyHash: entityKeyHash(message.entityKey) };
}
