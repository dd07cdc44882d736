import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applySegmentMessageToState,
  createPipeline,
  createUserState,
  deriveProfile,
  userStateWith,
  type UserState,
} from '../../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import type { JsonObject, JsonValue } from '../../../src/domain/segment/model.js';
import { decodeEntityState, encodeEntityState } from '../../../src/domain/state/index.js';
import { restoreUserTraitState } from '../../../src/domain/state/user-trait-state-restore.js';
import { comparableUser } from '../../support/comparable-state.js';
import {
  TraitStateDecodeError,
  defaultTraitDefinitions,
  userTraitStateFromJSON,
  userTraitStateToJSON,
  type UserTraitStateJson,
} from '../../../src/domain/traits/index.js';
import { DAY, T0, identify, track } from '../traits/messages.js';
import { entityStreams, extraTraits, pipeline } from './entity-streams.js';

function userWith(messages: Parameters<typeof applySegmentMessageToState>[2][]): UserState {
  const state = createUserState('u1');
  for (const message of messages) applySegmentMessageToState(pipeline, state, message);
  return state;
}

function restore(state: UserState, through = pipeline): UserState {
  return decodeEntityState(encodeEntityState(state, pipeline), through) as UserState;
}

describe('user state codec', () => {
  it('keeps identify values exactly: −0, 2^60, fractions, nesting, "__proto__" keys, lone surrogates', () => {
    const plan = JSON.parse(
      '{"__proto__": {"x": 1}, "tier": [1, -0, 1152921504606846976, 0.1, "Zoë \\ud800"]}',
    ) as JsonObject;
    const state = userWith([
      identify(T0, { plan, industry: null, email: 'zoë@example.com', ltv: -0 }, { messageId: 'i1' }),
      track('Order Completed', T0 + DAY, { revenue: 19.99 }, { messageId: 'o1' }),
    ]);
    const restored = restore(state);
    expect(restored.identifyValues).toEqual(state.identifyValues);
    const restoredPlan = restored.identifyValues?.[0] as { readonly [key: string]: JsonValue };
    expect(Object.hasOwn(restoredPlan, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(restoredPlan)).toBe(Object.prototype);
    expect(Object.is((restoredPlan['tier'] as JsonValue[])[1], -0)).toBe(true);
    expect((restoredPlan['tier'] as JsonValue[])[4]).toBe('Zoë \ud800');
    for (const at of [T0 + DAY, T0 + 40 * DAY]) {
      expect(deriveProfile(pipeline, restored, at)).toEqual(deriveProfile(pipeline, state, at));
    }
  });

  it('restores an empty state and a state with no identify call', () => {
    const empty = createUserState('anon-1');
    expect(restore(empty)).toEqual(empty);
    const tracked = userWith([track('Feature Used', T0, { feature: 'api' }, { messageId: 'f1' })]);
    expect(comparableUser(restore(tracked))).toEqual(comparableUser(tracked));
  });

  it('after a definition change behaves like the trait-state JSON codec: what still applies is kept', () => {
    const state = userWith([
      identify(T0, { plan: 'pro' }, { messageId: 'i1' }),
      track('Order Completed', T0, { revenue: 10 }, { messageId: 'o1' }),
      track('Order Completed', T0 + DAY, { revenue: 5 }, { messageId: 'o2' }),
      track('Feature Used', T0 + DAY, { feature: 'api' }, { messageId: 'f1' }),
    ]);
    const changed = createPipeline(
      parsePipelineConfig({
        traits: [
          ...defaultTraitDefinitions,
          ...extraTraits.filter((definition) => definition.key !== 'features' && definition.key !== 'revenue_7d'),
          { key: 'revenue_7d', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 14 },
        ],
      }),
    );
    const restored = restore(state, changed);
    const viaJson = userTraitStateFromJSON(userTraitStateToJSON(state, pipeline.traits), changed.traits);
    expect(comparableUser(restored)).toEqual(
      comparableUser(userStateWith(restored.entityKey, restored.lastEventAt, viaJson)),
    );
    const fields = deriveProfile(changed, restored, T0 + DAY).fields;
    expect(fields).toMatchObject({ revenue_7d: 0, ltv: 15, purchase_count: 2, plan: 'pro', first_feature: 'api' });
    expect(fields).not.toHaveProperty('features');
  });

  it('restores every document the encoder writes exactly as userTraitStateFromJSON does', () => {
    const { users } = entityStreams(5, 0, 10, 6);
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), (pick, cut) => {
        const { key, messages } = users[pick % users.length]!;
        const state = createUserState(key);
        for (const message of messages.slice(0, Math.floor(cut * (messages.length + 1)))) {
          applySegmentMessageToState(pipeline, state, message);
        }
        const document = userTraitStateToJSON(state, pipeline.traits);
        expect(restoreUserTraitState(document, pipeline.traits)).toEqual(
          userTraitStateFromJSON(document, pipeline.traits),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('leaves every irregular document to userTraitStateFromJSON, which rejects it or normalises it', () => {
    const state = userWith([
      track('Order Completed', T0, { revenue: 10 }, { messageId: 'o1' }),
      track('Order Completed', T0, { revenue: 3 }, { messageId: 'o2' }),
      track('Order Completed', T0 + DAY, { revenue: 4 }, { messageId: 'o3' }),
    ]);
    const document = userTraitStateToJSON(state, pipeline.traits);
    const [first, second] = document.buckets as [[number, number, number[]], [number, number, number[]]];
    const avg = document.windowed['avg_order_30d']!;
    const rejected: UserTraitStateJson[] = [
      { ...document, buckets: [second, first] },
      {
        ...document,
        windowed: {
          ...document.windowed,
          avg_order_30d: {
            ...avg,
            parts: [
              [1, -1],
              [1, 1],
            ],
          },
        },
      },
      { ...document, windowed: { ...document.windowed, avg_order_30d: { ...avg, parts: [[1, 1]] } } },
      { ...document, allTime: { ...document.allTime, ltv: { sig: document.allTime['ltv']!.sig, part: 'x' } } },
    ];
    for (const irregular of rejected) {
      expect(restoreUserTraitState(irregular, pipeline.traits)).toBeNull();
      expect(() => userTraitStateFromJSON(irregular, pipeline.traits)).toThrow(TraitStateDecodeError);
    }
    const unsortedIds: UserTraitStateJson = {
      ...document,
      buckets: [[first[0], first[1], [...first[2]].reverse()], second],
    };
    expect(restoreUserTraitState(unsortedIds, pipeline.traits)).toBeNull();
    const normalised = userTraitStateFromJSON(unsortedIds, pipeline.traits);
    expect(comparableUser(userStateWith(state.entityKey, state.lastEventAt, normalised))).toEqual(
      comparableUser(state),
    );
  });
});
