import kafkajs from 'kafkajs';
import { ensureTopics, isProblem } from '../adapters/kafka/topic-admin.js';
import { DEFAULT_EVENT_PARTITIONS, topicCatalogue } from '../adapters/kafka/topic-catalogue.js';
import { LocalBrokerUnavailableError, startLocalBroker } from '../local-broker/local-broker.js';
import { startApacheKafka } from '../local-kafka/apache-kafka.js';
import { LocalInfrastructureUnavailableError } from '../local-kafka/maven.js';
import { waitForTopicsReady } from './topics-ready.js';

const { Kafka, logLevel } = kafkajs;

/**
 * Partitions of the embedded broker's event topics, changelog and profiles, by broker. The processor persists each
 * partition's batch on its own (changelog, profiles, offsets), so more partitions mean more, smaller writes. Apache
 * Kafka hands a consumer up to max.partition.fetch.bytes of a partition per fetch: the catalogue's default is enough,
 * and twice as many cost the demo more CPU (measured). The mock hands out one record batch per partition per fetch,
 * and each Stripe webhook is a batch of its own, so there the processor gets through Stripe events about as fast as
 * there are partitions: twice the default made the demo faster (measured), and its 5 MiB per partition holds more.
 */
export const EMBEDDED_EVENT_PARTITIONS = {
  'apache-kafka': DEFAULT_EVENT_PARTITIONS,
  mock: 2 * DEFAULT_EVENT_PARTITIONS,
} as const;

export type EmbeddedBrokerKind = keyof typeof EMBEDDED_EVENT_PARTITIONS;

export interface EmbeddedBroker {
  readonly kind: EmbeddedBrokerKind;
  /** Which broker runs and, for the mock, why not Apache Kafka: one line for the user. */
  readonly description: string;
  readonly bootstrapServers: readonly string[];
  readonly eventPartitions: number;
  stop(): Promise<void>;
}

/** Neither embedded broker can run here; the message says what each lacks. */
export class EmbeddedBrokerUnavailableError extends Error {
  constructor(apacheKafka: string, mock: string) {
    super(`no embedded broker can run here: Apache Kafka: ${apacheKafka}; librdkafka mock cluster: ${mock}`);
    this.name = 'EmbeddedBrokerUnavailableError';
  }
}

/**
 * The demo's own broker, with every topic of the catalogue under `prefix`: a local Apache Kafka (KRaft) where a JDK
 * and Maven (or an already resolved classpath) are present, else librdkafka's mock cluster, built on first use. The
 * real broker is preferred because it is what the pipeline runs on in production; the mock keeps the demo working
 * on a machine without Java. `onProgress` hears the slow first-run steps (resolving Kafka from Maven Central).
 */
export async function startEmbeddedBroker(prefix: string, onProgress: (line: string) => void): Promise<EmbeddedBroker> {
  let unavailable: string;
  try {
    return await startEmbeddedApacheKafka(prefix, onProgress);
  } catch (error) {
    if (!(error instanceof LocalInfrastructureUnavailableError)) throw error;
    unavailable = firstLine(error.message);
  }
  try {
    return await startEmbeddedMock(prefix, unavailable);
  } catch (error) {
    if (!(error instanceof LocalBrokerUnavailableError)) throw error;
    throw new EmbeddedBrokerUnavailableError(unavailable, firstLine(error.message));
  }
}

async function startEmbeddedApacheKafka(prefix: string, onProgress: (line: string) => void): Promise<EmbeddedBroker> {
  const started = Date.now();
  const kafka = await startApacheKafka({ onProgress });
  const eventPartitions = EMBEDDED_EVENT_PARTITIONS['apache-kafka'];
  try {
    await createEmbeddedTopics(kafka.bootstrapServers, prefix, eventPartitions);
  } catch (error) {
    await kafka.stop();
    throw error;
  }
  return {
    kind: 'apache-kafka',
    description: `Apache Kafka ${kafka.version} (local KRaft node, up in ${((Date.now() - started) / 1_000).toFixed(1)} s)`,
    bootstrapServers: kafka.bootstrapServers,
    eventPartitions,
    stop: () => kafka.stop(),
  };
}

/** The mock does not implement CreateTopics: its topics are created through its own call. */
async function startEmbeddedMock(prefix: string, whyNotApacheKafka: string): Promise<EmbeddedBroker> {
  const eventPartitions = EMBEDDED_EVENT_PARTITIONS.mock;
  const broker = await startLocalBroker({
    topics: topicCatalogue({ prefix, eventPartitions }).map((spec) => ({
      name: spec.name,
      partitions: spec.partitions,
    })),
  });
  return {
    kind: 'mock',
    description: `librdkafka mock cluster (no local Apache Kafka: ${whyNotApacheKafka})`,
    bootstrapServers: broker.bootstrapServers,
    eventPartitions,
    stop: () => broker.stop(),
  };
}

/**
 * Every catalogue topic under `prefix`, created through the admin API with the catalogue's settings (compacted
 * changelog and tables, event topics kept forever), as `topics create` makes them on a deployed cluster.
 */
export async function createEmbeddedTopics(
  bootstrapServers: readonly string[],
  prefix: string,
  eventPartitions: number,
): Promise<void> {
  const admin = new Kafka({
    brokers: [...bootstrapServers],
    clientId: 'persona-stream-demo',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const catalogue = topicCatalogue({ prefix, eventPartitions });
    const problems = (await ensureTopics(admin, catalogue)).filter(isProblem);
    if (problems.length > 0) {
      throw new Error(`the local Apache Kafka did not create the demo's topics: ${JSON.stringify(problems)}`);
    }
    await waitForTopicsReady(
      admin,
      catalogue.map((spec) => spec.name),
      { groupId: `${prefix}ready` },
    );
  } finally {
    await admin.disconnect();
  }
}

/** Maven's and the JVM's failures run over many lines; the demo says why in one. */
function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? text;
}
