import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CanonicalEvent } from '../../../src/records/canonical-event.js';
import type { DeadLetter } from '../../../src/records/dead-letter.js';
import type { PersonaRegistryEntry } from '../../../src/records/persona-registry.js';
import type { PersonaUpdate } from '../../../src/records/persona-update.js';
import type { ProfileRecord } from '../../../src/records/profile-record.js';
import { profileRecordSchema } from '../../../src/records/profile-record.js';
import { canonicalEventSchema } from '../../../src/records/canonical-event.js';
import { personaRegistryEntrySchema } from '../../../src/records/persona-registry.js';
import { readAvroSchema, recordNames, schemaCatalog } from '../../../src/records/schema-catalog.js';
import type { RecordName } from '../../../src/records/schema-catalog.js';
import { avroZodMismatches } from './avro-zod-agreement.js';

const at = Date.UTC(2025, 2, 1, 12, 30);

const canonicalEvent: CanonicalEvent = {
  event_id: 'evt_1QxYz',
  source: 'stripe',
  type: 'customer.subscription.updated',
  entity_key: 'cus_R2d2',
  occurred_at: at,
  received_at: at + 412,
  payload: '{"id":"evt_1QxYz","object":"event","unknown_field":{"kept":true}}',
  schema_version: 1,
};

const customerProfile: ProfileRecord = {
  key: 'customer:cus_R2d2',
  kind: 'customer',
  entity_id: 'cus_R2d2',
  as_of: at,
  last_event_at: at - 5_000,
  revenue: {
    reporting_currency: 'usd',
    mrr: 129_900,
    mrr_by_currency: { usd: 99_900, eur: 27_500 },
    movements: { new: 99_900, expansion: 30_000, contraction: 0, churn: 0, reactivation: 0 },
    last_movement: { type: 'expansion', amount: 30_000, at: at - 5_000 },
    status: 'active',
    paying_subscriptions: 2,
    flags: { metered: false, scheduled_churn: true, past_due: false, pause_collection: false },
    unconverted_currencies: ['brl'],
  },
  fields: {
    plan: 'enterprise',
    mrr_usd: 1299,
    seats_ratio: 0.75,
    is_trial: false,
    industry: null,
    features_used: ['export', 'sso'],
  },
};

const userProfile: ProfileRecord = {
  key: 'user:anon-7',
  kind: 'user',
  entity_id: 'anon-7',
  as_of: at,
  last_event_at: at,
  revenue: null,
  fields: {},
};

const personaUpdate: PersonaUpdate = {
  segment_key: 'revenue_tier/enterprise',
  family: 'revenue_tier',
  segment: 'enterprise',
  operation: 'update',
  status: 'sent',
  persona_id: 'prs_81',
  content_hash: 'sha256:9f2c',
  http_status: 200,
  attempt: 1,
  latency_ms: 184,
  at,
  reasons: ['count changed 40 → 44', 'avg_mrr changed by 12%'],
  error: null,
  request_body: '{"name":"Enterprise customers"}',
};

const personaRegistryEntry: PersonaRegistryEntry = {
  segment_key: 'revenue_tier/enterprise',
  persona_id: 'prs_81',
  content_hash: 'sha256:9f2c',
  last_sent_at: at,
  last_payload: '{"name":"Enterprise customers"}',
  last_summary: '{"count":44}',
};

const deadLetter: DeadLetter = {
  topic: 'persona-stream.stripe.events',
  partition: 17,
  offset: '9007199254740993',
  key: 'cus_R2d2',
  reason: 'payload is not JSON',
  error_code: 'invalid_payload',
  value: Buffer.from([0, 0, 0, 0, 7, 0xff, 0x10]).toString('base64'),
  at,
};

const samples: Record<RecordName, readonly unknown[]> = {
  'io.personastream.CanonicalEvent': [canonicalEvent],
  'io.personastream.Profile': [customerProfile, userProfile],
  'io.personastream.PersonaUpdate': [
    personaUpdate,
    { ...personaUpdate, operation: 'create', status: 'dry_run', persona_id: null, http_status: null, attempt: 0 },
  ],
  'io.personastream.PersonaRegistryEntry': [personaRegistryEntry],
  'io.personastream.DeadLetter': [deadLetter, { ...deadLetter, key: null, value: null }],
};

function avroTypeOf(name: RecordName): avro.Type {
  return avro.Type.forSchema(readAvroSchema(name) as avro.Schema);
}

