import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/adapters/http/http-server.js';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { createStripeApi } from '../../src/backfill/stripe/stripe-api.js';
import { TokenBucket } from '../../src/backfill/token-bucket.js';
import { loadEnv } from '../../src/config/env.js';
import { ChargeCustomerResolver, stripeChargeLookup } from '../../src/connectors/stripe/charge-customer-resolver.js';
import { stripeWebhookRoute, type StripeConnectorOptions } from '../../src/connectors/stripe/stripe-connector.js';
import {
  openStripeWebhookEnrichment,
  type StripeWebhookEnrichment,
} from '../../src/connectors/stripe/webhook-enrichment.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { deadLetterSchema, type DeadLetter } from '../../src/records/dead-letter.js';
import { chargeObject, startFakeStripeApi, type FakeStripeApi } from '../support/fake-stripe-api.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const LOOPBACK = { port: 0, host: '127.0.0.1' };

const SECRET = 'whsec_test_disputes';
const eventSerde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const letterSerde = jsonSerde('io.personastream.DeadLetter', deadLetterSchema);
const logger = createLogger({ level: 'silent', name: 'dispute-test' });
const disputeFixture = readFileSync(
  fileURLToPath(new URL('../fixtures/stripe/dispute-created-charge-id.json', import.meta.url)),
  'utf8',
);

/** The fixture (charge ch_1Disputed, not expanded) under another event id, type and charge. */
function disputeEvent(eventId: string, chargeId: string, type = 'charge.dispute.created'): string {
  const event = JSON.parse(disputeFixture) as { id: string; type: string; data: { object: { charge: string } } };
  event.id = eventId;
  event.type = type;
  event.data.object.charge = chargeId;
  return JSON.stringify(event);
}

async function post(port: number, body: string) {
  const response = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let broker: TestBroker;
let kafka: Kafka;
let publisher: EventPublisher;
let fake: FakeStripeApi;
let enrichment: StripeWebhookEnrichment;
const servers: RunningServer[] = [];
const prefix = () => `${broker.prefix}disputes.`;
const eventsTopic = () => `${prefix()}stripe.events`;
const dlqTopic = () => `${prefix()}dlq`;

async function serve(extra: Partial<StripeConnectorOptions>): Promise<number> {
  const server = await startHttpServer(
    [
      stripeWebhookRoute({
        publisher,
        topic: eventsTopic(),
        webhookSecrets: [SECRET],
        logger,
        now: Date.now,
        ...extra,
      }),
    ],
    LOOPBACK,
    logger,
  );
  servers.push(server);
  return server.port;
}

async function readAll<T>(topic: string, decode: (bytes: Buffer) => Promise<T>): Promise<{ key: string; value: T }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const records: { key: string; value: T }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            records.push({ key: message.key?.toString() ?? '', value: await decode(message.value ?? Buffer.alloc(0)) });
            if (records.length === total) resolve();
          },
        })
        .catch(reject);
    });
    return records;
  } finally {
    await consumer.disconnect();
  }
}

beforeAll(async () => {
  broker = await startTestBroker();
  await broker.createTopics([
    { name: eventsTopic(), partitions: 3 },
    { name: dlqTopic(), partitions: 1 },
  ]);
  kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  publisher = new EventPublisher(kafka, eventSerde);
  await publisher.connect();
  fake = await startFakeStripeApi({
    data: {
      charges: [
        chargeObject('ch_1Disputed', 'cus_Resolved', 1_767_200_000),
        chargeObject('ch_guest', null, 1_767_200_000),
      ],
    },
  });
  // The connector's wiring from the environment: charge lookups against the fake, dead letters on <prefix>dlq.
  enrichment = await openStripeWebhookEnrichment(
    loadEnv({
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix(),
      STRIPE_API_KEY: fake.apiKey,
      STRIPE_API_URL: fake.url,
    }),
    kafka,
  );
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await enrichment.close();
  await publisher.disconnect();
  await fake.close();
  await broker.stop();
});

