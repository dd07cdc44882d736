import type { Kafka } from 'kafkajs';
import { loadEnv, type EnvConfig } from '../../src/config/env.js';
import type { Pipeline } from '../../src/domain/pipeline/pipeline.js';
import { createLogger } from '../../src/log/logger.js';
import { localTopics } from '../../src/adapters/kafka/topic-catalogue.js';
import { createRuntime, topicNames, type Runtime, type TopicNames } from '../../src/roles/runtime.js';
import type { BenchBroker } from './bench-broker.js';

/** Errors only, on stderr: stdout carries the table or the JSON record. */
export const benchLogger = createLogger({ level: 'error', name: 'bench', destination: process.stderr });

export interface BenchRuntimeSettings {
  /** STATE_DIR; unset → the runtime's default (a replay makes its own). */
  readonly stateDir?: string;
  /** A replay's fresh state generation: its own consumer group and changelog topic. */
  readonly generation: number;
  /** Variables of src/config/env.ts on top of the bench's (broker, prefix, state dir, no wall-clock tick). */
  readonly env?: Readonly<Record<string, string>>;
  /** Instead of the broker's own client (a watched one). */
  readonly kafka?: Kafka;
  /** Instead of the default pipeline. */
  readonly pipeline?: Pipeline;
}

/** The configuration a deployment on this broker would load from its environment variables. */
export function benchEnv(
  broker: BenchBroker,
  settings: Pick<BenchRuntimeSettings, 'stateDir' | 'generation' | 'env'>,
): EnvConfig {
  return loadEnv({
    KAFKA_BROKERS: broker.bootstrapServers.join(','),
    KAFKA_TOPIC_PREFIX: broker.prefix,
    KAFKA_CLIENT_ID: 'persona-stream-bench',
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    // librdkafka's mock cluster cannot hand out producer ids.
    KAFKA_IDEMPOTENT: String(broker.identity.kind !== 'mock'),
    ...(settings.stateDir === undefined ? {} : { STATE_DIR: settings.stateDir }),
    STATE_GENERATION: String(settings.generation),
    PROCESSOR_CLOCK_TICK_MS: '0',
    LOG_LEVEL: 'error',
    ...settings.env,
  });
}

/** The runtime every role gets from the CLI, built from environment variables as a deployment's would be. */
export async function benchRuntime(broker: BenchBroker, settings: BenchRuntimeSettings): Promise<Runtime> {
  const env = benchEnv(broker, settings);
  const runtime = await createRuntime(env, benchLogger, { kafka: settings.kafka ?? broker.kafka });
  return settings.pipeline === undefined ? runtime : { ...runtime, pipeline: settings.pipeline };
}

/** Every topic a runtime's roles use, under the broker's prefix, created with `partitions` (the one-partition topics stay at one). */
export async function createRuntimeTopics(broker: BenchBroker, partitions: number): Promise<TopicNames> {
  await broker.createTopics(localTopics(broker.prefix, partitions));
  return topicNames(broker.prefix, 0);
}
