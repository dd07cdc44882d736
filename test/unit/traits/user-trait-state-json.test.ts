import { describe, expect, it } from 'vitest';
import {
  TraitStateDecodeError,
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  evaluateTraits,
  traitDefinitionsSchema,
  userTraitStateFromJSON,
  userTraitStateToJSON,
  type TraitDefinitionInput,
} from '../../../src/domain/traits/index.js';
import { DAY, T0, identify, track } from './messages.js';

const definitions: TraitDefinitionInput[] = [
  { key: 'orders', type: 'count', event: 'Order Completed' },
  { key: 'revenue_7d', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 7 },
  { key: 'top_sku', type: 'most_frequent', event: 'Order Completed', property: 'sku' },
  { key: 'plan', type: 'identify', trait: 'plan' },
];
const compiled = compileTraitDefinitions(traitDefinitionsSchema.parse(definitions));

function sampleState() {
  const state = createUserTraitState();
  applySegmentMessage(state, identify(T0, { plan: 'pro' }, { messageId: 'i1' }), compiled);
  applySegmentMessage(state, track('Order Completed', T0, { revenue: 19.99, sku: 'A' }, { messageId: 'o1' }), compiled);
  applySegmentMessage(
    state,
    track('Order Completed', T0 + DAY, { revenue: 5, sku: 'A' }, { messageId: 'o2' }),
    compiled,
  );
  return state;
}

describe('user trait state JSON', () => {
  it('is plain JSON in the documented shape', () => {
    const json = userTraitStateToJSON(sampleState(), compiled);
    expect(json).toMatchObject({
      v: 1,
      firstSeenAt: T0,
      lastSeenAt: T0 + DAY,
      lastActivityAt: T0 + DAY,
      horizonDay: null,
      allTime: { orders: { part: 2 }, top_sku: { part: ['A', 2] } },
      windowed: { revenue_7d: { parts: [19_990_000, 5_000_000] } },
      identify: { plan: [T0, 'pro'] },
    });
    expect(json.buckets.map(([day, activity, ids]) => [day, activity, ids.length])).toEqual([
      [Math.floor(T0 / DAY), 1, 2],
      [Math.floor(T0 / DAY) + 1, 1, 1],
    ]);
    expect(json.identify).toEqual({ plan: [T0, 'pro'] });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('restores a state that evaluates and deduplicates like the original', () => {
    const restored = userTraitStateFromJSON(
      JSON.parse(JSON.stringify(userTraitStateToJSON(sampleState(), compiled))),
      compiled,
    );
    expect(evaluateTraits(restored, compiled, T0 + DAY)).toEqual(evaluateTraits(sampleState(), compiled, T0 + DAY));
    expect(applySegmentMessage(restored, track('Order Completed', T0, {}, { messageId: 'o1' }), compiled)).toBe(false);
  });

  it('after a definition change keeps what still applies and starts changed definitions empty', () => {
    const json = userTraitStateToJSON(sampleState(), compiled);
    const changed = compileTraitDefinitions(
      traitDefinitionsSchema.parse([
        {
          key: 'orders',
          type: 'count',
          event: 'Order Completed',
          where: [{ property: 'revenue', op: 'gt', value: 10 }],
        },
        { key: 'revenue_7d', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 7 },
        { key: 'plan', type: 'identify', trait: 'plan' },
      ]),
    );
    expect(changed.fingerprint).not.toBe(compiled.fingerprint);
    const restored = userTraitStateFromJSON(json, changed);
    expect(evaluateTraits(restored, changed, T0 + DAY)).toMatchObject({ orders: 0, revenue_7d: 24.99, plan: 'pro' });
  });

  it('a corrupt record throws a typed error naming the field', () => {
    const json = userTraitStateToJSON(sampleState(), compiled);
    const cases: [unknown, string][] = [
      [{ ...json, v: 2 }, 'trait state["v"]'],
      [{ ...json, buckets: [json.buckets[1], json.buckets[0]] }, 'trait state["buckets"]["1"]["0"]'],
      [
        { ...json, allTime: { ...json.allTime, orders: { sig: json.allTime['orders']!.sig, part: 'two' } } },
        'trait state["allTime"]["orders"]["part"]',
      ],
      [
        { ...json, windowed: { revenue_7d: { ...json.windowed['revenue_7d']!, parts: [1] } } },
        'trait state["windowed"]["revenue_7d"]["parts"]',
      ],
      ['nonsense', 'trait state'],
    ];
    for (const [input, where] of cases) {
      expect(() => userTraitStateFromJSON(input, compiled)).toThrow(TraitStateDecodeError);
      expect(() => userTraitStateFromJSON(input, compiled)).toThrow(where);
    }
  });
});
