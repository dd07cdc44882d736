import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import registryPackage, { type SchemaRegistry as SchemaRegistryClient } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrySerde } from '../../src/adapters/kafka/record-serde.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { startApicurioRegistry, type ApicurioRegistry } from '../../src/local-kafka/apicurio-registry.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema } from '../../src/records/profile-record.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { canonicalEventsOf } from '../support/generated-events.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import {
  createPipelineTopics,
  exitOf,
  groupProgress,
  quietKafka,
  startCli,
  waitUntil,
} from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const { SchemaRegistry } = registryPackage;
const PARTITIONS = 3;

/**
 * Records in Confluent wire format on a real broker, with a real registry (Apicurio, through its Confluent-compatible
 * API): what a deployment with SCHEMA_REGISTRY_URL set runs.
 */
describe('registry-encoded records through Kafka (Apicurio Registry + Apache Kafka)', () => {
  let apicurio: ApicurioRegistry;
  let registry: SchemaRegistryClient;
  let broker: TestBroker;
  let kafka: Kafka;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-registry-'));

  beforeAll(async () => {
    [apicurio, broker] = await Promise.all([startApicurioRegistry(), startTestBroker()]);
    registry = new SchemaRegistry({ host: apicurio.url });
    kafka = quietKafka(broker);
  }, 180_000);

  afterAll(async () => {
    await apicurio.stop();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('a record produced in wire format is consumed and decoded by a client that only knows the schema id', async () => {
    const topic = `${broker.prefix}serde.stripe.events`;
    await broker.createTopics([{ name: topic, partitions: 1 }]);
    const serde = await registrySerde(registry, topic, 'io.personastream.CanonicalEvent', canonicalEventSchema);
    const event: CanonicalEvent = {
      event_id: 'evt_wire',
      source: 'stripe',
      type: 'customer.created',
      entity_key: 'cus_wire',
      occurred_at: Date.UTC(2026, 0, 1),
      received_at: Date.UTC(2026, 0, 1) + 1_000,
      payload: '{"id":"evt_wire","object":"event"}',
      schema_version: 1,
    };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: event.entity_key, value: await serde.encode(event) }] });
    await producer.disconnect();
    const [record] = await readTopicToEnd(kafka, topic);
    const reader = await registrySerde(
      new SchemaRegistry({ host: apicurio.url }),
      topic,
      'io.personastream.CanonicalEvent',
      canonicalEventSchema,
    );
    expect(record?.value?.readUInt8(0)).toBe(0);
    expect(await reader.decode(record?.value ?? Buffer.alloc(0))).toEqual(event);
  }, 60_000);

  it('the processor, with SCHEMA_REGISTRY_URL set, reads registry-encoded events and writes registry-encoded profiles equal to the offline core', async () => {
    const prefix = `${broker.prefix}avro.`;
    const topics: TopicNames = await createPipelineTopics(broker, prefix, PARTITIONS);
    const events = canonicalEventsOf(
      generateTraffic({ seed: 5, customers: 40, users: 40, start: Date.UTC(2026, 0, 1), months: 3 }),
    );
    const eventSerdes = {
      stripe: await registrySerde(
        registry,
        topics.stripeEvents,
        'io.personastream.CanonicalEvent',
        canonicalEventSchema,
      ),
      segment: await registrySerde(
        registry,
        topics.segmentEvents,
        'io.personastream.CanonicalEvent',
        canonicalEventSchema,
      ),
    };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const source of ['stripe', 'segment'] as const) {
      const mine = events.filter((event) => event.source === source);
      const messages = await Promise.all(
        mine.map(async (event) => ({ key: event.entity_key, value: await eventSerdes[source].encode(event) })),
      );
      await producer.send({
        topic: source === 'stripe' ? topics.stripeEvents : topics.segmentEvents,
        acks: -1,
        messages,
      });
    }
    await producer.disconnect();

    const processor = startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      SCHEMA_REGISTRY_URL: apicurio.url,
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      METRICS_PORT: '0',
      HTTP_PORT: '0',
    });
    try {
      await waitUntil(
        async () => {
          const { committed, total } = await groupProgress(kafka, `${prefix}processor`, [
            topics.stripeEvents,
            topics.segmentEvents,
          ]);
          return total > 0 && committed === total;
        },
        90_000,
        'the processor to commit every event',
      );
    } finally {
      processor.kill('SIGTERM');
      expect(await exitOf(processor)).toBe(0);
    }

    const profiles = await registrySerde(registry, topics.profiles, 'io.personastream.Profile', profileRecordSchema);
    const table = new Map<string, Buffer>();
    for (const [key, value] of latestByKey(await readTopicToEnd(kafka, topics.profiles))) {
      expect(value.readUInt8(0), `${key} is in wire format`).toBe(0);
      table.set(key, Buffer.from(JSON.stringify(await profiles.decode(value))));
    }
    const pipeline = createPipeline(parsePipelineConfig({}));
    expect(table.size).toBeGreaterThan(0);
    expect(profileMismatches(pipeline, offlineStates(pipeline, events), table)).toEqual([]);
  }, 180_000);
});
