import { parseSegmentFamilies, type SegmentFamily } from './segment-family.js';

/** Customer fields every revenue family summarises: MRR (major units) and the risk flags as shares. */
const CUSTOMER_SUMMARY = {
  numeric: ['mrr', 'subscription_count', 'past_due', 'scheduled_churn', 'delinquent'],
  categorical: ['country', 'reporting_currency'],
};

/**
 * The seeds' segmentations as configuration:
 * - revenue_tier (seed 000): paying customers by MRR, enterprise ≥ 10,000, mid_market ≥ 1,000, smb otherwise.
 * - cdp_cluster (seed 002): users by computed traits, the seed's if/elif chain with its defaults for missing
 *   traits (ltv 0, purchase_count 0, churn_risk 0.5). The summary averages ltv and purchase_count over every
 *   member (missing = 0, as the seed does) but churn_risk only over members that have one: the seed's
 *   missing = 0 there would contradict its own 0.5 used for clustering and understate the risk.
 * - payment_geography: paying customers with a known region, by region.
 */
export const defaultSegmentFamilies: readonly SegmentFamily[] = parseSegmentFamilies([
  {
    name: 'revenue_tier',
    label: 'Revenue Tier',
    kind: 'customer',
    where: { field: 'mrr', op: 'gt', value: 0 },
    segments: [
      { key: 'enterprise', when: { field: 'mrr', op: 'gte', value: 10_000 } },
      { key: 'mid_market', when: { field: 'mrr', op: 'gte', value: 1_000 } },
      { key: 'smb' },
    ],
    persona: { template: 'revenue_tier' },
    summary: CUSTOMER_SUMMARY,
  },
  {
    name: 'cdp_cluster',
    label: 'Segment CDP',
    kind: 'user',
    segments: [
      {
        key: 'high_value',
        when: {
          all: [
            { field: 'ltv', op: 'gt', value: 500, default: 0 },
            { field: 'churn_risk', op: 'lt', value: 0.15, default: 0.5 },
          ],
        },
      },
      {
        key: 'growth',
        when: {
          all: [
            { field: 'ltv', op: 'gt', value: 100, default: 0 },
            { field: 'purchase_count', op: 'gte', value: 2, default: 0 },
          ],
        },
      },
      { key: 'at_risk', when: { field: 'churn_risk', op: 'gt', value: 0.4, default: 0.5 } },
      { key: 'new' },
    ],
    persona: { template: 'cdp_cluster' },
    summary: {
      numeric: [{ field: 'ltv', default: 0 }, { field: 'purchase_count', default: 0 }, 'churn_risk'],
      categorical: ['industry', 'plan'],
    },
  },
  {
    name: 'payment_geography',
    label: 'Payment Geography',
    kind: 'customer',
    where: {
      all: [
        { field: 'mrr', op: 'gt', value: 0 },
        { field: 'region', op: 'exists' },
      ],
    },
    segments: [
      { key: 'NA', label: 'North America', when: { field: 'region', op: 'eq', value: 'NA' } },
      { key: 'LATAM', label: 'Latin America', when: { field: 'region', op: 'eq', value: 'LATAM' } },
      { key: 'EMEA', label: 'EMEA', when: { field: 'region', op: 'eq', value: 'EMEA' } },
      { key: 'APAC', label: 'APAC', when: { field: 'region', op: 'eq', value: 'APAC' } },
    ],
    persona: { template: 'payment_geography' },
    summary: CUSTOMER_SUMMARY,
  },
]);
