import type { Kafka } from 'kafkajs';
import { EventPublisher } from '../adapters/kafka/event-publisher.js';
import { createSchemaRegistry, jsonSerde, registrySerde } from '../adapters/kafka/record-serde.js';
import type { EnvConfig } from '../config/env.js';
import { canonicalEventSchema } from '../records/canonical-event.js';

/**
 * A connected publisher of canonical events to `topic`, in the record format the connectors use: Confluent wire
 * format through the registry when SCHEMA_REGISTRY_URL is set, JSON otherwise. The caller disconnects it.
 */
export async function openCanonicalPublisher(env: EnvConfig, kafka: Kafka, topic: string): Promise<EventPublisher> {
  const serde =
    env.schemaRegistry === undefined
      ? jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema)
      : await registrySerde(
          createSchemaRegistry(env.schemaRegistry),
          topic,
          'io.personastream.CanonicalEvent',
          canonicalEventSchema,
        );
  // Backfill pages are large and nothing waits on them the way a webhook does: more time per send than the default.
  const publisher = new EventPublisher(kafka, serde, { timeoutMs: 30_000, idempotent: env.kafka.idempotent });
  await publisher.connect();
  return publisher;
}
