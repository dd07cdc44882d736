import { describe, expect, it } from 'vitest';
import {
  advanceTraitState,
  bucketCount,
  bucketsOf,
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  evaluateTraits,
  traitDefinitionsSchema,
  userTraitStateFromJSON,
  userTraitStateToJSON,
} from '../../../src/domain/traits/index.js';
import { DAY, T0, track } from './messages.js';

const compiled = compileTraitDefinitions(
  traitDefinitionsSchema.parse([
    { key: 'orders_7d', type: 'count', event: 'Order Completed', within_days: 7 },
    { key: 'revenue_7d', type: 'sum', event: 'Order Completed', property: 'revenue', within_days: 7 },
    { key: 'aov_7d', type: 'avg', event: 'Order Completed', property: 'revenue', within_days: 7 },
    { key: 'max_7d', type: 'max', event: 'Order Completed', property: 'revenue', within_days: 7 },
    { key: 'last_7d', type: 'last', event: 'Order Completed', property: 'sku', within_days: 7 },
    { key: 'skus_7d', type: 'unique_list', event: 'Order Completed', property: 'sku', within_days: 7 },
    { key: 'orders', type: 'count', event: 'Order Completed' },
    { key: 'revenue', type: 'sum', event: 'Order Completed', property: 'revenue' },
    { key: 'top_sku', type: 'most_frequent', event: 'Order Completed', property: 'sku' },
  ]),
);

// Orders on days 0, 2 and 5 after T0 (12:00 UTC).
const history = [
  track('Order Completed', T0, { revenue: 100, sku: 'A' }),
  track('Order Completed', T0 + 2 * DAY, { revenue: 30, sku: 'B' }),
  track('Order Completed', T0 + 5 * DAY, { revenue: 20, sku: 'A' }),
];

function stateWith(messages = history) {
  const state = createUserTraitState();
  for (const message of messages) applySegmentMessage(state, message, compiled);
  return state;
}

describe('rolling windows', () => {
  it('a 7-day window covers the evaluation day and the 6 before it', () => {
    const traits = evaluateTraits(stateWith(), compiled, T0 + 6 * DAY);
    expect(traits).toMatchObject({
      orders_7d: 3,
      revenue_7d: 150,
      aov_7d: 50,
      max_7d: 100,
      last_7d: 'A',
      skus_7d: ['A', 'B'],
      orders: 3,
      revenue: 150,
      top_sku: 'A',
    });
  });

  it('days slide out as the evaluation time advances, all-time traits stay', () => {
    const state = stateWith();
    const at = (day: number) => evaluateTraits(state, compiled, T0 + day * DAY);
    expect(at(7)).toMatchObject({ orders_7d: 2, revenue_7d: 50, aov_7d: 25, max_7d: 30, skus_7d: ['A', 'B'] });
    expect(at(9)).toMatchObject({ orders_7d: 1, revenue_7d: 20, max_7d: 20, last_7d: 'A', skus_7d: ['A'] });
    expect(at(12)).toMatchObject({
      orders_7d: 0,
      revenue_7d: 0,
      aov_7d: null,
      max_7d: null,
      last_7d: null,
      skus_7d: [],
    });
    expect(at(12)).toMatchObject({ orders: 3, revenue: 150, top_sku: 'A' });
  });

  it('advancing the watermark drops old buckets without changing any trait evaluated after it', () => {
    const state = stateWith();
    const before = evaluateTraits(state, compiled, T0 + 12 * DAY);
    expect(advanceTraitState(state, T0 + 12 * DAY, compiled, 0)).toBe(true);
    // Keeps 7 days up to the watermark's day: days 6..12; the buckets of days 0, 2 and 5 are gone.
    expect(bucketsOf(state)).toEqual([]);
    expect(state.windowLength).toBe(0);
    expect(evaluateTraits(state, compiled, T0 + 12 * DAY)).toEqual(before);
    expect(advanceTraitState(state, T0 + 12 * DAY, compiled, 0)).toBe(false);
  });

  it('lateness_days keeps extra days of buckets beyond the longest window', () => {
    const state = stateWith();
    advanceTraitState(state, T0 + 8 * DAY, compiled, 7);
    expect(bucketCount(state)).toBe(3);
    advanceTraitState(state, T0 + 12 * DAY, compiled, 7);
    // Horizon = day 12 − 14 + 1 = day −1 relative to T0's day: everything is still kept.
    expect(bucketCount(state)).toBe(3);
    advanceTraitState(state, T0 + 15 * DAY, compiled, 7);
    expect(bucketCount(state)).toBe(2);
  });

  it('a late event inside the horizon lands in its own window and is deduplicated', () => {
    const state = stateWith();
    advanceTraitState(state, T0 + 6 * DAY, compiled, 7);
    const late = track('Order Completed', T0 + 1 * DAY, { revenue: 5, sku: 'C' }, { messageId: 'late-1' });
    expect(applySegmentMessage(state, late, compiled)).toBe(true);
    expect(applySegmentMessage(state, late, compiled)).toBe(false);
    expect(evaluateTraits(state, compiled, T0 + 6 * DAY)).toMatchObject({ orders_7d: 4, revenue_7d: 155, orders: 4 });
  });

  it('an event older than the horizon still counts all-time but is neither windowed nor deduplicated', () => {
    const state = stateWith();
    advanceTraitState(state, T0 + 30 * DAY, compiled, 7);
    const ancient = track('Order Completed', T0 + 3 * DAY, { revenue: 10, sku: 'Z' }, { messageId: 'ancient' });
    expect(applySegmentMessage(state, ancient, compiled)).toBe(true);
    expect(applySegmentMessage(state, ancient, compiled)).toBe(true);
    expect(evaluateTraits(state, compiled, T0 + 30 * DAY)).toMatchObject({ orders_7d: 0, orders: 5, revenue: 170 });
  });

  it('replaying the same messages and watermarks in the same order gives the same state', () => {
    const run = () => {
      const state = createUserTraitState();
      history.forEach((message, i) => {
        applySegmentMessage(state, message, compiled);
        advanceTraitState(state, message.timestamp + i * DAY, compiled, 1);
      });
      return state;
    };
    expect(run()).toEqual(run());
  });

  it('keeps a day bucket’s activity and messageIds in one word, saturating activity instead of losing precision', () => {
    const state = createUserTraitState();
    for (let i = 0; i < 3; i++)
      applySegmentMessage(state, track('Signed In', T0 + i, {}, { messageId: `m${i}` }), compiled);
    const [bucket] = bucketsOf(state);
    expect(bucket?.[1]).toBe(3);
    expect(bucket?.[2]).toHaveLength(3);
    const document = userTraitStateToJSON(state, compiled);
    const busy = { ...document, buckets: [[bucket![0], 2 ** 40, bucket![2]]] };
    const restored = userTraitStateFromJSON(busy, compiled);
    expect(bucketsOf(restored)).toEqual([[bucket![0], 2 ** 27 - 1, bucket![2]]]);
    applySegmentMessage(restored, track('Signed In', T0 + 5, {}, { messageId: 'm9' }), compiled);
    expect(bucketsOf(restored)[0]?.[1]).toBe(2 ** 27 - 1);
    expect(bucketsOf(restored)[0]?.[2]).toHaveLength(4);
  });
});
