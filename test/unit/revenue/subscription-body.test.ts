import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodyLength,
  bodyOffsets,
  findBody,
  packBody,
  unpackBody,
  type RefTable,
} from '../../../src/domain/revenue/subscription-body.js';
import { SUBSCRIPTION_STATUSES, type SubscriptionSnapshot } from '../../../src/domain/stripe/model.js';
import { item, recurringPrice, subscription, T0 } from '../stripe/builders.js';

const instant = fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: null });

const snapshotArbitrary: fc.Arbitrary<SubscriptionSnapshot> = fc
  .record({
    status: fc.constantFrom(...SUBSCRIPTION_STATUSES),
    cancelAtPeriodEnd: fc.boolean(),
    pauseCollection: fc.boolean(),
    cancelAt: instant,
    canceledAt: instant,
    endedAt: instant,
    trialEnd: instant,
    currency: fc.constantFrom('usd', 'eur', 'jpy'),
    discountIds: fc.array(fc.constantFrom('di_a', 'di_b', 'di_c'), { maxLength: 2 }),
    items: fc.array(
      fc.record({
        id: fc.constantFrom('si_1', 'si_2', 'si_3'),
        amount: fc.integer({ min: 0, max: 1_000_000 }),
        interval: fc.constantFrom('day' as const, 'week' as const, 'month' as const, 'year' as const),
        quantity: fc.integer({ min: 0, max: 10_000 }),
        discountIds: fc.array(fc.constantFrom('di_x', 'di_y'), { maxLength: 2 }),
      }),
      { maxLength: 4 },
    ),
  })
  .map((r) =>
    subscription(
      r.items.map((i) =>
        item(
          i.id,
          recurringPrice(i.amount, i.interval, 1, { id: `price_${i.amount}_${i.interval}` }),
          i.quantity,
          i.discountIds,
        ),
      ),
      {
        status: r.status,
        cancelAtPeriodEnd: r.cancelAtPeriodEnd,
        pauseCollection: r.pauseCollection,
        cancelAt: r.cancelAt,
        canceledAt: r.canceledAt,
        endedAt: r.endedAt,
        trialEnd: r.trialEnd,
        currency: r.currency,
        discountIds: r.discountIds,
        created: T0,
      },
    ),
  );

describe('packed subscription bodies', () => {
  it('unpack(pack(snapshot)) gives back everything the MRR rules read', () => {
    fc.assert(
      fc.property(fc.array(snapshotArbitrary, { minLength: 1, maxLength: 6 }), (snapshots) => {
        const table: RefTable = { refs: [] };
        // Bodies end to end after a few words of something else, as a subscription history holds them.
        let words = [7, 7, 7];
        const offsets = snapshots.map((snapshot) => {
          const packed = packBody(table, snapshot);
          words = words.concat(packed);
          return words.length - packed.length;
        });
        snapshots.forEach((snapshot, i) => {
          expect(unpackBody(words, offsets[i]!, table.refs, snapshot.id, snapshot.customerId)).toEqual(snapshot);
        });
      }),
    );
  });

  it('finds an equal body among bodies end to end, and their offsets from their start', () => {
    const table: RefTable = { refs: [] };
    const active = subscription([item('si_1', recurringPrice(1_000, 'month'), 2)]);
    const pastDue = { ...active, status: 'past_due' as const };
    const words = [1, 2].concat(packBody(table, active), packBody(table, pastDue));
    const pastDueAt = bodyLength(words[2]!);
    expect(findBody(words, 2, packBody(table, { ...active }))).toBe(0);
    expect(findBody(words, 2, packBody(table, { ...pastDue }))).toBe(pastDueAt);
    expect(findBody(words, 2, packBody(table, { ...active, status: 'canceled' as const }))).toBe(-1);
    expect(bodyOffsets(words, 2)).toEqual([0, pastDueAt]);
    expect(bodyOffsets(words.slice(0, -1), 2)).toBeNull();
    expect(table.refs.filter((ref) => ref === 'si_1')).toHaveLength(1);
  });
});
