import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { startLocalBroker, type LocalBroker } from '../../src/local-broker/local-broker.js';

/**
 * The Kafka a test runs against, chosen in order: `KAFKA_BROKERS` (an external real cluster), a Docker engine
 * (real Apache Kafka + Confluent Schema Registry through testcontainers), else the librdkafka mock broker built
 * from src/local-broker. Nothing here skips: when no broker can be started the test fails (in CI and locally).
 */
export interface TestBroker {
  readonly kind: 'external' | 'testcontainers' | 'mock';
  readonly bootstrapServers: readonly string[];
  /** Unique per broker start: prefix topic names with it so runs against a shared cluster never collide. */
  readonly prefix: string;
  /** A real Confluent Schema Registry (testcontainers only); tests otherwise use the registry double. */
  readonly schemaRegistryUrl: string | undefined;
  createTopics(topics: readonly TestTopic[]): Promise<void>;
  /** Broker fault injection: the mock broker only (undefined on real Kafka). */
  readonly faults: Pick<LocalBroker, 'setBrokerDown' | 'setBrokerUp' | 'setRoundTripTime' | 'failRequests'> | undefined;
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
  /** The test injects broker faults: always the mock broker, whatever else is available. */
  readonly needsFaults?: boolean;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const external = process.env['KAFKA_BROKERS']?.trim();
  if (!options.needsFaults && external !== undefined && external !== '') {
    const bootstrapServers = external.split(',').map((entry) => entry.trim());
    return realBroker('external', bootstrapServers, undefined, options, async () => {});
  }
  if (!options.needsFaults && (await dockerAvailable())) return startContainers(options);
  return startMockBroker(options);
}

async function startMockBroker(options: TestBrokerOptions): Promise<TestBroker> {
  const broker = await startLocalBroker({
    brokers: options.brokers ?? 1,
    topics: (options.topics ?? []).map(({ name, partitions }) => ({ name, partitions })),
  });
  return {
    kind: 'mock',
    bootstrapServers: broker.bootstrapServers,
    prefix: '',
    schemaRegistryUrl: undefined,
    createTopics: async (topics) => {
      for (const topic of topics) await broker.createTopic(topic.name, topic.partitions);
    },
    faults: broker,
    stop: () => broker.stop(),
  };
}

async function realBroker(
  kind: 'external' | 'testcontainers',
  bootstrapServers: readonly string[],
  schemaRegistryUrl: string | undefined,
  options: TestBrokerOptions,
  stopInfrastructure: () => Promise<void>,
): Promise<TestBroker> {
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const kafka = new Kafka({ brokers: [...bootstrapServers], logLevel: logLevel.NOTHING });
  const createTopics = async (topics: readonly TestTopic[]) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions,
          replicationFactor: -1,
          configEntries: topic.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    } finally {
      await admin.disconnect();
    }
  };
  // Topics named in the options are created under their given names: callers that share a cluster prefix them.
  if (options.topics !== undefined && options.topics.length > 0) await createTopics(options.topics);
  return {
    kind,
    bootstrapServers,
    prefix,
    schemaRegistryUrl,
    createTopics,
    faults: undefined,
    stop: stopInfrastructure,
  };
}

let dockerChecked: Promise<boolean> | undefined;

/** Whether a container runtime answers; said once per test process, so a skipped real-Kafka run is visible. */
function dockerAvailable(): Promise<boolean> {
  dockerChecked ??= (async () => {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      return true;
    } catch {
      process.stderr.write(
        'test broker: no Docker engine here, so the real-Kafka (testcontainers) runs are skipped; ' +
          'using the librdkafka mock broker (set KAFKA_BROKERS to use an external cluster)\n',
      );
      return false;
    }
  })();
  return dockerChecked;
}

const KAFKA_IMAGE = 'confluentinc/cp-kafka:7.7.1';
const SCHEMA_REGISTRY_IMAGE = 'confluentinc/cp-schema-registry:7.7.1';

async function startContainers(options: TestBrokerOptions): Promise<TestBroker> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const network = await new Network().start();
  const kafka = await new KafkaContainer(KAFKA_IMAGE)
    .withKraft()
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .start();
  const registry = await new GenericContainer(SCHEMA_REGISTRY_IMAGE)
    .withNetwork(network)
    .withExposedPorts(8081)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
    })
    .withWaitStrategy(Wait.forHttp('/subjects', 8081))
    .start();
  const bootstrap = `${kafka.getHost()}:${String(kafka.getMappedPort(9093))}`;
  const registryUrl = `http://${registry.getHost()}:${String(registry.getMappedPort(8081))}`;
  return realBroker('testcontainers', [bootstrap], registryUrl, options, async () => {
    await registry.stop();
    await kafka.stop();
    await network.stop();
  });
}