describe('stripe connector: disputes whose charge is not expanded', () => {
  it('fetches the charge once, publishes the dispute keyed by its customer, and dead-letters what has no customer', async () => {
    const port = await serve({ chargeCustomers: enrichment.chargeCustomers, deadLetters: enrichment.deadLetters });
    expect(await post(port, disputeEvent('evt_d1', 'ch_1Disputed'))).toEqual({ status: 200, body: { received: true } });
    expect(await post(port, disputeEvent('evt_d2', 'ch_1Disputed', 'charge.dispute.closed'))).toEqual({
      status: 200,
      body: { received: true },
    });
    expect(fake.requests.filter((request) => request.path === '/v1/charges/ch_1Disputed')).toHaveLength(1);

    const guest = disputeEvent('evt_d3', 'ch_guest');
    const unknown = disputeEvent('evt_d4', 'ch_nope');
    expect(await post(port, guest)).toEqual({ status: 200, body: { received: true, dead_lettered: true } });
    expect(await post(port, unknown)).toEqual({ status: 200, body: { received: true, dead_lettered: true } });

    const published = await readAll<CanonicalEvent>(eventsTopic(), (bytes) => eventSerde.decode(bytes));
    expect(published.map(({ key, value }) => [key, value.event_id, value.type])).toEqual(
      expect.arrayContaining([
        ['cus_Resolved', 'evt_d1', 'charge.dispute.created'],
        ['cus_Resolved', 'evt_d2', 'charge.dispute.closed'],
      ]),
    );
    const letters = await readAll<DeadLetter>(dlqTopic(), (bytes) => letterSerde.decode(bytes));
    expect(letters.map(({ key, value }) => [key, value.error_code, value.reason, value.topic])).toEqual([
      [
        'evt_d3',
        'missing_customer',
        'the disputed charge ch_guest has no customer (or does not exist)',
        'webhook:/webhooks/stripe',
      ],
      [
        'evt_d4',
        'missing_customer',
        'the disputed charge ch_nope has no customer (or does not exist)',
        'webhook:/webhooks/stripe',
      ],
    ]);
    expect(Buffer.from(letters[0]!.value.value!, 'base64').toString('utf8')).toBe(guest);
  }, 60_000);

  it('without STRIPE_API_KEY keeps the dispute on the dead-letter topic and answers 200', async () => {
    const port = await serve({ deadLetters: enrichment.deadLetters });
    const before = (await readAll<DeadLetter>(dlqTopic(), (bytes) => letterSerde.decode(bytes))).length;
    expect(await post(port, disputeEvent('evt_nokey', 'ch_1Disputed'))).toEqual({
      status: 200,
      body: { received: true, dead_lettered: true },
    });
    const letters = await readAll<DeadLetter>(dlqTopic(), (bytes) => letterSerde.decode(bytes));
    expect(letters).toHaveLength(before + 1);
    expect(letters.at(-1)).toMatchObject({
      key: 'evt_nokey',
      value: {
        error_code: 'missing_customer',
        reason:
          'data.object.charge: dispute carries charge ch_1Disputed unexpanded: fetch the charge for its customer ' +
          '(event evt_nokey) (no STRIPE_API_KEY to fetch the charge with)',
      },
    });
  }, 60_000);

  it('answers 503 when the charge cannot be fetched, so Stripe delivers the dispute again', async () => {
    const unreachable = new ChargeCustomerResolver(
      stripeChargeLookup(
        createStripeApi({
          apiKey: fake.apiKey,
          apiUrl: 'http://127.0.0.1:1',
          bucket: new TokenBucket(100),
          maxNetworkRetries: 0,
        }),
      ),
    );
    const port = await serve({ chargeCustomers: unreachable, deadLetters: enrichment.deadLetters });
    expect(await post(port, disputeEvent('evt_down', 'ch_1Disputed'))).toEqual({
      status: 503,
      body: { error: 'the disputed charge could not be fetched; retry later' },
    });
  });
});
