import { describe, expect, it } from 'vitest';
import { validatePersonaPayload } from '../../../src/domain/personas/mavera-shape.js';
import { defaultPersonaPolicy } from '../../../src/domain/personas/persona-policy.js';
import { renderPersona } from '../../../src/domain/personas/render-persona.js';
import { defaultSegmentFamilies } from '../../../src/domain/segments/default-families.js';
import { SegmentIndex } from '../../../src/domain/segments/segment-index.js';
import { parseSegmentFamilies, type SegmentFamily } from '../../../src/domain/segments/segment-family.js';
import type { SegmentSummary } from '../../../src/domain/segments/segment-summary.js';
import { customer, user } from '../segments/make-profile.js';
import { SEED_002_PROFILES } from '../../fixtures/seeds.js';

function family(name: string): SegmentFamily {
  return defaultSegmentFamilies.find((f) => f.name === name)!;
}

describe('revenue_tier persona (seed 000)', () => {
  it('produces the seed example text: 34 customers averaging $28,450', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    // 34 enterprise customers: 33 at 28,000 and one at 43,300 average 28,450.
    for (let i = 0; i < 33; i++) index.upsert(customer(`cus_${String(i).padStart(2, '0')}`, { mrr: 28_000 }));
    index.upsert(customer('cus_99', { mrr: 43_300 }));
    const summary = index.summary('revenue_tier', 'enterprise');
    expect(renderPersona(family('revenue_tier'), summary, defaultPersonaPolicy)).toEqual({
      name: 'Enterprise Customer',
      description: 'Revenue tier: enterprise. 34 customers, avg MRR $28,450.',
      pipeline_type: 'advanced',
      type: 'B2B',
      key_differentiators: ['Revenue tier: enterprise', 'Customers: 34', 'Avg MRR: $28,450'],
    });
  });

  it('title-cases the tier as Python does and reports billing risks as pains', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(customer('a', { mrr: 1_500, past_due: true, country: 'DE', reporting_currency: 'eur' }));
    index.upsert(
      customer('b', { mrr: 2_000.4, scheduled_churn: true, past_due: false, country: 'FR', reporting_currency: 'eur' }),
    );
    index.upsert(customer('c', { mrr: 1_200, past_due: false, country: 'DE', reporting_currency: 'eur' }));
    const payload = renderPersona(
      family('revenue_tier'),
      index.summary('revenue_tier', 'mid_market'),
      defaultPersonaPolicy,
    );
    expect(payload).toEqual({
      name: 'Mid Market Customer',
      description: 'Revenue tier: mid_market. 3 customers, avg MRR €1,567.',
      pipeline_type: 'advanced',
      type: 'B2B',
      key_differentiators: ['Revenue tier: mid_market', 'Customers: 3', 'Avg MRR: €1,567', 'Top countries: DE, FR'],
      pains: ['33% of customers have a past-due invoice', '100% of customers have scheduled a cancellation'],
    });
    expect(payload).not.toBeNull();
    expect(validatePersonaPayload(payload)).toEqual([]);
  });
});

