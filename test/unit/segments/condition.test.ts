import { describe, expect, it } from 'vitest';
import { compileCondition, conditionSchema, type Condition } from '../../../src/domain/segments/condition.js';
import type { ProfileFields } from '../../../src/domain/segments/field-reader.js';

const holds = (condition: unknown, fields: ProfileFields): boolean =>
  compileCondition(conditionSchema.parse(condition))(fields);

describe('condition operators', () => {
  it('compares numbers with gt/gte/lt/lte at the boundary', () => {
    expect(holds({ field: 'mrr', op: 'gt', value: 1000 }, { mrr: 1000 })).toBe(false);
    expect(holds({ field: 'mrr', op: 'gte', value: 1000 }, { mrr: 1000 })).toBe(true);
    expect(holds({ field: 'mrr', op: 'lt', value: 1000 }, { mrr: 999.99 })).toBe(true);
    expect(holds({ field: 'mrr', op: 'lte', value: 1000 }, { mrr: 1000.01 })).toBe(false);
  });

  it('orders strings lexically and never compares a string with a number', () => {
    expect(
      holds({ field: 'last_seen_at', op: 'lt', value: '2026-01-01' }, { last_seen_at: '2025-12-31T23:00:00Z' }),
    ).toBe(true);
    expect(holds({ field: 'mrr', op: 'gt', value: 5 }, { mrr: '10' })).toBe(false);
    expect(holds({ field: 'plan', op: 'gt', value: 'a' }, { plan: 7 })).toBe(false);
  });

  it('tests equality strictly, and list fields by membership', () => {
    expect(holds({ field: 'plan', op: 'eq', value: 'pro' }, { plan: 'pro' })).toBe(true);
    expect(holds({ field: 'count', op: 'eq', value: 1 }, { count: '1' })).toBe(false);
    expect(holds({ field: 'past_due', op: 'eq', value: true }, { past_due: true })).toBe(true);
    expect(holds({ field: 'features', op: 'eq', value: 'export' }, { features: ['import', 'export'] })).toBe(true);
    expect(holds({ field: 'features', op: 'neq', value: 'export' }, { features: ['import'] })).toBe(true);
  });

  it('matches `in` against a scalar or any item of a list', () => {
    const cond = { field: 'country', op: 'in', value: ['US', 'CA'] };
    expect(holds(cond, { country: 'CA' })).toBe(true);
    expect(holds(cond, { country: 'MX' })).toBe(false);
    expect(holds(cond, { country: ['MX', 'US'] })).toBe(true);
    expect(holds(cond, {})).toBe(false);
  });

  it('treats null like missing: exists, not_exists', () => {
    expect(holds({ field: 'region', op: 'exists' }, { region: 'EMEA' })).toBe(true);
    expect(holds({ field: 'region', op: 'exists' }, { region: null })).toBe(false);
    expect(holds({ field: 'region', op: 'exists' }, {})).toBe(false);
    expect(holds({ field: 'region', op: 'not_exists' }, { region: null })).toBe(true);
    expect(holds({ field: 'region', op: 'exists' }, { region: false })).toBe(true);
  });

  it('uses the default for a missing or null field, and nothing otherwise', () => {
    const churnBelow = { field: 'churn_risk', op: 'lt', value: 0.15, default: 0.5 };
    expect(holds(churnBelow, {})).toBe(false);
    expect(holds(churnBelow, { churn_risk: null })).toBe(false);
    expect(holds(churnBelow, { churn_risk: 0.1 })).toBe(true);
    expect(holds({ field: 'churn_risk', op: 'gt', value: 0.4, default: 0.5 }, {})).toBe(true);
    // Without a default a missing field fails every comparison but neq.
    expect(holds({ field: 'churn_risk', op: 'lt', value: 1 }, {})).toBe(false);
    expect(holds({ field: 'churn_risk', op: 'gte', value: 0 }, {})).toBe(false);
    expect(holds({ field: 'plan', op: 'eq', value: 'pro' }, {})).toBe(false);
    expect(holds({ field: 'plan', op: 'neq', value: 'pro' }, {})).toBe(true);
  });

  it('combines with all / any / not', () => {
    const cond = {
      all: [
        { field: 'ltv', op: 'gt', value: 100 },
        { any: [{ field: 'plan', op: 'eq', value: 'pro' }, { not: { field: 'industry', op: 'exists' } }] },
      ],
    };
    expect(holds(cond, { ltv: 200, plan: 'pro', industry: 'SaaS' })).toBe(true);
    expect(holds(cond, { ltv: 200, plan: 'free' })).toBe(true);
    expect(holds(cond, { ltv: 200, plan: 'free', industry: 'SaaS' })).toBe(false);
    expect(holds(cond, { ltv: 50, plan: 'pro' })).toBe(false);
  });

  it('does not mistake inherited object members for fields', () => {
    expect(holds({ field: 'constructor', op: 'exists' }, {})).toBe(false);
    expect(holds({ field: 'toString', op: 'exists' }, { toString: 'x' })).toBe(true);
  });
});

describe('condition config errors', () => {
  const issuesOf = (input: unknown) => {
    const result = conditionSchema.safeParse(input);
    if (result.success) throw new Error('expected a parse failure');
    return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  };

  it('names the missing op', () => {
    expect(issuesOf({ field: 'mrr', value: 3 })).toEqual([{ path: 'op', message: '`op` is required' }]);
  });

  it('names a wrongly shaped value, deep inside combinators', () => {
    expect(
      issuesOf({
        all: [
          { field: 'mrr', op: 'gt', value: 1 },
          { field: 'country', op: 'in', value: 'US' },
        ],
      }),
    ).toEqual([{ path: 'all.1.value', message: '`in` needs a non-empty list as value' }]);
    expect(issuesOf({ not: { field: 'x', op: 'gt', value: true } })).toEqual([
      { path: 'not.value', message: '`gt` compares numbers or strings' },
    ]);
  });

  it('rejects mixed forms, unknown keys and unknown operators', () => {
    expect(issuesOf({ field: 'a', op: 'eq', value: 1, all: [{ field: 'b', op: 'exists' }] })[0]?.message).toBe(
      'a condition is exactly one of {field, op, …}, `all`, `any` or `not`',
    );
    expect(issuesOf({ field: 'a', op: 'eq', value: 1, valeu: 2 })[0]?.message).toMatch(/valeu/);
    expect(issuesOf({ field: 'a', op: 'like', value: 'x' })[0]?.path).toBe('op');
    expect(issuesOf({ field: 'a', op: 'exists', default: 1 })).toEqual([
      { path: 'default', message: '`exists` takes no default' },
    ]);
  });

  it('parses into the typed form', () => {
    const parsed: Condition = conditionSchema.parse({ any: [{ field: 'ltv', op: 'gt', value: 1, default: 0 }] });
    expect(parsed).toEqual({ any: [{ field: 'ltv', op: 'gt', value: 1, default: 0 }] });
  });
});
