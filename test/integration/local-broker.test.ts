import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLocalBroker,
  LocalBrokerCommandError,
  LocalBrokerUnavailableError,
  startLocalBroker,
  type LocalBroker,
} from '../../src/local-broker/local-broker.js';

/**
 * The local broker is a real Kafka protocol endpoint: these tests talk to it with kafkajs. They never skip: where the
 * broker cannot be built (no gcc or librdkafka-dev), they fail with the package to install.
 */
describe('local Kafka broker (librdkafka mock cluster)', () => {
  let broker: LocalBroker;
  let kafka: Kafka;
  const clients: (Producer | Consumer)[] = [];
  const disconnectClients = async () => {
    for (const client of clients.splice(0)) await client.disconnect();
  };

  beforeAll(async () => {
    broker = await startLocalBroker({ brokers: 2, topics: [{ name: 'orders', partitions: 6 }] });
    kafka = new Kafka({
      clientId: 'local-broker-test',
      brokers: [...broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
    });
  }, 60_000);

  afterAll(async () => {
    await disconnectClients();
    await broker.stop();
  });

  it('serves produce and consumer-group fetches over the Kafka protocol, keeping per-key order', async () => {
    const producer = kafka.producer();
    clients.push(producer);
    await producer.connect();
    const messages = Array.from({ length: 200 }, (_, i) => ({ key: `customer-${i % 10}`, value: String(i) }));
    await producer.send({ topic: 'orders', acks: -1, messages });

    const consumer = kafka.consumer({ groupId: 'local-broker-test', maxWaitTimeInMs: 100 });
    clients.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const seen = new Map<string, number[]>();
    let count = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          const key = message.key?.toString() ?? '';
          seen.set(key, [...(seen.get(key) ?? []), Number(message.value?.toString())]);
          if (++count === messages.length) resolve();
          return Promise.resolve();
        },
      });
    });
    expect(count).toBe(200);
    for (const values of seen.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
    // Seen here: a kafkajs consumer left running while a mock broker is taken down spins the event loop.
    await disconnectClients();
  }, 60_000);

  it('creates topics through the mock and takes brokers down and up on command', async () => {
    await broker.createTopic('created-later', 3);
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: ['created-later'] });
    await admin.disconnect();
    expect(metadata.topics[0]?.partitions).toHaveLength(3);
    await broker.setBrokerDown(2);
    await broker.setBrokerUp(2);
    await broker.setRoundTripTime(1, 1);
    await expect(broker.createTopic('not a topic!', 1)).rejects.toBeInstanceOf(LocalBrokerCommandError);
  }, 60_000);

  it('says which package to install when it cannot be built', async () => {
    const cacheDirectory = mkdtempSync(join(tmpdir(), 'persona-stream-build-'));
    const failure = buildLocalBroker({ compiler: 'no-such-compiler-here', cacheDirectory });
    await expect(failure).rejects.toBeInstanceOf(LocalBrokerUnavailableError);
    await expect(failure).rejects.toThrow(/apt-get install -y gcc librdkafka-dev/);
  });
});
