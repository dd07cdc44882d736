/*
 * The registry serde against a real registry: Apicurio Registry 3.3 (Maven Central, started by
 * src/local-kafka/apicurio-registry.ts) through its Confluent-compatible API, /apis/ccompat/v7. Where it differs
 * from Confluent's Schema Registry, as met here:
 * - Global compatibility defaults to NONE (Confluent: BACKWARD). The serde sets BACKWARD per subject, so no matter.
 * - GET /config/{subject} of an unknown subject: 404 with error_code 40401 "Subject 'x' not found." (Confluent:
 *   40408 "…does not have subject-level compatibility configured"). The client looks only at the 404: same effect.
 * - GET /config/{subject} of an existing subject with no level of its own (or after DELETE /config/{subject})
 *   answers 200 NONE, even while a global BACKWARD is what is enforced; Confluent answers 404 40408. So the client,
 *   and our serde, refuse such a subject ("BACKWARD != NONE") where against Confluent they would set BACKWARD.
 * - PUT /config/{subject} answers {"compatibility", "normalize": false}; Confluent omits normalize unless set.
 * - A refused schema: 409 with error_code 409, as Confluent, but the message is "io.apicurio.registry.rules.
 *   violation.RuleViolationException: Incompatible artifact: <subject> [AVRO], num of incompatible diffs: {1}, list
 *   of diff types: [...]" (Confluent: "Schema being registered is incompatible with an earlier schema for subject…").
 *   POST /compatibility/… ?verbose=true answers only is_compatible, without Confluent's messages.
 * - Ids are content ids: the same schema text gets the same id under every subject (as Confluent), but a refused
 *   registration still uses up an id, so ids have gaps (Confluent gives ids only to schemas it accepts).
 * - An unparsable schema: 422 with 42201, as Confluent, worded "Failed to discover artifact type from content.".
 */
import registryPackage, { type SchemaRegistry as SchemaRegistryClient } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrySerde, SchemaRegistrationError } from '../../src/adapters/kafka/record-serde.js';
import { startApicurioRegistry, type ApicurioRegistry } from '../../src/local-kafka/apicurio-registry.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema, type ProfileRecord } from '../../src/records/profile-record.js';
import { readAvroSchema } from '../../src/records/schema-catalog.js';

const { SchemaRegistry, SchemaType, COMPATIBILITY } = registryPackage;

const at = Date.UTC(2026, 0, 1);

const event: CanonicalEvent = {
  event_id: 'evt_1',
  source: 'stripe',
  type: 'customer.subscription.updated',
  entity_key: 'cus_1',
  occurred_at: at,
  received_at: at + 1_000,
  payload: '{"id":"evt_1","object":"event"}',
  schema_version: 1,
};

const profile: ProfileRecord = {
  key: 'customer:cus_1',
  kind: 'customer',
  entity_id: 'cus_1',
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
  fields: { plan: 'enterprise', seats_ratio: 0.75, is_trial: false, industry: null, features_used: ['sso'] },
};

interface AvroRecordSchema {
  readonly fields: readonly { readonly name: string; readonly type: unknown }[];
}

/** The canonical event schema as an earlier version of it might have been: one field changed by `change`. */
function earlierCanonicalEvent(change: (fields: AvroRecordSchema['fields']) => AvroRecordSchema['fields']): string {
  const current = readAvroSchema('io.personastream.CanonicalEvent') as AvroRecordSchema;
  return JSON.stringify({ ...current, fields: change(current.fields) });
}

