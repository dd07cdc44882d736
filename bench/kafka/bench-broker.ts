import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { startLocalBroker } from '../../src/local-broker/local-broker.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export interface BenchTopic {
  readonly name: string;
  readonly partitions: number;
  readonly compacted?: boolean;
}

/**
 * The broker a scenario runs against: the cluster in KAFKA_BROKERS when given, else a fresh librdkafka mock
 * broker per scenario (it keeps everything in memory, so each scenario starts empty and frees its data at the end).
 */
export interface BenchBroker {
  readonly kind: 'mock' | 'external';
  readonly bootstrapServers: readonly string[];
  /** Unique per scenario: every topic and group name starts with it, so runs on a shared cluster never collide. */
  readonly prefix: string;
  /** A client that logs nothing: the figures are the output. */
  readonly kafka: Kafka;
  createTopics(topics: readonly BenchTopic[]): Promise<void>;
  /** Mock: stops the broker. External: deletes the topics this scenario created. */
  stop(): Promise<void>;
}

/**
 * The mock keeps at most 5 MiB (or 100k batches) per partition and silently drops older data: the partitions a
 * topic of `bytes` needs there, with headroom. A real cluster keeps what it is given, so `minimum` is enough.
 */
export function partitionsFor(broker: Pick<BenchBroker, 'kind'>, bytes: number, minimum: number): number {
  if (broker.kind === 'external') return minimum;
  return Math.max(minimum, Math.ceil(bytes / (3 * 2 ** 20)));
}

export async function startBenchBroker(externalBrokers: readonly string[] | undefined): Promise<BenchBroker> {
  const prefix = `bench.${randomBytes(3).toString('hex')}.`;
  if (externalBrokers !== undefined && externalBrokers.length > 0) {
    const kafka = new KafkaClient({ brokers: [...externalBrokers], logLevel: logLevel.NOTHING });
    const created: string[] = [];
    const admin = () => kafka.admin();
    return {
      kind: 'external',
      bootstrapServers: externalBrokers,
      prefix,
      kafka,
      createTopics: async (topics) => {
        const client = admin();
        await client.connect();
        try {
          await client.createTopics({
            waitForLeaders: true,
            topics: topics.map((topic) => ({
              topic: topic.name,
              numPartitions: topic.partitions,
              replicationFactor: -1,
              configEntries: topic.compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
            })),
          });
          created.push(...topics.map((topic) => topic.name));
        } finally {
          await client.disconnect();
        }
      },
      stop: async () => {
        if (created.length === 0) return;
        const client = admin();
        await client.connect();
        try {
          await client.deleteTopics({ topics: created });
        } finally {
          await client.disconnect();
        }
      },
    };
  }
  const broker = await startLocalBroker();
  return {
    kind: 'mock',
    bootstrapServers: broker.bootstrapServers,
    prefix,
    kafka: new KafkaClient({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING }),
    createTopics: async (topics) => {
      for (const topic of topics) await broker.createTopic(topic.name, topic.partitions);
    },
    stop: () => broker.stop(),
  };
}
