import { describe, expect, it } from 'vitest';
import type { Profile } from '../../../src/domain/profile/model.js';
import { profileFromRecord, profileRecordSchema, profileToRecord } from '../../../src/records/profile-record.js';

const at = Date.UTC(2025, 5, 30);

const customer: Profile = {
  key: 'customer:cus_9',
  kind: 'customer',
  entityId: 'cus_9',
  asOf: at,
  lastEventAt: at - 60_000,
  revenue: {
    reportingCurrency: 'usd',
    mrr: 4_900,
    mrrByCurrency: { usd: 2_900, gbp: 1_600 },
    movements: { new: 2_900, expansion: 2_000, contraction: 0, churn: 0, reactivation: 0 },
    lastMovement: { type: 'expansion', amount: 2_000, at: at - 60_000 },
    status: 'active',
    payingSubscriptions: 2,
    flags: { metered: true, scheduledChurn: false, pastDue: true, pauseCollection: false },
    unconvertedCurrencies: [],
  },
  fields: { plan: 'growth', logins_30d: 12, avg_order: 31.5, beta: true, country: null, channels: ['web', 'ios'] },
};

describe('profile ↔ profile record', () => {
  it('maps camelCase domain fields to the snake_case record', () => {
    expect(profileToRecord(customer)).toEqual({
      key: 'customer:cus_9',
      kind: 'customer',
      entity_id: 'cus_9',
      as_of: at,
      last_event_at: at - 60_000,
      revenue: {
        reporting_currency: 'usd',
        mrr: 4_900,
        mrr_by_currency: { usd: 2_900, gbp: 1_600 },
        movements: { new: 2_900, expansion: 2_000, contraction: 0, churn: 0, reactivation: 0 },
        last_movement: { type: 'expansion', amount: 2_000, at: at - 60_000 },
        status: 'active',
        paying_subscriptions: 2,
        flags: { metered: true, scheduled_churn: false, past_due: true, pause_collection: false },
        unconverted_currencies: [],
      },
      fields: { plan: 'growth', logins_30d: 12, avg_order: 31.5, beta: true, country: null, channels: ['web', 'ios'] },
    });
  });

  it('round-trips a customer and a user profile through the validated record unchanged', () => {
    const user: Profile = {
      key: 'user:u-1',
      kind: 'user',
      entityId: 'u-1',
      asOf: at,
      lastEventAt: at,
      revenue: null,
      fields: { last_event: 'Checkout Completed' },
    };
    for (const profile of [customer, user]) {
      const record = profileRecordSchema.parse(JSON.parse(JSON.stringify(profileToRecord(profile))));
      expect(profileFromRecord(record)).toEqual(profile);
    }
  });

  it('keeps a trait named __proto__ as an ordinary field', () => {
    const odd: Profile = { ...customer, fields: JSON.parse('{"__proto__":"x","plan":"a"}') as Profile['fields'] };
    const record = profileToRecord(odd);
    expect(Object.keys(record.fields)).toEqual(['__proto__', 'plan']);
    expect(Object.getPrototypeOf(record.fields)).toBe(Object.prototype);
  });

  it('does not share the domain string lists with the record', () => {
    const record = profileToRecord(customer);
    expect(record.fields['channels']).not.toBe(customer.fields['channels']);
    expect(record.revenue?.unconverted_currencies).not.toBe(customer.revenue?.unconvertedCurrencies);
  });

  it('rejects negative or fractional money and names the field', () => {
    const record = profileToRecord(customer);
    const bad = {
      ...record,
      revenue: { ...record.revenue, mrr: 10.5, movements: { ...record.revenue!.movements, churn: -1 } },
    };
    const result = profileRecordSchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'revenue.mrr',
      'revenue.movements.churn',
    ]);
  });
});
