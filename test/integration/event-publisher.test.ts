import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { quietKafka } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);

function event(i: number, entity = `cus_${String(i % 5)}`): CanonicalEvent {
  return {
    event_id: `evt_${String(i)}`,
    source: 'stripe',
    type: 'customer.subscription.updated',
    entity_key: entity,
    occurred_at: 1_767_225_600_000 + i,
    received_at: 1_767_225_600_000 + i,
    payload: JSON.stringify({ id: `evt_${String(i)}` }),
    schema_version: 1,
  };
}

async function readEvents(
  kafka: Kafka,
  topic: string,
): Promise<{ key: string; partition: number; event: CanonicalEvent }[]> {
  const records = await readTopicToEnd(kafka, topic);
  return Promise.all(
    records.map(async (record) => ({
      key: record.key ?? '',
      partition: record.partition,
      event: await serde.decode(record.value ?? Buffer.alloc(0)),
    })),
  );
}

describe('event publisher (the shared Apache Kafka)', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let publisher: EventPublisher;
  const topic = (name: string) => `${broker.prefix}${name}`;

  beforeAll(async () => {
    broker = await startTestBroker();
    await broker.createTopics([
      { name: topic('events'), partitions: 4 },
      { name: topic('ordered'), partitions: 4 },
      { name: topic('untouched'), partitions: 1 },
    ]);
    kafka = quietKafka(broker);
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
  }, 60_000);

  afterAll(async () => {
    await publisher.disconnect();
    await broker.stop();
  });

  it('publishes every event keyed by its entity, confirmed before publish resolves', async () => {
    const events = Array.from({ length: 50 }, (_, i) => event(i));
    await publisher.publish(topic('events'), events);
    const read = await readEvents(kafka, topic('events'));
    expect(read.map((record) => record.event).sort((a, b) => a.occurred_at - b.occurred_at)).toEqual(events);
    expect(read.every((record) => record.key === record.event.entity_key)).toBe(true);
    // One entity's events keep their order (one partition per key).
    const cus0 = read.filter((record) => record.key === 'cus_0').map((record) => record.event.occurred_at);
    expect(cus0).toEqual([...cus0].sort((a, b) => a - b));
  }, 60_000);

  it('writes publishes made side by side once each, in the order they were called', async () => {
    // One send in flight at a time (what idempotence needs from kafkajs); the calls queued meanwhile are merged.
    const calls = Array.from({ length: 200 }, (_, i) => [event(1_000 + i, 'cus_ordered')]);
    await Promise.all(calls.map((events) => publisher.publish(topic('ordered'), events)));
    const read = await readEvents(kafka, topic('ordered'));
    expect(new Set(read.map((record) => record.partition)).size).toBe(1);
    expect(read.map((record) => record.event.event_id)).toEqual(calls.map(([only]) => only?.event_id));
  }, 60_000);

  it('an invalid event fails the whole publish before anything is sent', async () => {
    const invalid = { ...event(99), entity_key: '' };
    await expect(publisher.publish(topic('untouched'), [event(98), invalid])).rejects.toThrow();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic('untouched'));
    await admin.disconnect();
    expect(offsets.map((partition) => partition.high)).toEqual(['0']);
  }, 60_000);
});
