import { performance } from 'node:perf_hooks';
import { startApacheKafka, type ApacheKafka } from '../../src/local-kafka/apache-kafka.js';
import { kafkaVersion } from '../../src/local-kafka/kafka-version.js';
import { realScenarioBroker, startMockScenarioBroker, type BenchBroker } from './bench-broker.js';
import { apacheKafkaIdentity, EXTERNAL_IDENTITY, MOCK_IDENTITY, type BrokerIdentity } from './broker-identity.js';

/** Where the Kafka scenarios of a run go (`--broker`, KAFKA_BROKERS). */
export type BrokerTarget =
  | {
      readonly kind: 'apache-kafka';
      /** A broker of its own per scenario instead of one for the run (`--kafka-per-scenario`). */
      readonly perScenario: boolean;
    }
  | { readonly kind: 'mock' }
  | { readonly kind: 'external'; readonly bootstrapServers: readonly string[] };

/** The run's broker of one kind: hands each scenario its broker, and stops what it started at the end. */
export interface BenchCluster {
  readonly identity: BrokerIdentity;
  /** How scenarios share it, for the header. */
  readonly setup: string;
  scenarioBroker(): Promise<BenchBroker>;
  close(): Promise<void>;
}

export function benchCluster(target: BrokerTarget, log: (line: string) => void): BenchCluster {
  switch (target.kind) {
    case 'mock':
      return {
        identity: MOCK_IDENTITY,
        setup: 'a fresh mock per scenario',
        scenarioBroker: () => startMockScenarioBroker(MOCK_IDENTITY),
        close: () => Promise.resolve(),
      };
    case 'external':
      return {
        identity: EXTERNAL_IDENTITY,
        setup: `${target.bootstrapServers.join(',')}, a topic prefix per scenario`,
        scenarioBroker: () => Promise.resolve(realScenarioBroker(EXTERNAL_IDENTITY, target.bootstrapServers)),
        close: () => Promise.resolve(),
      };
    case 'apache-kafka':
      return target.perScenario ? kafkaPerScenario(log) : kafkaForTheRun(log);
  }
}

/** One local Apache Kafka for the whole run, started when the first scenario needs it. */
function kafkaForTheRun(log: (line: string) => void): BenchCluster {
  const identity = apacheKafkaIdentity(kafkaVersion());
  let started: Promise<ApacheKafka> | undefined;
  return {
    identity,
    setup: 'one local KRaft node for the run, a topic prefix per scenario',
    scenarioBroker: async () => {
      started ??= startLogged(log);
      return realScenarioBroker(identity, (await started).bootstrapServers);
    },
    close: async () => {
      const kafka = await started?.catch(() => undefined);
      await kafka?.stop();
    },
  };
}

function kafkaPerScenario(log: (line: string) => void): BenchCluster {
  const identity = apacheKafkaIdentity(kafkaVersion());
  return {
    identity,
    setup: 'a local KRaft node per scenario',
    scenarioBroker: async () => {
      const kafka = await startLogged(log);
      return { ...realScenarioBroker(identity, kafka.bootstrapServers), stop: () => kafka.stop() };
    },
    close: () => Promise.resolve(),
  };
}

async function startLogged(log: (line: string) => void): Promise<ApacheKafka> {
  const started = performance.now();
  const kafka = await startApacheKafka({ onProgress: log });
  log(
    `Apache Kafka ${kafka.version} (local KRaft node) up at ${kafka.bootstrapServers.join(',')} in ${((performance.now() - started) / 1_000).toFixed(1)} s`,
  );
  return kafka;
}
