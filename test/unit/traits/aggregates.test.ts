import { describe, expect, it } from 'vitest';
import {
  applySegmentMessage,
  compileTraitDefinitions,
  createUserTraitState,
  evaluateTraits,
  traitDefinitionsSchema,
  type TraitCondition,
  type TraitDefinitionInput,
} from '../../../src/domain/traits/index.js';
import type { SegmentMessage } from '../../../src/domain/segment/model.js';
import { DAY, T0, identify, page, track } from './messages.js';

function traitsAfter(definitions: TraitDefinitionInput[], messages: SegmentMessage[], at = T0 + 10 * DAY) {
  const compiled = compileTraitDefinitions(traitDefinitionsSchema.parse(definitions));
  const state = createUserTraitState();
  for (const message of messages) applySegmentMessage(state, message, compiled);
  return evaluateTraits(state, compiled, at);
}

const orders = [
  track('Order Completed', T0 + 3 * DAY, { revenue: 19.99, category: 'Supplies' }),
  track('Order Completed', T0, { revenue: 60, category: 'Hardware' }),
  track('Order Completed', T0 + 1 * DAY, { revenue: '0.01', category: 'Supplies' }),
  track('Order Completed', T0 + 2 * DAY, { revenue: 'n/a', category: 'Hardware' }),
  track('Order Completed', T0 + 4 * DAY, { category: 'Books' }),
  track('Product Viewed', T0 + 5 * DAY, { revenue: 1000, category: 'Toys' }),
];

describe('event aggregates', () => {
  it('count, sum, avg, min and max of Order Completed revenue', () => {
    const event = 'Order Completed';
    const traits = traitsAfter(
      [
        { key: 'orders', type: 'count', event },
        { key: 'ltv', type: 'sum', event, property: 'revenue' },
        { key: 'aov', type: 'avg', event, property: 'revenue' },
        { key: 'smallest', type: 'min', event, property: 'revenue' },
        { key: 'largest', type: 'max', event, property: 'revenue' },
      ],
      orders,
    );
    // 'n/a' and a missing revenue are not numbers: counted as orders, not in the sums.
    expect(traits).toMatchObject({ orders: 5, ltv: 80, aov: 80 / 3, smallest: 0.01, largest: 60 });
  });

  it('sums exactly: 0.1 + 0.2 is 0.3', () => {
    const messages = [0.1, 0.2].map((v, i) => track('Tip', T0 + i, { amount: v }));
    expect(traitsAfter([{ key: 'tips', type: 'sum', event: 'Tip', property: 'amount' }], messages)['tips']).toBe(0.3);
  });

  it('first and last by event time, not arrival; without property they give the event time', () => {
    const traits = traitsAfter(
      [
        { key: 'first_category', type: 'first', event: 'Order Completed', property: 'category' },
        { key: 'last_category', type: 'last', event: 'Order Completed', property: 'category' },
        { key: 'first_order_at', type: 'first', event: 'Order Completed' },
        { key: 'last_order_at', type: 'last', event: 'Order Completed' },
      ],
      orders,
    );
    expect(traits).toMatchObject({
      first_category: 'Hardware',
      last_category: 'Books',
      first_order_at: T0,
      last_order_at: T0 + 4 * DAY,
    });
  });

  it('most_frequent needs two occurrences and breaks ties alphabetically', () => {
    const definition = { key: 'top', type: 'most_frequent', event: 'Order Completed', property: 'category' } as const;
    expect(traitsAfter([definition], orders)['top']).toBe('Hardware');
    expect(traitsAfter([definition], orders.slice(0, 1))['top']).toBeNull();
    const tie = ['b', 'a', 'b', 'a', 'c'].map((c, i) => track('Order Completed', T0 + i, { category: c }));
    expect(traitsAfter([definition], tie)['top']).toBe('a');
  });

  it('unique_list is alphabetical and unique_count counts distinct values', () => {
    const traits = traitsAfter(
      [
        { key: 'categories', type: 'unique_list', event: 'Order Completed', property: 'category' },
        { key: 'category_count', type: 'unique_count', event: 'Order Completed', property: 'category' },
        { key: 'revenues', type: 'unique_list', event: 'Order Completed', property: 'revenue' },
      ],
      orders,
    );
    expect(traits).toMatchObject({
      categories: ['Books', 'Hardware', 'Supplies'],
      category_count: 3,
      revenues: ['0.01', '19.99', '60', 'n/a'],
    });
  });

  it('empty aggregates: 0 for counters and sums, [] for lists, null otherwise', () => {
    const traits = traitsAfter(
      [
        { key: 'n', type: 'count', event: 'X' },
        { key: 's', type: 'sum', event: 'X', property: 'v' },
        { key: 'a', type: 'avg', event: 'X', property: 'v' },
        { key: 'lo', type: 'min', event: 'X', property: 'v' },
        { key: 'f', type: 'first', event: 'X', property: 'v' },
        { key: 'm', type: 'most_frequent', event: 'X', property: 'v' },
        { key: 'l', type: 'unique_list', event: 'X', property: 'v' },
        { key: 'u', type: 'unique_count', event: 'X', property: 'v' },
      ],
      [],
    );
    expect(traits).toEqual({
      n: 0,
      s: 0,
      a: null,
      lo: null,
      f: null,
      m: null,
      l: [],
      u: 0,
      email: null,
      first_seen_at: null,
      last_seen_at: null,
    });
  });

  it('a definition without event reads every call of its message type; page definitions read page names', () => {
    const traits = traitsAfter(
      [
        { key: 'tracks', type: 'count' },
        { key: 'pages', type: 'count', message_type: 'page' },
        { key: 'pricing_views', type: 'count', message_type: 'page', event: 'Pricing' },
      ],
      [...orders, page('Pricing', T0), page('Home', T0 + 1), page('Pricing', T0 + 2), identify(T0, { plan: 'pro' })],
    );
    expect(traits).toMatchObject({ tracks: 6, pages: 3, pricing_views: 2 });
  });

  it('dotted property paths read nested values and array elements', () => {
    const messages = [
      track('Order Completed', T0, { order: { total: 10 }, products: [{ sku: 'A' }] }),
      track('Order Completed', T0 + 1, { order: { total: 15 }, products: [{ sku: 'B' }] }),
      track('Order Completed', T0 + 2, { 'order.total': 100, products: [{ sku: 'B' }] }),
    ];
    const traits = traitsAfter(
      [
        { key: 'total', type: 'sum', event: 'Order Completed', property: 'order.total' },
        { key: 'first_sku', type: 'most_frequent', event: 'Order Completed', property: 'products.0.sku' },
      ],
      messages,
    );
    // A literal "order.total" key wins over the nested reading.
    expect(traits).toMatchObject({ total: 125, first_sku: 'B' });
  });
});

