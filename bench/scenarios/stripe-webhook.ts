import { performance } from 'node:perf_hooks';
import kafkajs from 'kafkajs';
import Stripe from 'stripe';
import { startHttpServer } from '../../src/adapters/http/http-server.js';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { stripeWebhookRoute } from '../../src/connectors/stripe/stripe-connector.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { startLocalBroker } from '../../src/local-broker/local-broker.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema } from '../../src/records/canonical-event.js';

const { Kafka, logLevel } = kafkajs;
const SECRET = 'whsec_bench';

export interface WebhookResult {
  readonly scenario: 'stripe-webhook';
  readonly requests: number;
  readonly concurrency: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non200: number;
}

/**
 * Scenario 6 (Stripe half): signed webhooks posted over loopback to the real route, each answered only after the
 * local broker acknowledged the write. `concurrency` requests in flight, as Stripe's parallel deliveries are.
 */
export async function runStripeWebhookScenario(
  options: { readonly requests: number; readonly concurrency: number },
  log: (line: string) => void,
): Promise<WebhookResult> {
  const traffic = generateTraffic({
    seed: 5,
    customers: Math.ceil(options.requests / 8),
    users: 0,
    months: 6,
    start: Date.UTC(2026, 0, 1),
  })
    .filter((event) => event.source === 'stripe')
    .slice(0, options.requests);
  const bodies = traffic.map((event) => {
    const payload = JSON.stringify(event.raw);
    return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
  });
  const broker = await startLocalBroker({ topics: [{ name: 'stripe.events', partitions: 12 }] });
  const logger = createLogger({ level: 'silent', name: 'bench' });
  const kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const publisher = new EventPublisher(kafka, jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema));
  await publisher.connect();
  const server = await startHttpServer(
    [
      stripeWebhookRoute({
        publisher,
        topic: 'stripe.events',
        webhookSecrets: [SECRET],
        logger,
        now: () => Date.now(),
      }),
    ],
    0,
    logger,
  );
  log(`stripe-webhook: ${String(bodies.length)} signed webhooks, ${String(options.concurrency)} in flight`);
  const latencies: number[] = [];
  let non200 = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      if (body === undefined) break;
      const sent = performance.now();
      const response = await fetch(`http://127.0.0.1:${String(server.port)}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': body.signature },
        body: body.payload,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status !== 200) non200++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await server.close();
  await publisher.disconnect();
  await broker.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    scenario: 'stripe-webhook',
    requests: bodies.length,
    concurrency: options.concurrency,
    requestsPerSecond: bodies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    non200,
  };
}
