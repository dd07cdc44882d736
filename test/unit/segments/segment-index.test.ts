import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue, Profile } from '../../../src/domain/profile/model.js';
import { defaultSegmentFamilies } from '../../../src/domain/segments/default-families.js';
import { segmentOf } from '../../../src/domain/segments/membership.js';
import { SegmentIndex, UnknownSegmentError } from '../../../src/domain/segments/segment-index.js';
import { parseSegmentFamilies } from '../../../src/domain/segments/segment-family.js';
import type { SegmentSummary } from '../../../src/domain/segments/segment-summary.js';
import { customer, user } from './make-profile.js';

describe('SegmentIndex summaries', () => {
  it('sums, averages, ranks and samples the members of a segment', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(
      customer('cus_c', { mrr: 12_000, country: 'DE', region: 'EMEA', past_due: true, subscription_count: 2 }),
    );
    index.upsert(
      customer('cus_a', { mrr: 30_000.5, country: 'FR', region: 'EMEA', past_due: false, subscription_count: 1 }),
    );
    index.upsert(customer('cus_b', { mrr: 15_000, country: 'DE', region: 'EMEA', past_due: false }));
    index.upsert(customer('cus_d', { mrr: 500, country: 'US', region: 'NA' }));

    expect(index.summary('revenue_tier', 'enterprise')).toEqual({
      family: 'revenue_tier',
      segment: 'enterprise',
      label: 'Enterprise',
      count: 3,
      sums: { mrr: 57_000.5, subscription_count: 3, past_due: 1, scheduled_churn: 0, delinquent: 0 },
      averages: {
        mrr: 19_000.166666666668,
        subscription_count: 1.5,
        past_due: 1 / 3,
        scheduled_churn: null,
        delinquent: null,
      },
      top: { country: ['DE', 'FR'], reporting_currency: [] },
      sampleIds: ['cus_a', 'cus_b', 'cus_c'],
    });
    expect(index.summary('payment_geography', 'EMEA').count).toBe(3);
    expect(index.summary('revenue_tier', 'smb').sampleIds).toEqual(['cus_d']);
    expect(index.memberCount).toBe(4);
  });

  it('moves a member between segments and out of every segment', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(customer('cus_1', { mrr: 2_000, region: 'NA' }));
    index.upsert(customer('cus_2', { mrr: 3_000, region: 'NA' }));
    index.upsert(customer('cus_1', { mrr: 20_000, region: 'EMEA' }));

    expect(index.summary('revenue_tier', 'mid_market')).toMatchObject({
      count: 1,
      sums: { mrr: 3_000 },
      sampleIds: ['cus_2'],
    });
    expect(index.summary('revenue_tier', 'enterprise')).toMatchObject({
      count: 1,
      sums: { mrr: 20_000 },
      sampleIds: ['cus_1'],
    });
    expect(index.membershipsOf('customer:cus_1')).toEqual([
      { family: 'revenue_tier', segment: 'enterprise' },
      { family: 'payment_geography', segment: 'EMEA' },
    ]);

    index.upsert(customer('cus_1', { mrr: 0, region: 'EMEA' }));
    expect(index.summary('revenue_tier', 'enterprise')).toMatchObject({ count: 0, sums: { mrr: 0 }, sampleIds: [] });
    expect(index.summary('revenue_tier', 'enterprise').averages['mrr']).toBeNull();
    expect(index.summary('payment_geography', 'EMEA').count).toBe(0);
    expect(index.membershipsOf('customer:cus_1')).toEqual([]);
    expect(index.memberCount).toBe(1);
  });

  it('removes a member by profile key', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(user('u1', { ltv: 1200, purchase_count: 8, churn_risk: 0.05, plan: 'pro' }));
    index.upsert(user('u2', { ltv: 900, purchase_count: 2, churn_risk: 0.1, plan: 'team' }));
    expect(index.remove('user:u1')).toBe(true);
    expect(index.remove('user:u1')).toBe(false);
    expect(index.summary('cdp_cluster', 'high_value')).toMatchObject({
      count: 1,
      averages: { ltv: 900, purchase_count: 2, churn_risk: 0.1 },
      top: { industry: [], plan: ['team'] },
      sampleIds: ['u2'],
    });
  });

  it('averages defaulted fields over every member and others over members having them', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(user('u1', { ltv: 50, purchase_count: 1, churn_risk: 0.9 }));
    index.upsert(user('u2', { churn_risk: 0.5 }));
    index.upsert(user('u3', {}));
    expect(index.summary('cdp_cluster', 'at_risk')).toMatchObject({
      count: 3,
      sums: { ltv: 50, purchase_count: 1, churn_risk: 1.4 },
      averages: { ltv: 50 / 3, purchase_count: 1 / 3, churn_risk: 0.7 },
    });
  });

  it('ranks the top 3 by count, ties alphabetically, counting every item of a list', () => {
    const families = parseSegmentFamilies([
      {
        name: 'all_users',
        kind: 'user',
        segments: [{ key: 'everyone' }],
        persona: { template: 'generic' },
        summary: { categorical: ['tags', 'plan', 'beta'] },
      },
    ]);
    const index = new SegmentIndex(families);
    index.upsert(user('1', { tags: ['b', 'c'], plan: 'pro', beta: true }));
    index.upsert(user('2', { tags: ['a', 'b'], plan: 'free', beta: false }));
    index.upsert(user('3', { tags: ['d', 'c'], plan: '', beta: true }));
    index.upsert(user('4', { tags: ['e'], plan: null }));
    expect(index.summary('all_users', 'everyone').top).toEqual({
      tags: ['b', 'c', 'a'],
      plan: ['free', 'pro'],
      beta: ['true', 'false'],
    });
  });

  it('samples the 5 smallest ids and refills when one leaves', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    for (const id of ['u7', 'u3', 'u10', 'u1', 'u5', 'u2', 'u9']) index.upsert(user(id, {}));
    expect(index.summary('cdp_cluster', 'at_risk').sampleIds).toEqual(['u1', 'u10', 'u2', 'u3', 'u5']);
    index.remove('user:u2');
    expect(index.summary('cdp_cluster', 'at_risk').sampleIds).toEqual(['u1', 'u10', 'u3', 'u5', 'u7']);
  });

  it('samples a configured id field, counting duplicates', () => {
    const families = parseSegmentFamilies([
      {
        name: 'everyone',
        kind: 'user',
        segments: [{ key: 'all' }],
        persona: { template: 'generic' },
        summary: { sample_id_field: 'email' },
      },
    ]);
    const index = new SegmentIndex(families);
    index.upsert(user('1', { email: 'b@x.io' }));
    index.upsert(user('2', { email: 'b@x.io' }));
    index.upsert(user('3', { email: 'a@x.io' }));
    index.upsert(user('4', {}));
    index.remove('user:1');
    expect(index.summary('everyone', 'all')).toMatchObject({ count: 3, sampleIds: ['a@x.io', 'b@x.io'] });
  });

  it('lists every configured segment sorted by family and segment, and rejects unknown ones', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    expect(index.summaries().map((s) => `${s.family}/${s.segment}`)).toEqual([
      'cdp_cluster/at_risk',
      'cdp_cluster/growth',
      'cdp_cluster/high_value',
      'cdp_cluster/new',
      'payment_geography/APAC',
      'payment_geography/EMEA',
      'payment_geography/LATAM',
      'payment_geography/NA',
      'revenue_tier/enterprise',
      'revenue_tier/mid_market',
      'revenue_tier/smb',
    ]);
    expect(() => index.summary('revenue_tier', 'gold')).toThrow(UnknownSegmentError);
    expect(() => index.summary('tiers', 'smb')).toThrow('no segment "smb" in segment family "tiers"');
  });
});

