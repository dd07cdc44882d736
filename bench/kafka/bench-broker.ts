import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import { waitForTopicsReady } from '../../src/demo/topics-ready.js';
import { startLocalBroker } from '../../src/local-broker/local-broker.js';
import type { BrokerIdentity } from './broker-identity.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export interface BenchTopic {
  readonly name: string;
  readonly partitions: number;
  readonly compacted?: boolean;
}

/**
 * The broker one scenario runs against (see bench-cluster.ts for which): a fresh librdkafka mock of its own, or a
 * real cluster shared by the run, on which the scenario's topics and groups carry a prefix of their own and are
 * deleted at the end.
 */
export interface BenchBroker {
  readonly identity: BrokerIdentity;
  readonly bootstrapServers: readonly string[];
  /** Unique per scenario: every topic and group name starts with it, so runs on a shared cluster never collide. */
  readonly prefix: string;
  /** A client that logs nothing: the figures are the output. */
  readonly kafka: Kafka;
  createTopics(topics: readonly BenchTopic[]): Promise<void>;
  /** Mock: stops the broker. Real: deletes every topic and consumer group under the prefix. */
  stop(): Promise<void>;
}

/**
 * The mock keeps at most 5 MiB (or 100k batches) per partition and silently drops older data: the partitions a
 * topic of `bytes` needs there, with headroom. A real broker keeps what it is given, so `minimum` is enough.
 */
export function partitionsFor(broker: Pick<BenchBroker, 'identity'>, bytes: number, minimum: number): number {
  if (broker.identity.kind !== 'mock') return minimum;
  return Math.max(minimum, Math.ceil(bytes / (3 * 2 ** 20)));
}

function newPrefix(): string {
  return `bench.${randomBytes(3).toString('hex')}.`;
}

function quietClient(bootstrapServers: readonly string[]): Kafka {
  return new KafkaClient({ brokers: [...bootstrapServers], logLevel: logLevel.NOTHING });
}

/** A fresh mock broker: it keeps everything in memory, so the scenario starts empty and frees its data at the end. */
export async function startMockScenarioBroker(identity: BrokerIdentity): Promise<BenchBroker> {
  const broker = await startLocalBroker();
  return {
    identity,
    bootstrapServers: broker.bootstrapServers,
    prefix: newPrefix(),
    kafka: quietClient(broker.bootstrapServers),
    createTopics: async (topics) => {
      for (const topic of topics) await broker.createTopic(topic.name, topic.partitions);
    },
    stop: () => broker.stop(),
  };
}

/** A scenario's share of a real cluster: its topics are created through the admin API, as a deployment's are. */
export function realScenarioBroker(identity: BrokerIdentity, bootstrapServers: readonly string[]): BenchBroker {
  const prefix = newPrefix();
  const kafka = quietClient(bootstrapServers);
  const withAdmin = async <T>(work: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  };
  return {
    identity,
    bootstrapServers,
    prefix,
    kafka,
    createTopics: (topics) =>
      withAdmin(async (admin) => {
        await admin.createTopics({
          waitForLeaders: true,
          topics: topics.map((topic) => ({
            topic: topic.name,
            numPartitions: topic.partitions,
            replicationFactor: -1,
            configEntries: topic.compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
          })),
        });
        await waitForTopicsReady(
          admin,
          topics.map((topic) => topic.name),
          { groupId: `${prefix}ready` },
        );
      }),
    // By prefix, not by what createTopics made: a role may create topics of its own.
    stop: () =>
      withAdmin(async (admin) => {
        const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
        if (topics.length > 0) await admin.deleteTopics({ topics });
        const groups = (await admin.listGroups()).groups
          .map((group) => group.groupId)
          .filter((group) => group.startsWith(prefix));
        // A group whose member has not left yet cannot be deleted; it then expires with the offsets retention.
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      }),
  };
}
