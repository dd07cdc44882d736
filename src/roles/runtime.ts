import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { createSchemaRegistry, jsonSerde, registrySerde, type RecordSerde } from '../adapters/kafka/record-serde.js';
import { topicCatalogue, topicName, type TopicRole } from '../adapters/kafka/topic-catalogue.js';
import { HealthRegistry } from '../adapters/health/health-registry.js';
import { createMetrics, type Metrics } from '../adapters/metrics/metrics.js';
import { startOpsServer } from '../adapters/http/ops-server.js';
import type { RunningServer } from '../adapters/http/http-server.js';
import type { EnvConfig } from '../config/env.js';
import { loadPipelineConfig } from '../config/pipeline-file.js';
import { createPipeline, type Pipeline } from '../domain/pipeline/pipeline.js';
import type { Logger } from '../log/logger.js';
import { canonicalEventSchema, type CanonicalEvent } from '../records/canonical-event.js';
import { deadLetterSchema, type DeadLetter } from '../records/dead-letter.js';
import { personaRegistryEntrySchema, type PersonaRegistryEntry } from '../records/persona-registry.js';
import { personaUpdateSchema, type PersonaUpdate } from '../records/persona-update.js';
import { profileRecordSchema, type ProfileRecord } from '../records/profile-record.js';
import type { z } from 'zod';
import type { RecordName } from '../records/schema-catalog.js';

/** Every topic name a role uses, with the state generation applied to the processor's own topics. */
export interface TopicNames {
  readonly stripeEvents: string;
  readonly segmentEvents: string;
  readonly changelog: string;
  readonly profiles: string;
  readonly personas: string;
  readonly personaUpdates: string;
  readonly deadLetters: string;
  readonly flusherLock: string;
}

export function topicNames(prefix: string, generation: number): TopicNames {
  const catalogue = topicCatalogue({ prefix });
  const name = (role: TopicRole) => topicName(catalogue, role);
  return {
    stripeEvents: name('stripe-events'),
    segmentEvents: name('segment-events'),
    changelog: generation === 0 ? name('state-changelog') : `${name('state-changelog')}.g${String(generation)}`,
    profiles: name('profiles'),
    personas: name('personas'),
    personaUpdates: name('persona-updates'),
    deadLetters: name('dlq'),
    flusherLock: name('flusher-lock'),
  };
}

export interface Serdes {
  readonly event: RecordSerde<CanonicalEvent>;
  readonly profile: RecordSerde<ProfileRecord>;
  readonly deadLetter: RecordSerde<DeadLetter>;
  readonly registry: RecordSerde<PersonaRegistryEntry>;
  readonly update: RecordSerde<PersonaUpdate>;
}

/**
 * The shell every long-running role shares: validated env, logger, Kafka client, topic names, record serdes (Avro
 * through the registry when SCHEMA_REGISTRY_URL is set, else JSON, validated by the same zod types either way),
 * the pipeline, one metrics registry and one health registry per process (so `all` serves one /metrics).
 */
export interface Runtime {
  readonly env: EnvConfig;
  readonly logger: Logger;
  readonly kafka: Kafka;
  readonly topics: TopicNames;
  readonly serdes: Serdes;
  readonly pipeline: Pipeline;
  readonly metrics: Metrics;
  readonly health: HealthRegistry;
  readonly now: () => number;
  /** The processor's consumer group (per state generation). */
  readonly processorGroup: string;
  readonly stateDir: string;
  startOps(): Promise<RunningServer>;
}

export async function createRuntime(
  env: EnvConfig,
  logger: Logger,
  options: { readonly now?: () => number; readonly kafka?: Kafka } = {},
): Promise<Runtime> {
  const kafka = options.kafka ?? createKafka(env.kafka, logger);
  const generation = env.processor.stateGeneration;
  const topics = topicNames(env.kafka.topicPrefix, generation);
  const registry = env.schemaRegistry === undefined ? undefined : createSchemaRegistry(env.schemaRegistry);
  const serde = async <T>(topic: string, recordName: RecordName, schema: z.ZodType<T>): Promise<RecordSerde<T>> =>
    registry === undefined ? jsonSerde(recordName, schema) : registrySerde(registry, topic, recordName, schema);
  const [event, profile, deadLetter, personaRegistry, update] = await Promise.all([
    serde(topics.stripeEvents, 'io.personastream.CanonicalEvent', canonicalEventSchema),
    serde(topics.profiles, 'io.personastream.Profile', profileRecordSchema),
    serde(topics.deadLetters, 'io.personastream.DeadLetter', deadLetterSchema),
    serde(topics.personas, 'io.personastream.PersonaRegistryEntry', personaRegistryEntrySchema),
    serde(topics.personaUpdates, 'io.personastream.PersonaUpdate', personaUpdateSchema),
  ]);
  if (registry !== undefined) {
    // The segment topic carries the same envelope: register it under that topic's subject too.
    await serde(topics.segmentEvents, 'io.personastream.CanonicalEvent', canonicalEventSchema);
  }
  const pipeline = createPipeline(
    await loadPipelineConfig(env.pipelineConfigPath, { reportingCurrency: env.reportingCurrency }),
  );
  const metrics = createMetrics();
  const health = new HealthRegistry();
  const group = `${env.kafka.topicPrefix}processor${generation === 0 ? '' : `.g${String(generation)}`}`;
  return {
    env,
    logger,
    kafka,
    topics,
    serdes: { event, profile, deadLetter, registry: personaRegistry, update },
    pipeline,
    metrics,
    health,
    now: options.now ?? Date.now,
    processorGroup: group,
    // One directory per state generation: a processor switched to generation N+1 must not resume from N's checkpoints.
    stateDir: join(
      env.processor.stateDir ?? join(tmpdir(), 'persona-stream', 'state', env.kafka.clientId),
      `g${String(generation)}`,
    ),
    startOps: () =>
      startOpsServer({
        port: env.metricsPort,
        host: env.metricsHost,
        limits: env.httpLimits,
        bearerToken: env.metricsBearerToken,
        logger,
        metrics,
        checks: health,
      }),
  };
}