/** Naive recomputation over a plain list of profiles: what the incremental index must equal. */
function recompute(profiles: readonly Profile[]): SegmentSummary[] {
  const out: SegmentSummary[] = [];
  for (const family of defaultSegmentFamilies) {
    for (const segment of family.segments) {
      const members = profiles.filter((p) => segmentOf(p, family) === segment.key);
      const sums: Record<string, number> = {};
      const averages: Record<string, number | null> = {};
      for (const spec of family.summary.numeric) {
        const values = members
          .map((p) => p.fields[spec.field] ?? ('default' in spec ? spec.default : undefined) ?? null)
          .filter((v): v is number | boolean => typeof v === 'number' || typeof v === 'boolean')
          .map(Number);
        sums[spec.field] = values.reduce((a, b) => a + b, 0);
        averages[spec.field] = values.length === 0 ? null : (sums[spec.field] ?? 0) / values.length;
      }
      const top: Record<string, string[]> = {};
      for (const field of family.summary.categorical) {
        const counts = new Map<string, number>();
        for (const p of members) {
          const v = p.fields[field];
          if (typeof v === 'string' && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        top[field] = [...counts]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 3)
          .map(([v]) => v);
      }
      out.push({
        family: family.name,
        segment: segment.key,
        label: segment.label ?? '',
        count: members.length,
        sums,
        averages,
        top,
        sampleIds: members
          .map((p) => p.entityId)
          .sort()
          .slice(0, 5),
      });
    }
  }
  return out.sort((a, b) => (a.family + '/' + a.segment < b.family + '/' + b.segment ? -1 : 1));
}

const cents = fc.integer({ min: 0, max: 3_000_000 }).map((n) => n / 100);
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> =>
  fc.oneof(arb, fc.constant(null), fc.constant(undefined));
const compact = (fields: Record<string, FieldValue | undefined>): Record<string, FieldValue> =>
  Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, FieldValue] => entry[1] !== undefined));

