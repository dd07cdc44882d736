import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, SegmentMessage } from '../../../src/domain/segment/model.js';
import {
  advanceTraitState,
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  defaultTraitDefinitions,
  evaluateTraits,
  traitDefinitionsSchema,
  userTraitStateFromJSON,
  userTraitStateToJSON,
  type CompiledTraits,
} from '../../../src/domain/traits/index.js';
import { DAY, T0 } from './messages.js';

const event = 'Order Completed';
const compiled = compileTraitDefinitions(
  traitDefinitionsSchema.parse([
    ...defaultTraitDefinitions,
    { key: 'revenue_avg', type: 'avg', event, property: 'revenue' },
    { key: 'revenue_min_7d', type: 'min', event, property: 'revenue', within_days: 7 },
    { key: 'revenue_max', type: 'max', event, property: 'revenue' },
    { key: 'revenue_14d', type: 'sum', event, property: 'revenue', within_days: 14 },
    { key: 'first_sku', type: 'first', event, property: 'sku' },
    { key: 'last_sku_7d', type: 'last', event, property: 'sku', within_days: 7 },
    { key: 'top_sku', type: 'most_frequent', event, property: 'sku' },
    { key: 'top_sku_7d', type: 'most_frequent', event, property: 'sku', within_days: 7 },
    { key: 'skus', type: 'unique_list', event, property: 'sku' },
    { key: 'sku_count_30d', type: 'unique_count', event, property: 'sku', within_days: 30 },
    { key: 'big_orders', type: 'count', event, where: [{ property: 'revenue', op: 'gte', value: 50 }] },
    { key: 'pages_3d', type: 'count', message_type: 'page', within_days: 3 },
    { key: 'last_page', type: 'last', message_type: 'page', property: 'path' },
  ]),
);

const USERS = ['u1', 'u2', 'u3'];

const messageArbitrary = fc.record({
  user: fc.constantFrom(...USERS),
  kind: fc.constantFrom('order', 'order', 'signin', 'page', 'identify'),
  // Within 40 days, often on the same millisecond or next to midnight, to exercise the tie-breaks.
  at: fc.oneof(fc.integer({ min: 0, max: 40 * DAY }), fc.constantFrom(0, 1, DAY - 1, DAY, DAY + 1, 10 * DAY - 1)),
  revenue: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.double({ min: 0, max: 500, noNaN: true }), fc.constant(19.99)),
  sku: fc.constantFrom('A', 'B', 'C', 'D'),
  plan: fc.constantFrom('free', 'pro', 'team'),
});

type Spec = typeof messageArbitrary extends fc.Arbitrary<infer S> ? S : never;

function toMessage(spec: Spec, index: number): SegmentMessage {
  const base = {
    messageId: `m-${index}`,
    userId: spec.user,
    anonymousId: null,
    entityKey: spec.user,
    timestamp: T0 + spec.at,
    event: null,
    properties: {} as JsonObject,
    traits: {} as JsonObject,
    groupId: null,
    previousId: null,
  };
  switch (spec.kind) {
    case 'order':
      return { ...base, type: 'track', event, properties: { revenue: spec.revenue, sku: spec.sku } };
    case 'signin':
      return { ...base, type: 'track', event: 'Signed In' };
    case 'page':
      return { ...base, type: 'page', event: 'Docs', properties: { path: `/docs/${spec.sku}` } };
    case 'identify':
      return { ...base, type: 'identify', traits: { plan: spec.plan, company: { industry: spec.sku } } };
  }
}

function evaluateAll(messages: readonly SegmentMessage[], at: number, traits: CompiledTraits = compiled) {
  const states = new Map(USERS.map((user) => [user, createUserTraitState()]));
  for (const message of messages) applySegmentMessage(states.get(message.entityKey)!, message, traits);
  return { states, traits: USERS.map((user) => evaluateTraits(states.get(user)!, traits, at)) };
}

const scenario = fc.array(messageArbitrary, { minLength: 1, maxLength: 60 }).chain((specs) => {
  const messages = specs.map(toMessage);
  return fc.record({
    messages: fc.constant(messages),
    // Any delivery order with any number of redeliveries.
    delivered: fc.array(fc.nat({ max: messages.length - 1 }), { maxLength: messages.length }).chain((duplicates) =>
      fc.shuffledSubarray([...messages, ...duplicates.map((i) => messages[i]!)], {
        minLength: messages.length + duplicates.length,
      }),
    ),
    evaluateAfterDays: fc.integer({ min: 0, max: 60 }),
  });
});

describe('order independence and deduplication', () => {
  it('any permutation with duplicates gives the same traits', () => {
    fc.assert(
      fc.property(scenario, ({ messages, delivered, evaluateAfterDays }) => {
        const at = T0 + evaluateAfterDays * DAY;
        expect(evaluateAll(delivered, at).traits).toEqual(evaluateAll(messages, at).traits);
      }),
      { numRuns: 300 },
    );
  });

  it('a duplicate returns false and changes nothing', () => {
    fc.assert(
      fc.property(scenario, ({ messages }) => {
        const { states } = evaluateAll(messages, T0);
        for (const message of messages) {
          const state = states.get(message.entityKey)!;
          const before = structuredClone(state);
          expect(applySegmentMessage(state, message, compiled)).toBe(false);
          expect(state).toEqual(before);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('advancing the watermark after delivery does not change traits evaluated at or after it', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 7 }), ({ delivered, evaluateAfterDays }, lateness) => {
        const at = T0 + (40 + evaluateAfterDays) * DAY;
        const { states, traits } = evaluateAll(delivered, at);
        for (const state of states.values()) advanceTraitState(state, at, compiled, lateness);
        expect(USERS.map((user) => evaluateTraits(states.get(user)!, compiled, at))).toEqual(traits);
      }),
      { numRuns: 100 },
    );
  });

  it('state survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ({ delivered, evaluateAfterDays }, advance) => {
        const at = T0 + evaluateAfterDays * DAY;
        const { states } = evaluateAll(delivered, at);
        for (const state of states.values()) {
          if (advance) advanceTraitState(state, T0 + 20 * DAY, compiled, 2);
          const json = userTraitStateToJSON(state, compiled);
          const restored = userTraitStateFromJSON(JSON.parse(JSON.stringify(json)), compiled);
          expect(userTraitStateToJSON(restored, compiled)).toEqual(json);
          expect(evaluateTraits(restored, compiled, at)).toEqual(evaluateTraits(state, compiled, at));
          for (const message of delivered) {
            if (states.get(message.entityKey) === state)
              expect(applySegmentMessage(restored, message, compiled)).toBe(false);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