describe('registry serde against a real Apicurio Registry (Confluent-compatible API)', () => {
  let apicurio: ApicurioRegistry;
  let registry: SchemaRegistryClient;

  beforeAll(async () => {
    apicurio = await startApicurioRegistry();
    process.stderr.write(`Apicurio Registry ${apicurio.version} answered after ${String(apicurio.startupMs)} ms\n`);
    registry = new SchemaRegistry({ host: apicurio.url });
  }, 120_000);

  afterAll(async () => {
    await apicurio.stop();
  });

  /** Registers `schema` as the subject's first version, the way a producer of an older release did. */
  async function registerEarlier(subject: string, schema: string): Promise<number> {
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    return id;
  }

  async function subjectConfig(subject: string): Promise<unknown> {
    const response = await fetch(`${apicurio.url}/config/${encodeURIComponent(subject)}`);
    return response.json();
  }

  it('round-trips a canonical event and a profile in wire format, read back by a client that only knows the id', async () => {
    const events = await registrySerde(
      registry,
      'rt.stripe.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    const profiles = await registrySerde(registry, 'rt.profiles', 'io.personastream.Profile', profileRecordSchema);
    const eventBytes = await events.encode(event);
    const profileBytes = await profiles.encode(profile);
    expect(eventBytes[0]).toBe(0); // magic byte
    expect(eventBytes.readInt32BE(1)).toBeGreaterThan(0);
    expect(await events.decode(eventBytes)).toEqual(event);
    expect(await profiles.decode(profileBytes)).toEqual(profile);
    // A consumer's fresh client fetches the writer schema by id from the registry.
    const consumerSide = new SchemaRegistry({ host: apicurio.url });
    expect(await consumerSide.decode(eventBytes)).toEqual(event);
    const stored = (await (await fetch(`${apicurio.url}/schemas/ids/${String(eventBytes.readInt32BE(1))}`)).json()) as {
      schema: string;
    };
    expect(JSON.parse(stored.schema)).toMatchObject({ name: 'CanonicalEvent', namespace: 'io.personastream' });
  });

  it('sets BACKWARD on the subject it registers, and a second serde on the subject reuses the same schema id', async () => {
    const first = await registrySerde(
      registry,
      'again.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    const second = await registrySerde(
      registry,
      'again.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    expect(await subjectConfig('again.events-value')).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await second.encode(event)).readInt32BE(1)).toBe((await first.encode(event)).readInt32BE(1));
  });

  it('accepts a BACKWARD-compatible change: the current schema adds schema_version with a default', async () => {
    const earlierId = await registerEarlier(
      'evolve-ok.events-value',
      earlierCanonicalEvent((fields) => fields.filter((field) => field.name !== 'schema_version')),
    );
    expect(await subjectConfig('evolve-ok.events-value')).toEqual({ compatibilityLevel: 'BACKWARD' });
    const serde = await registrySerde(
      registry,
      'evolve-ok.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    const bytes = await serde.encode(event);
    expect(bytes.readInt32BE(1)).not.toBe(earlierId);
    expect(await (await fetch(`${apicurio.url}/subjects/evolve-ok.events-value/versions`)).json()).toEqual([1, 2]);
    // A record of the older producer still decodes: the zod default fills the field its writer schema lacked.
    const { schema_version: _dropped, ...older } = event;
    const olderBytes = await registry.encode(earlierId, older);
    expect(await serde.decode(olderBytes)).toEqual(event);
  });

  it('refuses a change that adds a field without a default, naming the record, the subject and the field', async () => {
    await registerEarlier(
      'evolve-field.events-value',
      earlierCanonicalEvent((fields) => fields.filter((field) => field.name !== 'payload')),
    );
    const error = await registrySerde(
      registry,
      'evolve-field.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SchemaRegistrationError);
    expect(error).toMatchObject({ subject: 'evolve-field.events-value', status: 409 });
    const { message } = error as SchemaRegistrationError;
    expect(message).toContain(
      'io.personastream.CanonicalEvent (schemas/canonical-event.avsc) cannot be registered under subject ' +
        '"evolve-field.events-value": it is not BACKWARD-compatible with the version registered there',
    );
    // Apicurio's own words: "Incompatible artifact: <subject> [AVRO], …, list of diff types: [payload at /fields/6]".
    expect(message).toMatch(/Incompatible artifact: evolve-field\.events-value .*\[payload at \/fields\/\d+\]/);
  });

  it('refuses a change of a field type, naming the reader and writer types', async () => {
    await registerEarlier(
      'evolve-type.events-value',
      earlierCanonicalEvent((fields) =>
        fields.map((field) => (field.name === 'occurred_at' ? { ...field, type: 'string' } : field)),
      ),
    );
    const error = await registrySerde(
      registry,
      'evolve-type.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'SchemaRegistrationError', status: 409 });
    expect((error as Error).message).toMatch(
      /not BACKWARD-compatible .*reader type: LONG not compatible with writer type: STRING at \/fields\/4\/type/,
    );
    // Nothing was added to the subject.
    expect(await (await fetch(`${apicurio.url}/subjects/evolve-type.events-value/versions`)).json()).toEqual([1]);
  });

  it('a subject created elsewhere without a level reads as NONE here, so the serde refuses it until BACKWARD is set', async () => {
    // As a producer with auto-registration would: the schema only, no subject-level compatibility.
    const created = await fetch(`${apicurio.url}/subjects/elsewhere.events-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(readAvroSchema('io.personastream.CanonicalEvent')) }),
    });
    expect(created.status).toBe(200);
    expect(await subjectConfig('elsewhere.events-value')).toEqual({ compatibilityLevel: 'NONE' });
    await expect(
      registrySerde(registry, 'elsewhere.events', 'io.personastream.CanonicalEvent', canonicalEventSchema),
    ).rejects.toThrow(
      'cannot be registered under subject "elsewhere.events-value": Compatibility does not match the configuration (BACKWARD != NONE)',
    );
    const set = await fetch(`${apicurio.url}/config/elsewhere.events-value`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    expect(await set.json()).toEqual({ compatibility: 'BACKWARD', normalize: false });
    const serde = await registrySerde(
      registry,
      'elsewhere.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    expect(await serde.decode(await serde.encode(event))).toEqual(event);
  });

  it('reports a record that is not in wire format as a wire_format decode error', async () => {
    const serde = await registrySerde(registry, 'wire.profiles', 'io.personastream.Profile', profileRecordSchema);
    await expect(serde.decode(Buffer.from('{"not":"avro"}'))).rejects.toMatchObject({ code: 'wire_format' });
    // In wire format, but naming a schema id the registry never gave out.
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0, 0, 1]), Buffer.from('x')]);
    await expect(serde.decode(unknownId)).rejects.toMatchObject({ code: 'wire_format' });
  });
});
