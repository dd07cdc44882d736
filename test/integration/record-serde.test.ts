import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde, RecordDecodeError, registrySerde } from '../../src/adapters/kafka/record-serde.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema } from '../../src/records/profile-record.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../support/schema-registry-double.js';

const event: CanonicalEvent = {
  event_id: 'evt_1',
  source: 'stripe',
  type: 'customer.subscription.updated',
  entity_key: 'cus_1',
  occurred_at: 1_767_225_600_000,
  received_at: 1_767_225_601_000,
  payload: '{"id":"evt_1","object":"event"}',
  schema_version: 1,
};

describe('JSON serde (no schema registry)', () => {
  const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);

  it('round-trips a record', async () => {
    expect(await serde.decode(await serde.encode(event))).toEqual(event);
  });

  it('rejects what is not JSON, and what breaks the schema, with the field named', async () => {
    await expect(serde.decode(Buffer.from('{"event_id":'))).rejects.toMatchObject({ code: 'not_json' });
    const missing = Buffer.from(JSON.stringify({ ...event, entity_key: undefined }));
    const error = await serde.decode(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RecordDecodeError);
    expect((error as RecordDecodeError).code).toBe('schema_invalid');
    expect((error as RecordDecodeError).message).toContain('entity_key');
  });

  it('refuses to encode an invalid record', async () => {
    await expect(serde.encode({ ...event, source: 'hubspot' } as unknown as CanonicalEvent)).rejects.toThrow();
  });
});

describe('schema-registry serde (Confluent wire format)', () => {
  let double: SchemaRegistryDouble;
  let registry: SchemaRegistry;

  beforeAll(async () => {
    double = await startSchemaRegistryDouble();
    registry = new SchemaRegistry({ host: double.url });
  });

  afterAll(async () => {
    await double.stop();
  });

  it('registers the schema under <topic>-value with BACKWARD compatibility and round-trips in wire format', async () => {
    const serde = await registrySerde(
      registry,
      'persona-stream.stripe.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    const bytes = await serde.encode(event);
    expect(bytes[0]).toBe(0); // magic byte
    expect(bytes.readInt32BE(1)).toBeGreaterThan(0); // schema id
    expect(await serde.decode(bytes)).toEqual(event);
    expect(double.requests).toContainEqual({
      method: 'POST',
      path: '/subjects/persona-stream.stripe.events-value/versions',
    });
    expect(double.requests).toContainEqual({ method: 'PUT', path: '/config/persona-stream.stripe.events-value' });
  });

  it('decodes with a fresh client that only knows the schema id (as a consumer does)', async () => {
    const producerSide = await registrySerde(
      registry,
      'persona-stream.segment.events',
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    const bytes = await producerSide.encode({ ...event, source: 'segment', type: 'track' });
    const consumerRegistry = new SchemaRegistry({ host: double.url });
    expect(((await consumerRegistry.decode(bytes)) as CanonicalEvent).type).toBe('track');
  });

  it('refuses an incompatible schema change on the same subject', async () => {
    await registrySerde(registry, 'compat-check', 'io.personastream.CanonicalEvent', canonicalEventSchema);
    // A profile schema cannot read canonical events: BACKWARD compatibility fails.
    await expect(
      registrySerde(registry, 'compat-check', 'io.personastream.Profile', profileRecordSchema),
    ).rejects.toThrow();
  });

  it('reports a record that is not in wire format as a decode error, not a crash', async () => {
    const serde = await registrySerde(
      registry,
      'persona-stream.profiles',
      'io.personastream.Profile',
      profileRecordSchema,
    );
    await expect(serde.decode(Buffer.from('{"not":"avro"}'))).rejects.toMatchObject({ code: 'wire_format' });
  });
});