describe('topic record schemas: Avro and zod agree', () => {
  it('catalogues the five topic records', () => {
    expect(recordNames).toEqual([
      'io.personastream.CanonicalEvent',
      'io.personastream.Profile',
      'io.personastream.PersonaUpdate',
      'io.personastream.PersonaRegistryEntry',
      'io.personastream.DeadLetter',
    ]);
  });

  for (const name of recordNames) {
    describe(name, () => {
      it('is the record the .avsc file declares', () => {
        expect(avroTypeOf(name).name).toBe(name);
      });

      it('has the same fields, nullability, defaults and value types on both sides', () => {
        expect(avroZodMismatches(avroTypeOf(name), schemaCatalog[name].zodSchema)).toEqual([]);
      });

      it('round-trips valid samples through Avro binary and back through zod unchanged', () => {
        const type = avroTypeOf(name);
        const zodSchema = schemaCatalog[name].zodSchema;
        for (const sample of samples[name]) {
          const parsed = zodSchema.parse(sample);
          const decoded: unknown = type.fromBuffer(type.toBuffer(parsed));
          expect(zodSchema.parse(decoded)).toEqual(sample);
        }
      });
    });
  }

  it('fills the schema_version default of 1, as the Avro default does for older writers', () => {
    const { schema_version: _omitted, ...withoutVersion } = canonicalEvent;
    expect(schemaCatalog['io.personastream.CanonicalEvent'].zodSchema.parse(withoutVersion).schema_version).toBe(1);
    const avsc = readAvroSchema('io.personastream.CanonicalEvent') as {
      fields: { name: string; default?: unknown }[];
    };
    expect(avsc.fields.find((field) => field.name === 'schema_version')?.default).toBe(1);
  });
});

describe('the agreement checker', () => {
  const avroSide = avro.Type.forSchema({
    type: 'record',
    name: 'Wrong',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'count', type: 'int' },
      { name: 'total', type: 'long' },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'label', type: 'string' },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
      { name: 'version', type: 'int', default: 1 },
      { name: 'tags', type: { type: 'map', values: 'string' } },
      { name: 'only_in_avro', type: 'boolean' },
    ],
  });
  const zodSide = z.object({
    id: z.string(),
    count: z.int(),
    total: z.number(),
    note: z.string(),
    label: z.string().optional(),
    kind: z.enum(['a', 'c']),
    version: z.int32(),
    tags: z.record(z.string(), z.number()),
    only_in_zod: z.boolean(),
  });

  it('names every disagreement of a deliberately wrong pair', () => {
    expect(avroZodMismatches(avroSide, zodSide)).toEqual([
      'count: Avro int is 32-bit but zod allows [-9007199254740991, 9007199254740991]; use z.int32()',
      'total: Avro integer but zod has "number"',
      'note: default null in Avro, none in zod',
      'note: Avro null|string but zod string',
      'label: optional in zod, but Avro always carries it (use .nullable() or .default())',
      'kind: Avro enum ["a","b"] but zod has {"type":"string","enum":["a","c"]}',
      'version: default 1 in Avro, none in zod',
      'tags{}: Avro string but zod has "number"',
      'only_in_avro: in Avro, missing from zod',
      'only_in_zod: in zod, missing from Avro',
    ]);
  });

  it('catches drift in real records: an extra field, a widened int, a field made nullable', () => {
    const drifted = profileRecordSchema.extend({ segment_count: z.int() });
    expect(avroZodMismatches(avroTypeOf('io.personastream.Profile'), drifted)).toEqual([
      'segment_count: in zod, missing from Avro',
    ]);
    const widened = canonicalEventSchema.extend({ schema_version: z.int().default(1) });
    expect(avroZodMismatches(avroTypeOf('io.personastream.CanonicalEvent'), widened)).toEqual([
      'schema_version: Avro int is 32-bit but zod allows [-9007199254740991, 9007199254740991]; use z.int32()',
    ]);
    const nullable = personaRegistryEntrySchema.extend({ persona_id: z.string().nullable() });
    expect(avroZodMismatches(avroTypeOf('io.personastream.PersonaRegistryEntry'), nullable)).toEqual([
      'persona_id: Avro string but zod string|null',
    ]);
  });

  it('accepts a correct pair', () => {
    const fixed = z.object({
      id: z.string(),
      count: z.int32(),
      total: z.int(),
      note: z.string().nullable().default(null),
      label: z.string(),
      kind: z.enum(['a', 'b']),
      version: z.int32().default(1),
      tags: z.record(z.string(), z.string()),
      only_in_avro: z.boolean(),
    });
    expect(avroZodMismatches(avroSide, fixed)).toEqual([]);
  });
});
