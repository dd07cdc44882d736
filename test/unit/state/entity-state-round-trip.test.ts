import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/demo/random.js';
import {
  advanceEntity,
  applySegmentMessageToState,
  applyStripeFact,
  createCustomerState,
  createUserState,
  deriveProfile,
  type UserState,
} from '../../../src/domain/pipeline/pipeline.js';
import type { CustomerState } from '../../../src/domain/revenue/customer-state.js';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import { decodeEntityState, encodeEntityState } from '../../../src/domain/state/index.js';
import type { StripeFact } from '../../../src/domain/stripe/model.js';
import { DAY, entityStreams, pipeline } from './entity-streams.js';

/** The items in a random order with some repeated, as Kafka's at-least-once, cross-partition delivery may give them. */
function deliver<T>(items: readonly T[], seed: number, shuffle: boolean, duplicates: number): T[] {
  const random = new SeededRandom(seed);
  const out = [...items];
  if (shuffle) {
    for (let i = out.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
  }
  for (let d = 0; d < duplicates && items.length > 0; d++) {
    out.splice(random.int(0, out.length), 0, random.pick(items));
  }
  return out;
}

function roundTrip<S extends CustomerState | UserState>(state: S): S {
  const bytes = encodeEntityState(state, pipeline);
  const decoded = decodeEntityState(bytes, pipeline);
  expect(decoded.kind).toBe(state.kind);
  // Byte for byte: decoding loses nothing the encoding shows.
  expect(encodeEntityState(decoded, pipeline)).toEqual(bytes);
  return decoded as S;
}

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  entity: fc.nat(),
  cut: fc.double({ min: 0, max: 1, noNaN: true }),
  shuffle: fc.boolean(),
  duplicates: fc.nat({ max: 6 }),
  advance: fc.boolean(),
});

describe('entity state codec: decode(encode(state)) continues exactly like the state', () => {
  it('customers: any prefix of any delivery order, restored, then the rest, gives the same profiles at any time', () => {
    fc.assert(
      fc.property(scenario, ({ seed, entity, cut, shuffle, duplicates }) => {
        const { customers } = entityStreams(seed, 3, 0, 8);
        const { id, facts } = customers[entity % customers.length]!;
        const delivered: StripeFact[] = deliver(facts, seed, shuffle, duplicates);
        const split = Math.floor(cut * (delivered.length + 1));

        const live = createCustomerState(id);
        for (const fact of delivered.slice(0, split)) applyStripeFact(live, fact);
        const restored = roundTrip(live);
        expect(restored).toEqual(live);

        for (const fact of delivered.slice(split)) {
          expect(applyStripeFact(restored, fact)).toBe(applyStripeFact(live, fact));
        }
        const last = Math.max(...facts.map((fact) => fact.at));
        const first = Math.min(...facts.map((fact) => fact.at));
        for (const at of [first, (first + last) / 2, last, last + 30 * DAY, last + 400 * DAY]) {
          expect(deriveProfile(pipeline, restored, at)).toEqual(deriveProfile(pipeline, live, at));
        }
        expect(encodeEntityState(restored, pipeline)).toEqual(encodeEntityState(live, pipeline));
        roundTrip(restored);
      }),
      { numRuns: 60 },
    );
  });

  it('users: any prefix of any delivery order, restored, then the rest, gives the same profiles at any time', () => {
    fc.assert(
      fc.property(scenario, ({ seed, entity, cut, shuffle, duplicates, advance }) => {
        const { users } = entityStreams(seed, 0, 4, 6);
        const { key, messages } = users[entity % users.length]!;
        const delivered: SegmentMessage[] = deliver(messages, seed, shuffle, duplicates);
        const split = Math.floor(cut * (delivered.length + 1));

        // The processor advances each entity to its partition's watermark (stream time) after applying.
        let watermark = Number.NEGATIVE_INFINITY;
        const apply = (state: UserState, message: SegmentMessage, moveWatermark: boolean): boolean => {
          if (moveWatermark) watermark = Math.max(watermark, message.timestamp);
          const changed = applySegmentMessageToState(pipeline, state, message);
          if (advance) advanceEntity(pipeline, state, watermark);
          return changed;
        };
        const live = createUserState(key);
        for (const message of delivered.slice(0, split)) apply(live, message, true);
        const restored = roundTrip(live);

        for (const message of delivered.slice(split)) {
          const restoredChanged = apply(restored, message, true);
          expect(restoredChanged).toBe(apply(live, message, false));
        }
        const last = Math.max(...messages.map((message) => message.timestamp));
        const times = [last, last + DAY, last + 8 * DAY, last + 31 * DAY, last + 400 * DAY];
        if (!advance) times.unshift(Math.min(...messages.map((message) => message.timestamp)) + 3 * DAY);
        for (const at of times) {
          expect(deriveProfile(pipeline, restored, at)).toEqual(deriveProfile(pipeline, live, at));
        }
        expect(encodeEntityState(restored, pipeline)).toEqual(encodeEntityState(live, pipeline));
        roundTrip(restored);
      }),
      { numRuns: 60 },
    );
  });
});

describe('entity state codec: deduplication survives the codec', () => {
  const { customers, users } = entityStreams(11, 12, 12, 6);

  it('every Stripe fact applied again after a restore is a no-op', () => {
    let replayed = 0;
    for (const { id, facts } of customers) {
      const live = createCustomerState(id);
      for (const fact of facts) applyStripeFact(live, fact);
      const bytes = encodeEntityState(live, pipeline);
      const restored = decodeEntityState(bytes, pipeline);
      for (const fact of facts) {
        expect(applyStripeFact(restored as CustomerState, fact)).toBe(false);
        replayed++;
      }
      expect(encodeEntityState(restored, pipeline)).toEqual(bytes);
    }
    expect(replayed).toBeGreaterThan(12 * 5);
  });

  it('every Segment message applied again after a restore is a no-op', () => {
    let replayed = 0;
    for (const { key, messages } of users) {
      const live = createUserState(key);
      for (const message of messages) applySegmentMessageToState(pipeline, live, message);
      const bytes = encodeEntityState(live, pipeline);
      const restored = decodeEntityState(bytes, pipeline) as UserState;
      for (const message of messages) {
        expect(applySegmentMessageToState(pipeline, restored, message)).toBe(false);
        replayed++;
      }
      expect(encodeEntityState(restored, pipeline)).toEqual(bytes);
    }
    expect(replayed).toBeGreaterThan(12 * 5);
  });
});
