import type { TestProject } from 'vitest/node';
import { startApacheKafka } from '../../src/local-kafka/apache-kafka.js';

/** The one real Kafka a test run shares, as the global setup hands it to the test workers. */
export interface SharedKafka {
  readonly kind: 'external' | 'testcontainers' | 'apache-kafka';
  readonly version: string | undefined;
  readonly bootstrapServers: readonly string[];
  readonly schemaRegistryUrl?: string | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedKafka: SharedKafka;
  }
}

/**
 * Vitest global setup of the integration tests: starts (or finds) the run's real Kafka once and says which, in
 * order: KAFKA_BROKERS (an external cluster), a Docker engine (Apache Kafka through testcontainers), else a local
 * Apache Kafka resolved from Maven Central. A missing JVM or Maven fails the run; there is no silent fall back.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { shared, stop } = await startSharedKafka();
  const where = shared.bootstrapServers.join(',');
  process.stderr.write(
    `test broker: ${describe(shared)} at ${where}` +
      (shared.schemaRegistryUrl === undefined ? '' : `, registry ${shared.schemaRegistryUrl}`) +
      '\n',
  );
  project.provide('sharedKafka', shared);
  return stop;
}

function describe(shared: SharedKafka): string {
  const version = shared.version === undefined ? '' : ` ${shared.version}`;
  switch (shared.kind) {
    case 'external':
      return 'an external cluster (KAFKA_BROKERS)';
    case 'testcontainers':
      return `Apache Kafka${version} in Docker (testcontainers)`;
    case 'apache-kafka':
      return `Apache Kafka${version} (local KRaft broker from Maven Central)`;
  }
}

async function startSharedKafka(): Promise<{ shared: SharedKafka; stop: () => Promise<void> }> {
  const external = process.env['KAFKA_BROKERS']?.trim();
  if (external !== undefined && external !== '') {
    const bootstrapServers = external.split(',').map((entry) => entry.trim());
    return { shared: { kind: 'external', version: undefined, bootstrapServers }, stop: async () => {} };
  }
  if (await dockerAvailable()) return startContainers();
  const kafka = await startApacheKafka({
    onProgress: (line) => process.stderr.write(`test broker: ${line}\n`),
  });
  return {
    shared: { kind: 'apache-kafka', version: kafka.version, bootstrapServers: kafka.bootstrapServers },
    stop: () => kafka.stop(),
  };
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

const KAFKA_IMAGE = 'apache/kafka:4.1.1';
const SCHEMA_REGISTRY_IMAGE = 'confluentinc/cp-schema-registry:7.7.1';

async function startContainers(): Promise<{ shared: SharedKafka; stop: () => Promise<void> }> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const network = await new Network().start();
  const kafka = await new KafkaContainer(KAFKA_IMAGE).withNetwork(network).withNetworkAliases('kafka').start();
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
  return {
    shared: {
      kind: 'testcontainers',
      version: undefined,
      bootstrapServers: [`${kafka.getHost()}:${String(kafka.getMappedPort(9093))}`],
      schemaRegistryUrl: `http://${registry.getHost()}:${String(registry.getMappedPort(8081))}`,
    },
    stop: async () => {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}
