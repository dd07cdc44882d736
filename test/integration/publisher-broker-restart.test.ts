import { connect, createServer, type Socket } from 'node:net';
import { Kafka, logLevel, type RetryOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import type { ApacheKafka } from '../../src/local-kafka/apache-kafka.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { quietKafka, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);

function event(id: string, entity = 'cus_restart'): CanonicalEvent {
  const at = 1_767_225_600_000;
  return {
    event_id: id,
    source: 'stripe',
    type: 'customer.subscription.updated',
    entity_key: entity,
    occurred_at: at,
    received_at: at,
    payload: JSON.stringify({ id }),
    schema_version: 1,
  };
}

/** How many records of each event id the topic holds. */
async function copiesById(kafka: Kafka, topic: string): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  for (const record of await readTopicToEnd(kafka, topic)) {
    const { event_id: id } = await serde.decode(record.value ?? Buffer.alloc(0));
    copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  return copies;
}

async function highWatermark(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

interface AckDroppingProxy {
  readonly port: number;
  /** From now on the broker's answers are dropped: a produce is appended but its ack never arrives. */
  dropAnswers(): void;
  /** Answers pass again, on new connections (the held ones are closed: their byte stream is cut mid-answer). */
  passAnswers(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the broker. Killing the broker between appending a produce and acking it cannot be timed
 * from outside; dropping the ack here and then killing the broker makes that moment deterministic.
 */
async function startAckDroppingProxy(brokerPort: number): Promise<AckDroppingProxy> {
  const pairs = new Set<readonly [Socket, Socket]>();
  let dropping = false;
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: brokerPort });
    const pair = [client, upstream] as const;
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!dropping) client.write(chunk);
    });
    for (const socket of pair) socket.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const closeAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    dropAnswers: () => {
      dropping = true;
    },
    passAnswers: () => {
      dropping = false;
      closeAll();
    },
    close: () => {
      closeAll();
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** A client whose connections to the broker go through the proxy; `retry` is kafkajs' reconnect policy. */
function kafkaThrough(proxy: AckDroppingProxy, broker: TestBroker, retry: RetryOptions): Kafka {
  const brokerPort = Number(broker.bootstrapServers[0]?.split(':')[1]);
  return new Kafka({
    brokers: [...broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry,
    socketFactory: ({ host, port, onConnect }) =>
      connect({ host, port: port === brokerPort ? proxy.port : port }, onConnect).setKeepAlive(true, 60_000),
  });
}

describe('kill -9 and restart of the broker under a publisher (a dedicated Apache Kafka)', () => {
  let broker: TestBroker;
  let kafkaProcess: ApacheKafka;
  let direct: Kafka;
  let proxy: AckDroppingProxy;

  beforeAll(async () => {
    broker = await startTestBroker({ dedicated: true });
    if (broker.process === undefined) throw new Error('a dedicated broker has its process');
    kafkaProcess = broker.process;
    direct = quietKafka(broker);
    proxy = await startAckDroppingProxy(Number(broker.bootstrapServers[0]?.split(':')[1]));
  }, 120_000);

  afterAll(async () => {
    await proxy.close();
    await broker.stop();
  });

  /** A one-partition topic and a connected publisher whose acks go through the proxy. */
  async function publisherThroughProxy(name: string, idempotent: boolean, retry: RetryOptions) {
    const topic = `${broker.prefix}${name}`;
    await broker.createTopics([{ name: topic, partitions: 1 }]);
    const publisher = new EventPublisher(kafkaThrough(proxy, broker, retry), serde, { idempotent });
    await publisher.connect();
    await publisher.publish(topic, [event('evt_warm')]);
    return { topic, publisher };
  }

  /** Publishes `id` with its ack dropped; resolves once the broker has appended it, with the pending publish. */
  async function publishWithLostAck(publisher: EventPublisher, topic: string, id: string) {
    const before = await highWatermark(direct, topic);
    proxy.dropAnswers();
    const published = publisher.publish(topic, [event(id)]);
    published.catch(() => undefined);
    await waitUntil(async () => (await highWatermark(direct, topic)) > before, 10_000, `${id} to be appended`);
    return { published };
  }

  it.each([
    { idempotent: true, copies: 1 },
    { idempotent: false, copies: 2 },
  ])(
    'an appended publish whose ack is lost to a kill -9: retried after the restart, written $copies time(s) (idempotent: $idempotent)',
    async ({ idempotent, copies }) => {
      // Reconnects for ~30 s: the send outlives the restart and is retried on the restarted broker.
      const retry = { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 };
      const { topic, publisher } = await publisherThroughProxy(`lost-ack-${String(idempotent)}`, idempotent, retry);
      try {
        const { published: lost } = await publishWithLostAck(publisher, topic, 'evt_lost_ack');
        // Queued behind it (one send in flight at a time): they go out after its retry, on the restarted broker.
        const queued = [publisher.publish(topic, [event('evt_b')]), publisher.publish(topic, [event('evt_c')])];
        await kafkaProcess.kill();
        proxy.passAnswers();
        await kafkaProcess.restart();
        await Promise.all([lost, ...queued]);
        // The broker rebuilt the producer's sequence numbers from its log: the retry was recognised and not written.
        expect(Object.fromEntries(await copiesById(direct, topic))).toEqual({
          evt_warm: 1,
          evt_lost_ack: copies,
          evt_b: 1,
          evt_c: 1,
        });
      } finally {
        proxy.passAnswers();
        await publisher.disconnect();
      }
    },
    120_000,
  );

  it('a publish that failed for good after its record was appended does not make the next one vanish', async () => {
    // kafkajs alone winds the failed send's sequence numbers back; the next one-record send then reuses them and
    // the broker acks it as a duplicate of the appended record without writing it (seen with plain kafkajs).
    // SerialProducer sends it through a new producer id instead.
    const retry = { retries: 2, initialRetryTime: 100, maxRetryTime: 200 };
    const { topic, publisher } = await publisherThroughProxy('failed-for-good', true, retry);
    try {
      const { published: failed } = await publishWithLostAck(publisher, topic, 'evt_failed');
      await kafkaProcess.kill();
      proxy.passAnswers();
      // Its client gives up reconnecting within a second or so, long before the broker is back.
      await expect(failed).rejects.toThrow();
      await kafkaProcess.restart();
      await publisher.publish(topic, [event('evt_next')]);
      expect(Object.fromEntries(await copiesById(direct, topic))).toEqual({
        evt_warm: 1,
        evt_failed: 1,
        evt_next: 1,
      });
    } finally {
      await publisher.disconnect();
    }
  }, 120_000);

  it('a stream of publishes across a kill -9 and restart: every acknowledged event once, no event twice', async () => {
    const topic = `${broker.prefix}stream`;
    await broker.createTopics([{ name: topic, partitions: 3 }]);
    // As the connectors: the kafkajs client's default reconnects, sends one after the other per caller.
    const publisher = new EventPublisher(quietKafka(broker), serde);
    await publisher.connect();
    const acked: string[] = [];
    const failed: string[] = [];
    let next = 0;
    let restarted = false;
    let ackedAfterRestart = 0;
    const caller = async () => {
      while (next < 400 || !restarted || ackedAfterRestart < 40) {
        const id = `evt_stream_${String(next++)}`;
        try {
          await publisher.publish(topic, [event(id, `cus_${String(next % 7)}`)]);
          acked.push(id);
          if (restarted) ackedAfterRestart++;
        } catch {
          failed.push(id);
        }
      }
    };
    const callers = Promise.all([caller(), caller(), caller(), caller()]);
    await waitUntil(() => Promise.resolve(acked.length >= 100), 30_000, '100 acknowledged publishes');
    await kafkaProcess.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await kafkaProcess.restart();
    restarted = true;
    await callers;
    await publisher.disconnect();

    const copies = await copiesById(direct, topic);
    expect(acked.filter((id) => copies.get(id) !== 1)).toEqual([]);
    expect([...copies].filter(([, count]) => count > 1)).toEqual([]);
    expect(copies.size).toBeLessThanOrEqual(acked.length + failed.length);
  }, 120_000);
});
