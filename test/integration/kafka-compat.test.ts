import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type ITopicConfig, type Kafka, type LogEntry } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { startApacheKafka, type ApacheKafka } from '../../src/local-kafka/apache-kafka.js';
import { resolveKafkaClasspath } from '../../src/local-kafka/kafka-classpath.js';
import { DEFAULT_KAFKA_VERSION } from '../../src/local-kafka/kafka-version.js';

// kafkajs is CommonJS: its runtime values are reached through the default export under ESM.
const { AssignerProtocol, ConfigResourceTypes, Kafka: KafkaClient, KafkaJSError, logLevel } = kafkajs;

/**
 * A smoke test of kafkajs itself (not of persona-stream) against the Kafka releases it must work with: the pinned one,
 * the newest 3.x (3.9.x, the last line with ZooKeeper, still widely run; KRaft here) and the newest 4.x, each as Maven
 * Central serves it. Kafka 4.0 dropped the protocol versions older than Kafka 2.1's (KIP-896), and kafkajs 2.2.4 sends
 * the highest version it implements up to the broker's maximum without looking at the broker's minimum: so each
 * release's ApiVersions answer is recorded, and the last test of each checks every API version kafkajs sent against
 * it, naming the API key and version that falls outside.
 */
const RELEASES = [
  DEFAULT_KAFKA_VERSION,
  // The newest 3.9.x on Maven Central (3.9.3 is not there).
  '3.9.2',
  // The newest 4.x on Maven Central (4.4.1 and 4.5.0 are not there).
  '4.4.0',
];

/** What kafkajs sent the broker and what the broker said it serves, from kafkajs' own debug log. */
interface Traffic {
  /** `ApiName(key: K, version: V)` → [K, V], for every request sent. */
  readonly sent: Map<string, readonly [number, number]>;
  /** API key → the versions the broker serves (its ApiVersions answer). */
  readonly served: Map<number, { readonly min: number; readonly max: number }>;
  /** Each response kafkajs took as an error, with its API and version. */
  readonly errors: string[];
  /** The last request sent: the suspect when a broker closes the connection instead of answering. */
  last: string | undefined;
}

interface Broker {
  readonly version: string;
  readonly where: 'the shared broker' | 'a dedicated broker';
  readonly kafka: Kafka;
  readonly traffic: Traffic;
  readonly startMs: number;
  readonly process: ApacheKafka | undefined;
}

const REQUEST = /^(Request|Response) (\w+\(key: (\d+), version: (\d+)\))$/;
const apiVersionsAnswer = z.object({
  data: z.object({
    apiVersions: z.array(z.object({ apiKey: z.number(), minVersion: z.number(), maxVersion: z.number() })),
  }),
});

/** A kafkajs client that records, from its own debug log, each API key and version it uses. */
function recordingClient(bootstrapServers: readonly string[]): { kafka: Kafka; traffic: Traffic } {
  const traffic: Traffic = { sent: new Map(), served: new Map(), errors: [], last: undefined };
  const kafka = new KafkaClient({
    brokers: [...bootstrapServers],
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const [, direction, api, key, version] = REQUEST.exec(log.message) ?? [];
        if (api === undefined) return;
        if (direction === 'Request') {
          traffic.sent.set(api, [Number(key), Number(version)]);
          traffic.last = api;
        }
        if (level === logLevel.ERROR) traffic.errors.push(`${api}: ${String(log['error'])}`);
        const answer = api.startsWith('ApiVersions(') ? apiVersionsAnswer.safeParse(log) : undefined;
        for (const entry of answer?.data?.data.apiVersions ?? []) {
          traffic.served.set(entry.apiKey, { min: entry.minVersion, max: entry.maxVersion });
        }
      },
  });
  return { kafka, traffic };
}

/** The shared broker where it is this release from Maven Central; else a dedicated one (same launcher). */
async function brokerOf(version: string): Promise<Broker> {
  const shared = inject('sharedKafka');
  const started = performance.now();
  if (shared.kind === 'apache-kafka' && shared.version === version) {
    return {
      version,
      where: 'the shared broker',
      ...recordingClient(shared.bootstrapServers),
      startMs: 0,
      process: undefined,
    };
  }
  const process = await startApacheKafka({ version });
  return {
    version,
    where: 'a dedicated broker',
    ...recordingClient(process.bootstrapServers),
    startMs: Math.round(performance.now() - started),
    process,
  };
}

const brokers = new Map<string, Broker>();

function brokerFor(version: string): Broker {
  const broker = brokers.get(version);
  if (broker === undefined) throw new Error(`Apache Kafka ${version} did not start (see beforeAll)`);
  return broker;
}

