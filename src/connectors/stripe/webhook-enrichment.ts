import type { Kafka } from 'kafkajs';
import { createSchemaRegistry, jsonSerde, registrySerde } from '../../adapters/kafka/record-serde.js';
import { topicCatalogue, topicName } from '../../adapters/kafka/topic-catalogue.js';
import { createStripeApi, DEFAULT_STRIPE_BACKFILL_RATE } from '../../backfill/stripe/stripe-api.js';
import { TokenBucket } from '../../backfill/token-bucket.js';
import type { EnvConfig } from '../../config/env.js';
import { deadLetterSchema } from '../../records/dead-letter.js';
import { ChargeCustomerResolver, stripeChargeLookup } from './charge-customer-resolver.js';
import { KafkaDeadLetterSink } from './dead-letter-sink.js';

/** What stripeWebhookRoute needs beyond the publisher to keep events that carry no customer. */
export interface StripeWebhookEnrichment {
  /** Undefined without STRIPE_API_KEY: disputes with an unexpanded charge then go to the dead-letter topic. */
  readonly chargeCustomers: ChargeCustomerResolver | undefined;
  readonly deadLetters: { readonly sink: KafkaDeadLetterSink; readonly topic: string };
  close(): Promise<void>;
}

/**
 * The connector's dispute resolution and dead-letter topic, from the environment: a charge lookup through the
 * Stripe API when STRIPE_API_KEY is set (rate-limited to Stripe's per-endpoint default, one retry, a 5 s timeout so
 * the webhook still answers in time), and a dead-letter producer on the dlq topic in the configured record format.
 */
export async function openStripeWebhookEnrichment(env: EnvConfig, kafka: Kafka): Promise<StripeWebhookEnrichment> {
  const topic = topicName(topicCatalogue({ prefix: env.kafka.topicPrefix }), 'dlq');
  const serde =
    env.schemaRegistry === undefined
      ? jsonSerde('io.personastream.DeadLetter', deadLetterSchema)
      : await registrySerde(
          createSchemaRegistry(env.schemaRegistry),
          topic,
          'io.personastream.DeadLetter',
          deadLetterSchema,
        );
  const sink = new KafkaDeadLetterSink(kafka, serde, { idempotent: env.kafka.idempotent });
  await sink.connect();
  const apiKey = env.stripe.apiKey;
  const chargeCustomers =
    apiKey === undefined
      ? undefined
      : new ChargeCustomerResolver(
          stripeChargeLookup(
            createStripeApi({
              apiKey,
              apiUrl: env.stripe.apiUrl,
              bucket: new TokenBucket(env.stripe.backfillRatePerSecond ?? DEFAULT_STRIPE_BACKFILL_RATE),
              maxNetworkRetries: 1,
              maxRateLimitRetries: 1,
              timeoutMs: 5_000,
            }),
          ),
        );
  return { chargeCustomers, deadLetters: { sink, topic }, close: () => sink.disconnect() };
}
