import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { startLocalBroker, type LocalBroker } from '../../src/local-broker/local-broker.js';

const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);

function event(i: number): CanonicalEvent {
  return {
    event_id: `evt_${String(i)}`,
    source: 'stripe',
    type: 'customer.subscription.updated',
    entity_key: `cus_${String(i % 5)}`,
    occurred_at: 1_767_225_600_000 + i,
    received_at: 1_767_225_600_000 + i,
    payload: JSON.stringify({ id: `evt_${String(i)}` }),
    schema_version: 1,
  };
}

async function readAll(kafka: Kafka, topic: string, count: number): Promise<{ key: string; event: CanonicalEvent }[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `read-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const read: { key: string; event: CanonicalEvent }[] = [];
  await new Promise<void>((resolve, reject) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        read.push({ key: message.key?.toString() ?? '', event: await serde.decode(message.value ?? Buffer.alloc(0)) });
        if (read.length === count) resolve();
      },
    });
    setTimeout(() => {
      reject(new Error(`read ${String(read.length)} of ${String(count)}`));
    }, 20_000).unref();
  });
  await consumer.disconnect();
  return read;
}

describe('event publisher', () => {
  let broker: LocalBroker;
  let kafka: Kafka;
  let publisher: EventPublisher;

  beforeAll(async () => {
    broker = await startLocalBroker({
      topics: [
        { name: 'events', partitions: 4 },
        { name: 'untouched', partitions: 1 },
      ],
    });
    kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
  }, 60_000);

  afterAll(async () => {
    await publisher.disconnect();
    await broker.stop();
  });

  it('publishes every event keyed by its entity, confirmed before publish resolves', async () => {
    const events = Array.from({ length: 50 }, (_, i) => event(i));
    await publisher.publish('events', events);
    const read = await readAll(kafka, 'events', 50);
    expect(read.map((record) => record.event).sort((a, b) => a.occurred_at - b.occurred_at)).toEqual(events);
    expect(read.every((record) => record.key === record.event.entity_key)).toBe(true);
    // One entity's events keep their order (one partition per key).
    const cus0 = read.filter((record) => record.key === 'cus_0').map((record) => record.event.occurred_at);
    expect(cus0).toEqual([...cus0].sort((a, b) => a - b));
  }, 60_000);

  it('an invalid event fails the whole publish before anything is sent', async () => {
    const invalid = { ...event(99), entity_key: '' };
    await expect(publisher.publish('untouched', [event(98), invalid])).rejects.toThrow();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('untouched');
    await admin.disconnect();
    expect(offsets.map((partition) => partition.high)).toEqual(['0']);
  }, 60_000);
});