const customerArb = fc
  .record({
    id: fc.constantFrom('cus_a', 'cus_b', 'cus_c', 'cus_d', 'cus_e', 'cus_f', 'cus_g'),
    mrr: fc.oneof(cents, fc.constant(0)),
    region: maybe(fc.constantFrom('NA', 'EMEA', 'APAC')),
    country: maybe(fc.constantFrom('US', 'DE', 'FR', 'JP')),
    past_due: fc.boolean(),
    subscription_count: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ id, ...fields }) => customer(id, compact(fields)));

const userArb = fc
  .record({
    id: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'),
    ltv: maybe(cents),
    purchase_count: maybe(fc.integer({ min: 0, max: 10 })),
    churn_risk: maybe(fc.integer({ min: 0, max: 100 }).map((n) => n / 100)),
    industry: maybe(fc.constantFrom('SaaS', 'Agency', 'E-commerce')),
    plan: maybe(fc.constantFrom('free', 'pro', 'team', 'starter')),
  })
  .map(({ id, ...fields }) => user(id, compact(fields)));

type Op = { readonly upsert: Profile } | { readonly remove: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(customerArb, userArb).map((profile) => ({ upsert: profile })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('customer:cus_a', 'customer:cus_b', 'user:u1', 'user:u2')
      .map((key) => ({ remove: key })),
  },
);

describe('SegmentIndex against a from-scratch recomputation', () => {
  it('equals a recomputation over the final profiles, whatever the order of upserts and removes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const index = new SegmentIndex(defaultSegmentFamilies);
        const latest = new Map<string, Profile>();
        for (const op of ops) {
          if ('upsert' in op) {
            index.upsert(op.upsert);
            latest.set(op.upsert.key, op.upsert);
          } else {
            index.remove(op.remove);
            latest.delete(op.remove);
          }
        }
        const finalProfiles = [...latest.values()];

        // Same final state as a fresh index fed the final profiles in reverse order: exactly equal.
        const fresh = new SegmentIndex(defaultSegmentFamilies);
        for (const profile of [...finalProfiles].reverse()) fresh.upsert(profile);
        expect(index.summaries()).toEqual(fresh.summaries());

        // And the numbers a naive recomputation gives (sums to float precision).
        const actual = index.summaries();
        const expected = recompute(finalProfiles);
        actual.forEach((summary, i) => {
          const naive = expected[i]!;
          expect({ ...summary, label: '', sums: {}, averages: {} }).toEqual({
            ...naive,
            label: '',
            sums: {},
            averages: {},
          });
          for (const field of Object.keys(naive.sums)) {
            expect(summary.sums[field]).toBeCloseTo(naive.sums[field]!, 6);
            const avg = naive.averages[field];
            if (avg === null) expect(summary.averages[field]).toBeNull();
            else expect(summary.averages[field]).toBeCloseTo(avg!, 6);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
