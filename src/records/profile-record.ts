import { z } from 'zod';
import type { CustomerRevenue, FieldValue, Profile } from '../domain/profile/model.js';
import { epochMsSchema, minorUnitsSchema } from './record-fields.js';

const movementTypes = ['new', 'expansion', 'contraction', 'churn', 'reactivation'] as const;
const nonNegativeMinorUnits = minorUnitsSchema.nonnegative();

const customerRevenueRecordSchema = z.object({
  reporting_currency: z.string().regex(/^[a-z]{3}$/, { error: 'expected a lowercase ISO-4217 code' }),
  mrr: nonNegativeMinorUnits,
  mrr_by_currency: z.record(z.string(), nonNegativeMinorUnits),
  movements: z.object({
    new: nonNegativeMinorUnits,
    expansion: nonNegativeMinorUnits,
    contraction: nonNegativeMinorUnits,
    churn: nonNegativeMinorUnits,
    reactivation: nonNegativeMinorUnits,
  }),
  last_movement: z
    .object({ type: z.enum(movementTypes), amount: nonNegativeMinorUnits, at: epochMsSchema })
    .nullable()
    .default(null),
  status: z.enum(['lead', 'active', 'churned']),
  paying_subscriptions: z.int32().nonnegative(),
  flags: z.object({
    metered: z.boolean(),
    scheduled_churn: z.boolean(),
    past_due: z.boolean(),
    pause_collection: z.boolean(),
  }),
  unconverted_currencies: z.array(z.string()),
});

const fieldValueRecordSchema = z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(z.string())]);

/** schemas/profile.avsc — the snake_case wire form of a domain Profile (profiles topic, keyed by `key`). */
export const profileRecordSchema = z.object({
  key: z.string().min(1),
  kind: z.enum(['customer', 'user']),
  entity_id: z.string().min(1),
  as_of: epochMsSchema,
  last_event_at: epochMsSchema,
  revenue: customerRevenueRecordSchema.nullable().default(null),
  fields: z.record(z.string(), fieldValueRecordSchema),
});

export type ProfileRecord = z.output<typeof profileRecordSchema>;
type CustomerRevenueRecord = z.output<typeof customerRevenueRecordSchema>;
type FieldValueRecord = z.output<typeof fieldValueRecordSchema>;

export function profileToRecord(profile: Profile): ProfileRecord {
  return {
    key: profile.key,
    kind: profile.kind,
    entity_id: profile.entityId,
    as_of: profile.asOf,
    last_event_at: profile.lastEventAt,
    revenue: profile.revenue === null ? null : revenueToRecord(profile.revenue),
    fields: fieldsToRecord(profile.fields),
  };
}

export function profileFromRecord(record: ProfileRecord): Profile {
  return {
    key: record.key,
    kind: record.kind,
    entityId: record.entity_id,
    asOf: record.as_of,
    lastEventAt: record.last_event_at,
    revenue: record.revenue === null ? null : revenueFromRecord(record.revenue),
    fields: record.fields,
  };
}

function revenueToRecord(revenue: CustomerRevenue): CustomerRevenueRecord {
  const { lastMovement, flags } = revenue;
  return {
    reporting_currency: revenue.reportingCurrency,
    mrr: revenue.mrr,
    mrr_by_currency: revenue.mrrByCurrency,
    movements: revenue.movements,
    last_movement:
      lastMovement === null ? null : { type: lastMovement.type, amount: lastMovement.amount, at: lastMovement.at },
    status: revenue.status,
    paying_subscriptions: revenue.payingSubscriptions,
    flags: {
      metered: flags.metered,
      scheduled_churn: flags.scheduledChurn,
      past_due: flags.pastDue,
      pause_collection: flags.pauseCollection,
    },
    unconverted_currencies: [...revenue.unconvertedCurrencies],
  };
}

function revenueFromRecord(record: CustomerRevenueRecord): CustomerRevenue {
  const { last_movement: lastMovement, flags } = record;
  return {
    reportingCurrency: record.reporting_currency,
    mrr: record.mrr,
    mrrByCurrency: record.mrr_by_currency,
    movements: record.movements,
    lastMovement:
      lastMovement === null ? null : { type: lastMovement.type, amount: lastMovement.amount, at: lastMovement.at },
    status: record.status,
    payingSubscriptions: record.paying_subscriptions,
    flags: {
      metered: flags.metered,
      scheduledChurn: flags.scheduled_churn,
      pastDue: flags.past_due,
      pauseCollection: flags.pause_collection,
    },
    unconvertedCurrencies: record.unconverted_currencies,
  };
}

function fieldsToRecord(fields: Readonly<Record<string, FieldValue>>): Record<string, FieldValueRecord> {
  // fromEntries defines own properties, so a trait named "__proto__" stays a field instead of replacing the prototype.
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]): [string, FieldValueRecord] => [
      name,
      isStringList(value) ? [...value] : value,
    ]),
  );
}

function isStringList(value: FieldValue): value is readonly string[] {
  return Array.isArray(value);
}