describe('where filters', () => {
  const events = [
    track('Order Completed', T0, { revenue: 120, currency: 'EUR', coupon: 'SPRING5', tags: ['gift', 'rush'] }),
    track('Order Completed', T0 + 1, { revenue: 40, currency: 'USD', tags: ['rush'] }),
    track('Order Completed', T0 + 2, { revenue: 75, currency: 'usd', coupon: null, date: '2025-03-02' }),
    track('Order Completed', T0 + 3, { revenue: '90', currency: 'GBP', date: '2025-02-27' }),
  ];
  const cases: [string, TraitCondition[], number][] = [
    ['eq', [{ property: 'currency', op: 'eq', value: 'USD' }], 1],
    ['neq (missing counts as different)', [{ property: 'coupon', op: 'neq', value: 'SPRING5' }], 3],
    ['gt on numbers only', [{ property: 'revenue', op: 'gt', value: 50 }], 2],
    ['gte', [{ property: 'revenue', op: 'gte', value: 75 }], 2],
    ['lt', [{ property: 'revenue', op: 'lt', value: 75 }], 1],
    ['lte', [{ property: 'revenue', op: 'lte', value: 75 }], 2],
    ['string comparison', [{ property: 'date', op: 'gte', value: '2025-03-01' }], 1],
    ['contains substring', [{ property: 'coupon', op: 'contains', value: 'SPRING' }], 1],
    ['contains array element', [{ property: 'tags', op: 'contains', value: 'rush' }], 2],
    ['exists ignores null', [{ property: 'coupon', op: 'exists' }], 1],
    ['not_exists', [{ property: 'coupon', op: 'not_exists' }], 3],
    ['in', [{ property: 'currency', op: 'in', value: ['USD', 'GBP'] }], 2],
    [
      'conditions are a conjunction',
      [
        { property: 'currency', op: 'in', value: ['EUR', 'USD'] },
        { property: 'revenue', op: 'gt', value: 100 },
      ],
      1,
    ],
  ];
  for (const [name, where, expected] of cases) {
    it(name, () => {
      const traits = traitsAfter([{ key: 'n', type: 'count', event: 'Order Completed', where }], events);
      expect(traits['n']).toBe(expected);
    });
  }
});
