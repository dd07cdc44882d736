import { describe, expect, it } from 'vitest';
import { defaultSegmentFamilies } from '../../../src/domain/segments/default-families.js';
import { memberships, segmentOf } from '../../../src/domain/segments/membership.js';
import {
  InvalidSegmentConfigError,
  parseSegmentFamilies,
  type SegmentFamily,
} from '../../../src/domain/segments/segment-family.js';
import { customer, user } from './make-profile.js';

function family(name: string): SegmentFamily {
  const found = defaultSegmentFamilies.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no default family ${name}`);
  return found;
}

describe('revenue_tier (seed 000 thresholds)', () => {
  const tiers = family('revenue_tier');
  it.each([
    [10_000, 'enterprise'],
    [28_450, 'enterprise'],
    [9_999.99, 'mid_market'],
    [1_000, 'mid_market'],
    [999.99, 'smb'],
    [0.01, 'smb'],
  ])('mrr %d → %s', (mrr, tier) => {
    expect(segmentOf(customer('cus_1', { mrr }), tiers)).toBe(tier);
  });

  it('leaves out customers without MRR and users', () => {
    expect(segmentOf(customer('cus_1', { mrr: 0 }), tiers)).toBeNull();
    expect(segmentOf(customer('cus_1', {}), tiers)).toBeNull();
    expect(segmentOf(user('u1', { mrr: 50_000 }), tiers)).toBeNull();
  });
});

describe('cdp_cluster (seed 002 rules)', () => {
  const clusters = family('cdp_cluster');
  const of = (traits: Parameters<typeof user>[1]) => segmentOf(user('u', traits), clusters);

  it('reproduces the seed example clusters', () => {
    expect(of({ ltv: 1200, purchase_count: 8, churn_risk: 0.05 })).toBe('high_value');
    expect(of({ ltv: 450, purchase_count: 3, churn_risk: 0.22 })).toBe('growth');
    expect(of({ ltv: 85, purchase_count: 1, churn_risk: 0.65 })).toBe('at_risk');
    expect(of({ ltv: 85, purchase_count: 1, churn_risk: 0.3 })).toBe('new');
  });

  it('uses the seed defaults: missing churn_risk 0.5, missing ltv and purchase_count 0', () => {
    // churn 0.5 is not < 0.15, so a rich user without a churn score is not high value…
    expect(of({ ltv: 5000, purchase_count: 1 })).toBe('at_risk');
    // …but still growth when they bought twice.
    expect(of({ ltv: 5000, purchase_count: 2 })).toBe('growth');
    expect(of({ ltv: 5000, purchase_count: 2, churn_risk: null })).toBe('growth');
    expect(of({ purchase_count: 5, churn_risk: 0.1 })).toBe('new');
    expect(of({ ltv: 600, churn_risk: 0.1 })).toBe('high_value');
    expect(of({ ltv: 150, churn_risk: 0.1 })).toBe('new');
    expect(of({})).toBe('at_risk');
  });

  it('applies the thresholds strictly as the seed does', () => {
    expect(of({ ltv: 500, purchase_count: 9, churn_risk: 0.01 })).toBe('growth');
    expect(of({ ltv: 501, churn_risk: 0.15 })).toBe('new');
    expect(of({ ltv: 501, purchase_count: 2, churn_risk: 0.15 })).toBe('growth');
    expect(of({ ltv: 100, purchase_count: 2, churn_risk: 0.4 })).toBe('new');
  });

  it('ignores customers', () => {
    expect(segmentOf(customer('cus', { ltv: 1200, churn_risk: 0.05 }), clusters)).toBeNull();
  });
});

describe('payment_geography', () => {
  const geography = family('payment_geography');
  it('groups paying customers with a region by region', () => {
    expect(segmentOf(customer('c', { mrr: 10, region: 'EMEA' }), geography)).toBe('EMEA');
    expect(segmentOf(customer('c', { mrr: 10, region: 'LATAM' }), geography)).toBe('LATAM');
    expect(segmentOf(customer('c', { mrr: 10, region: null }), geography)).toBeNull();
    expect(segmentOf(customer('c', { mrr: 0, region: 'NA' }), geography)).toBeNull();
  });
});

describe('memberships', () => {
  it('lists one segment per matching family, in family order', () => {
    const profile = customer('cus_9', { mrr: 12_000, region: 'APAC' });
    expect(memberships(profile, defaultSegmentFamilies)).toEqual([
      { family: 'revenue_tier', segment: 'enterprise' },
      { family: 'payment_geography', segment: 'APAC' },
    ]);
    expect(memberships(user('u', { ltv: 1 }), defaultSegmentFamilies)).toEqual([
      { family: 'cdp_cluster', segment: 'at_risk' },
    ]);
  });
});

describe('segment family config', () => {
  const valid = {
    name: 'plans',
    kind: 'user',
    segments: [{ key: 'pro', when: { field: 'plan', op: 'eq', value: 'pro' } }, { key: 'other' }],
    persona: { template: 'generic' },
  };

  it('fills defaults', () => {
    const [parsed] = parseSegmentFamilies([valid]);
    expect(parsed?.persona).toEqual({ template: 'generic', type: 'B2B', pipeline_type: 'advanced' });
    expect(parsed?.summary).toEqual({ numeric: [], categorical: [] });
  });

  it('accepts numeric summary fields as names or with a default', () => {
    const [parsed] = parseSegmentFamilies([{ ...valid, summary: { numeric: ['ltv', { field: 'n', default: 0 }] } }]);
    expect(parsed?.summary.numeric).toEqual([{ field: 'ltv' }, { field: 'n', default: 0 }]);
  });

  function issuesOf(input: unknown): readonly { path: string; message: string }[] {
    try {
      parseSegmentFamilies(input);
    } catch (error) {
      if (error instanceof InvalidSegmentConfigError) return error.issues;
      throw error;
    }
    throw new Error('expected InvalidSegmentConfigError');
  }

  it('names the path of a bad condition', () => {
    const input = [{ ...valid, segments: [{ key: 'pro', when: { all: [{ field: 'plan', value: 'pro' }] } }] }];
    expect(issuesOf(input)).toEqual([{ path: '[0].segments[0].when.all[0].op', message: '`op` is required' }]);
  });

  it('rejects an otherwise segment before others, duplicate keys and duplicate families', () => {
    expect(issuesOf([{ ...valid, segments: [{ key: 'a' }, { key: 'b' }] }])).toEqual([
      {
        path: '[0].segments[0].when',
        message: 'only the last segment may omit `when`: the segments after it could never match',
      },
    ]);
    expect(
      issuesOf([{ ...valid, segments: [{ key: 'a', when: { field: 'x', op: 'exists' } }, { key: 'a' }] }]),
    ).toEqual([{ path: '[0].segments[1].key', message: 'duplicate segment "a"' }]);
    expect(issuesOf([valid, valid])).toEqual([{ path: '[1].name', message: 'duplicate segment family "plans"' }]);
  });

  it('rejects an unknown template and kind', () => {
    const paths = issuesOf([{ ...valid, kind: 'account', persona: { template: 'fancy' } }]).map((i) => i.path);
    expect(paths).toEqual(['[0].kind', '[0].persona.template']);
  });
});
