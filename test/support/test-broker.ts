import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { waitForTopicsServing } from '../../src/adapters/kafka/topics-serving.js';
import { startLocalBroker, type LocalBroker } from '../../src/local-broker/local-broker.js';
import { startApacheKafka, type ApacheKafka } from '../../src/local-kafka/apache-kafka.js';
import type { SharedKafka } from './shared-kafka.js';

/**
 * The Kafka a test runs against. By default the one real broker this test run shares (started once by the global
 * setup in shared-kafka.ts: KAFKA_BROKERS, else a Docker engine's, else a local Apache Kafka from Maven Central);
 * tests keep apart by the topic prefix and group ids each call gets. `dedicated` starts a local Apache Kafka of the
 * test's own, for tests that stop, freeze or restart the broker. `needsFaults` takes librdkafka's mock cluster, for
 * the faults a real broker cannot be made to show. Nothing here skips: a broker that cannot start fails the test.
 */
export interface TestBroker {
  readonly kind: SharedKafka['kind'] | 'mock';
  /** The broker's Kafka version, where known. */
  readonly version: string | undefined;
  readonly bootstrapServers: readonly string[];
  /** Unique per call: prefix topic names, group ids and transactional ids with it so tests never collide. */
  readonly prefix: string;
  /** A real Confluent-compatible Schema Registry next to this broker, where there is one. */
  readonly schemaRegistryUrl: string | undefined;
  createTopics(topics: readonly TestTopic[]): Promise<void>;
  /** Broker fault injection: the mock broker only. */
  readonly faults: Pick<LocalBroker, 'setBrokerDown' | 'setBrokerUp' | 'setRoundTripTime' | 'failRequests'> | undefined;
  /** The broker process itself (pause, kill, restart): a dedicated local Apache Kafka only. */
  readonly process: ApacheKafka | undefined;
  /** Stops a broker started for this call; leaves the shared one running. */
  stop(): Promise<void>;
}

export interface TestTopic {
  readonly name: string;
  readonly partitions: number;
  readonly compacted?: boolean;
}

export interface TestBrokerOptions {
  readonly topics?: readonly TestTopic[];
  /** Mock broker only: how many brokers in the cluster. */
  readonly brokers?: number;
  /** The test injects faults only the mock broker can show (say which in the test). */
  readonly needsFaults?: boolean;
  /** The test stops, freezes or restarts the broker: a local Apache Kafka of its own. */
  readonly dedicated?: boolean;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  if (options.needsFaults) return startMockBroker(options);
  if (options.dedicated) {
    const kafka = await startApacheKafka();
    return realBroker(
      { kind: 'apache-kafka', version: kafka.version, bootstrapServers: kafka.bootstrapServers },
      options,
      kafka,
      () => kafka.stop(),
    );
  }
  return realBroker(inject('sharedKafka'), options, undefined, async () => {});
}

async function startMockBroker(options: TestBrokerOptions): Promise<TestBroker> {
  const broker = await startLocalBroker({
    brokers: options.brokers ?? 1,
    topics: (options.topics ?? []).map(({ name, partitions }) => ({ name, partitions })),
  });
  return {
    kind: 'mock',
    version: undefined,
    bootstrapServers: broker.bootstrapServers,
    prefix: '',
    schemaRegistryUrl: undefined,
    createTopics: async (topics) => {
      for (const topic of topics) await broker.createTopic(topic.name, topic.partitions);
    },
    faults: broker,
    process: undefined,
    stop: () => broker.stop(),
  };
}

async function realBroker(
  shared: SharedKafka,
  options: TestBrokerOptions,
  process: ApacheKafka | undefined,
  stop: () => Promise<void>,
): Promise<TestBroker> {
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const createTopics = (topics: readonly TestTopic[]) => createRealTopics(shared.bootstrapServers, topics);
  // Topics named in the options are created under their given names: callers that share a cluster prefix them.
  if (options.topics !== undefined && options.topics.length > 0) await createTopics(options.topics);
  return {
    kind: shared.kind,
    version: shared.version,
    bootstrapServers: shared.bootstrapServers,
    prefix,
    schemaRegistryUrl: shared.schemaRegistryUrl,
    createTopics,
    faults: undefined,
    process,
    stop,
  };
}

export async function createRealTopics(
  bootstrapServers: readonly string[],
  topics: readonly TestTopic[],
): Promise<void> {
  const admin = new Kafka({ brokers: [...bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // Not kafkajs' waitForLeaders: it gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers for a moment.
    await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: -1,
        configEntries: topic.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
    await waitForTopicsServing(
      admin,
      topics.map((topic) => topic.name),
    );
  } finally {
    await admin.disconnect();
  }
}
