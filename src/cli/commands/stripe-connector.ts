import { startHttpServer } from '../../adapters/http/http-server.js';
import { EventPublisher } from '../../adapters/kafka/event-publisher.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { createSchemaRegistry, jsonSerde, registrySerde } from '../../adapters/kafka/record-serde.js';
import { topicCatalogue, topicName } from '../../adapters/kafka/topic-catalogue.js';
import { loadEnv } from '../../config/env.js';
import { stripeWebhookRoute } from '../../connectors/stripe/stripe-connector.js';
import { createLogger } from '../../log/logger.js';
import { canonicalEventSchema } from '../../records/canonical-event.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0)
    throw new UsageError('stripe-connector takes no arguments; it is configured by environment variables');
  const env = loadEnv(io.env);
  if (env.stripe.webhookSecrets.length === 0) {
    throw new Error('STRIPE_WEBHOOK_SECRET is not set: the connector verifies every webhook with it (whsec_…)');
  }
  const logger = createLogger({ level: env.logLevel, name: 'stripe-connector' });
  const kafka = createKafka(env.kafka, logger);
  const topic = topicName(topicCatalogue({ prefix: env.kafka.topicPrefix }), 'stripe-events');
  const serde =
    env.schemaRegistry === undefined
      ? jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema)
      : await registrySerde(
          createSchemaRegistry(env.schemaRegistry),
          topic,
          'io.personastream.CanonicalEvent',
          canonicalEventSchema,
        );
  const publisher = new EventPublisher(kafka, serde);
  await publisher.connect();
  const server = await startHttpServer(
    [stripeWebhookRoute({ publisher, topic, webhookSecrets: env.stripe.webhookSecrets, logger, now: io.now })],
    env.httpPort,
    logger,
  );
  logger.info({ port: server.port, topic, serde: serde.format }, 'stripe connector listening');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('draining: no new webhooks, finishing open requests');
  await server.close();
  await publisher.disconnect();
  logger.info('stopped');
  return 0;
}

export const stripeConnectorCommand: Command = {
  name: 'stripe-connector',
  usage: 'stripe-connector',
  summary:
    'HTTP server: POST /webhooks/stripe (Stripe-Signature verified) → stripe.events, 200 only after the broker acked',
  run,
};