describe('cdp_cluster personas (seed 002)', () => {
  const seedTraits = SEED_002_PROFILES;

  function seedPersonas() {
    const index = new SegmentIndex(defaultSegmentFamilies);
    // The seed's fallback: the 3 profiles × 20.
    for (let i = 0; i < 60; i++) index.upsert(user(`user_${i}`, seedTraits[i % 3]!));
    return index
      .summaries()
      .filter((s) => s.family === 'cdp_cluster')
      .map((s) => ({
        segment: s.segment,
        n: s.count,
        payload: renderPersona(family('cdp_cluster'), s, defaultPersonaPolicy),
      }));
  }

  it('creates the three seed personas with N=20 and the seed averages; `new` has none', () => {
    const personas = seedPersonas();
    expect(personas.map(({ segment, n, payload }) => [segment, n, payload?.name ?? null])).toEqual([
      ['at_risk', 20, 'Segment CDP: At Risk'],
      ['growth', 20, 'Segment CDP: Growth'],
      ['high_value', 20, 'Segment CDP: High Value'],
      ['new', 0, null],
    ]);
    expect(personas.map((p) => p.payload?.description ?? null)).toEqual([
      'At Risk segment from Segment computed traits. N=20. Avg LTV: $85. Avg purchases: 1.0. Avg churn risk: 65%. Industries: Agency. Plans: free.',
      'Growth segment from Segment computed traits. N=20. Avg LTV: $450. Avg purchases: 3.0. Avg churn risk: 22%. Industries: E-commerce. Plans: starter.',
      'High Value segment from Segment computed traits. N=20. Avg LTV: $1200. Avg purchases: 8.0. Avg churn risk: 5%. Industries: SaaS. Plans: pro.',
      null,
    ]);
  });

  it('carries the seed demographic and psychographic content in documented fields', () => {
    const highValue = seedPersonas().find((p) => p.segment === 'high_value')!.payload;
    expect(highValue).toEqual({
      name: 'Segment CDP: High Value',
      description:
        'High Value segment from Segment computed traits. N=20. Avg LTV: $1200. Avg purchases: 8.0. Avg churn risk: 5%. Industries: SaaS. Plans: pro.',
      pipeline_type: 'advanced',
      type: 'B2B',
      industry: 'SaaS',
      key_differentiators: [
        'Cluster: high_value',
        'Users: 20',
        'Avg LTV: $1200',
        'Avg purchases: 8.0',
        'Avg churn risk: 5%',
        'Engagement tier: high',
        'Industries: SaaS',
        'Plans: pro',
      ],
    });
  });

  it('gives no persona below min_segment_size and prints n/a for an unknown churn risk', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    index.upsert(user('a', { ltv: 150, purchase_count: 2 }));
    index.upsert(user('b', { ltv: 250, purchase_count: 3 }));
    const growth = () => index.summary('cdp_cluster', 'growth');
    expect(renderPersona(family('cdp_cluster'), growth(), defaultPersonaPolicy)).toBeNull();
    index.upsert(user('c', { ltv: 350, purchase_count: 4 }));
    expect(renderPersona(family('cdp_cluster'), growth(), defaultPersonaPolicy)?.description).toBe(
      'Growth segment from Segment computed traits. N=3. Avg LTV: $250. Avg purchases: 3.0. Avg churn risk: n/a. Industries: . Plans: .',
    );
    expect(renderPersona(family('cdp_cluster'), growth(), { ...defaultPersonaPolicy, min_segment_size: 4 })).toBeNull();
  });
});

describe('payment_geography and generic personas', () => {
  it('describes a region in the revenue-tier style', () => {
    const index = new SegmentIndex(defaultSegmentFamilies);
    for (const [id, mrr, country] of [
      ['a', 1_000, 'DE'],
      ['b', 1_468.5, 'FR'],
      ['c', 1_234, 'DE'],
    ] as const) {
      index.upsert(customer(id, { mrr, country, region: 'EMEA' }));
    }
    expect(
      renderPersona(family('payment_geography'), index.summary('payment_geography', 'EMEA'), defaultPersonaPolicy),
    ).toEqual({
      name: 'EMEA Customers',
      description: 'Region: EMEA. 3 paying customers, avg MRR $1,234.',
      pipeline_type: 'advanced',
      type: 'B2B',
      key_differentiators: ['Region: EMEA', 'Paying customers: 3', 'Avg MRR: $1,234', 'Top countries: DE, FR'],
    });
  });

  it('renders a user-defined family with its averages and top lists, and fits a long name into 100 characters', () => {
    const [custom] = parseSegmentFamilies([
      {
        name: 'power_users',
        label: 'Power Users Across Every Workspace And Region Of The Product',
        kind: 'user',
        segments: [{ key: 'heavy', label: 'Heavy Daily Users Of Reports, Exports And Scheduled Dashboards' }],
        persona: { template: 'generic', type: 'B2C', pipeline_type: 'north_star' },
        summary: { numeric: ['sessions'], categorical: ['industry'] },
      },
    ]);
    const summary: SegmentSummary = {
      family: 'power_users',
      segment: 'heavy',
      label: 'Heavy Daily Users Of Reports, Exports And Scheduled Dashboards',
      count: 4,
      sums: { sessions: 4_810 },
      averages: { sessions: 1_202.5 },
      top: { industry: ['SaaS', 'Fintech'] },
      sampleIds: [],
    };
    const payload = renderPersona(custom!, summary, defaultPersonaPolicy)!;
    expect(payload.name).toHaveLength(100);
    expect(payload.name).toBe(
      'Power Users Across Every Workspace And Region Of The Product: Heavy Daily Users Of Reports, Exports…',
    );
    expect(payload).toMatchObject({
      type: 'B2C',
      pipeline_type: 'north_star',
      industry: 'SaaS',
      key_differentiators: ['Segment: heavy', 'Members: 4', 'Avg sessions: 1,202.5', 'Industry: SaaS, Fintech'],
    });
    expect(payload.description).toBe(
      'Heavy Daily Users Of Reports, Exports And Scheduled Dashboards segment of Power Users Across Every Workspace And Region Of The Product. N=4. Avg sessions: 1,202.5. Industry: SaaS, Fintech.',
    );
    expect(validatePersonaPayload(payload)).toEqual([]);
  });
});