/** Names unique to this run: tests against the shared broker must not meet another file's topics or groups. */
const name = (what: string) => `compat.${randomBytes(4).toString('hex')}.${what}`;

async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * CreateTopics, then a wait until every partition has a leader. Not kafkajs' `waitForLeaders`: it gives up on the
 * UNKNOWN_TOPIC_OR_PARTITION that a KRaft broker (every release here) answers until the new topic has reached its
 * metadata cache; measured on 4.1.2: 29 of 30 concurrent creations failed so, and 1 of 15 one after another.
 */
async function createTopic(admin: Admin, topic: ITopicConfig): Promise<void> {
  expect(await admin.createTopics({ waitForLeaders: false, topics: [topic] })).toBe(true);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic.topic] })).topics[0]?.partitions ?? [];
      if (partitions.length === topic.numPartitions && partitions.every((partition) => partition.leader >= 0)) return;
    } catch (error) {
      if (!(error instanceof KafkaJSError) || !error.retriable || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`${topic.topic} has no leaders after 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A consumer in `groupId` that reads `topic` from the beginning until `enough` says so; it is returned still in the
 * group (the caller disconnects it), with the values it read in the order they came per partition.
 */
async function consumeUntil(
  kafka: Kafka,
  options: { groupId: string; topic: string; readUncommitted: boolean; enough: (values: string[]) => boolean },
): Promise<{ consumer: Consumer; values: string[] }> {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: options.readUncommitted,
    maxWaitTimeInMs: 100,
    // Often enough that a member of these short tests heartbeats (Heartbeat is one of the APIs under test).
    heartbeatInterval: 300,
  });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`read ${JSON.stringify(values)} from ${options.topic} in 15 s, expected more`));
      }, 15_000);
      void consumer
        .run({
          autoCommit: false,
          eachMessage: ({ message }) => {
            values.push(message.value?.toString('utf8') ?? '');
            if (options.enough(values)) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    return { consumer, values };
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ${what} in 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  // Resolved one at a time (a no-op once cached): two Maven runs at once would share ~/.m2 and the jars both need.
  for (const version of RELEASES) await resolveKafkaClasspath(version);
  // Started at once: measured on the 2-core machine, two brokers together took 15-19 s against 23-25 s one after
  // the other (both under other load; about 7 s together on a quiet machine).
  const started = await Promise.allSettled(RELEASES.map(brokerOf));
  for (const result of started) if (result.status === 'fulfilled') brokers.set(result.value.version, result.value);
  const failed = started.flatMap((result): unknown[] => (result.status === 'rejected' ? [result.reason] : []));
  if (failed.length > 0) throw new AggregateError(failed, 'a Kafka release did not start');
}, 120_000);

afterAll(async () => {
  for (const broker of brokers.values()) {
    process.stderr.write(
      `kafka-compat: Apache Kafka ${broker.version} (${broker.where}, started in ${String(broker.startMs)} ms), ` +
        `kafkajs used ${[...broker.traffic.sent.keys()].sort().join(', ')}\n`,
    );
  }
  await Promise.all([...brokers.values()].map((broker) => broker.process?.stop() ?? Promise.resolve()));
});

describe.each(RELEASES)('kafkajs against Apache Kafka %s', (version) => {
  /** On failure, which API key and version the broker refused: the errors kafkajs logged for this test. */
  const checked = async (what: string, test: (broker: Broker) => Promise<void>) => {
    const broker = brokerFor(version);
    const before = broker.traffic.errors.length;
    try {
      await test(broker);
      process.stderr.write(`kafka-compat: ${what}: ran on Apache Kafka ${version} (${broker.where})\n`);
    } catch (error) {
      const refused = broker.traffic.errors.slice(before);
      throw new Error(
        `${what} failed on Apache Kafka ${version}: ${String(error)}; broker errors: ${refused.join('; ') || 'none'}; ` +
          `last request: ${broker.traffic.last ?? 'none'}`,
        { cause: error },
      );
    }
  };

  it('admin: creates a topic with configs and reads them back with describeConfigs', async () => {
    await checked('admin', async ({ kafka }) => {
      const topic = name('configured');
      await withAdmin(kafka, async (admin) => {
        await createTopic(admin, {
          topic,
          numPartitions: 2,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: '3600000' },
          ],
        });
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [
            { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] },
          ],
        });
        const entries = described.resources[0]?.configEntries ?? [];
        expect(Object.fromEntries(entries.map((entry) => [entry.configName, entry.configValue]))).toEqual({
          'cleanup.policy': 'compact',
          'retention.ms': '3600000',
        });
      });
    });
  });

  it('produces idempotently; a consumer group joins, reads, commits and is described', async () => {
    await checked('produce and group', async ({ kafka }) => {
      const topic = name('events');
      const groupId = name('group');
      const sent = Array.from({ length: 20 }, (_, i) => `event-${String(i)}`);
      await withAdmin(kafka, (admin) => createTopic(admin, { topic, numPartitions: 3, replicationFactor: 1 }));
      // Idempotent: the broker hands out a producer id (InitProducerId) and dedupes by sequence number.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `k${String(i)}`, value })) });
      } finally {
        await producer.disconnect();
      }

      const { consumer, values } = await consumeUntil(kafka, {
        groupId,
        topic,
        readUncommitted: false,
        enough: (read) => read.length >= sent.length,
      });
      try {
        expect([...values].sort()).toEqual([...sent].sort());
        let heartbeats = 0;
        consumer.on(consumer.events.HEARTBEAT, () => {
          heartbeats++;
        });
        await until(() => heartbeats > 0, 'a heartbeat');
        await withAdmin(kafka, async (admin) => {
          const high = await admin.fetchTopicOffsets(topic);
          await consumer.commitOffsets(high.map(({ partition, high: offset }) => ({ topic, partition, offset })));
          const [group] = (await admin.describeGroups([groupId])).groups;
          expect(group).toMatchObject({ groupId, state: 'Stable', protocolType: 'consumer' });
          expect(group?.members).toHaveLength(1);
          const assignment = AssignerProtocol.MemberAssignment.decode(
            group?.members[0]?.memberAssignment ?? Buffer.alloc(0),
          );
          expect(assignment?.assignment[topic]?.sort((a, b) => a - b)).toEqual([0, 1, 2]);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          expect(committed?.partitions.map(({ partition, offset }) => [partition, offset]).sort()).toEqual(
            high.map(({ partition, high: offset }) => [partition, offset]).sort(),
          );
        });
      } finally {
        await consumer.disconnect();
      }
      await withAdmin(kafka, async (admin) => {
        expect((await admin.describeGroups([groupId])).groups[0]?.state).toBe('Empty');
      });
    });
  });

  it('transactions: one committed, one aborted, one committed; read_committed sees only the committed', async () => {
    await checked('transactions', async ({ kafka }) => {
      const topic = name('txn');
      await withAdmin(kafka, (admin) => createTopic(admin, { topic, numPartitions: 1, replicationFactor: 1 }));
      const producer = kafka.producer({
        transactionalId: name('txn-producer'),
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      try {
        for (const [values, outcome] of [
          [['c1', 'c2'], 'commit'],
          [['a1', 'a2'], 'abort'],
          [['c3'], 'commit'],
        ] as const) {
          const transaction = await producer.transaction();
          await transaction.send({ topic, messages: values.map((value) => ({ value })) });
          await (outcome === 'commit' ? transaction.commit() : transaction.abort());
        }
      } finally {
        await producer.disconnect();
      }

      // One partition, so order is the topic's: c3 comes after the aborted records, so reading up to it has passed
      // them (or shown them).
      const readCommitted = await consumeUntil(kafka, {
        groupId: name('committed'),
        topic,
        readUncommitted: false,
        enough: (read) => read.includes('c3'),
      });
      await readCommitted.consumer.disconnect();
      expect(readCommitted.values).toEqual(['c1', 'c2', 'c3']);
      // The aborted records are in the log all the same: a read_uncommitted consumer gets them.
      const readUncommitted = await consumeUntil(kafka, {
        groupId: name('uncommitted'),
        topic,
        readUncommitted: true,
        enough: (read) => read.includes('c3'),
      });
      await readUncommitted.consumer.disconnect();
      expect(readUncommitted.values).toEqual(['c1', 'c2', 'a1', 'a2', 'c3']);
    });
  });

  it('every API version kafkajs sent in the tests above is one the broker serves', () => {
    const { traffic } = brokerFor(version);
    expect(traffic.served.size, 'the broker answered ApiVersions').toBeGreaterThan(0);
    const outside = [...traffic.sent].flatMap(([api, [key, sent]]) => {
      const served = traffic.served.get(key);
      if (served !== undefined && served.min <= sent && sent <= served.max) return [];
      return [`${api}: the broker serves ${served ? `v${String(served.min)}-v${String(served.max)}` : 'none'}`];
    });
    expect(outside).toEqual([]);
  });
});
